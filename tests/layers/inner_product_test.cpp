#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "gradient_checker.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

std::string IpText(const std::string& param) {
  return "name: 'ip' type: 'InnerProduct' inner_product_param { " + param +
         " weight_filler { type: 'gaussian' std: 0.5 } bias_filler { type: 'uniform' min: -1 "
         "max: 1 } }";
}

/// y[m][n] = b[n] + sum_k x[m][k] * W(n, k), with W stored (N, K) or, transposed, (K, N).
template <typename Dtype>
std::vector<double> DirectInnerProduct(const Blob<Dtype>& x, int M, int K, int N,
                                       const Blob<Dtype>& weights, const Blob<Dtype>* bias,
                                       bool transpose) {
  std::vector<double> y(M * N);
  const Dtype* w = weights.cpu_data();
  for (int m = 0; m < M; ++m) {
    for (int n = 0; n < N; ++n) {
      double sum = bias ? bias->cpu_data()[n] : 0.0;
      for (int k = 0; k < K; ++k) {
        sum += static_cast<double>(x.cpu_data()[m * K + k]) *
               (transpose ? w[k * N + n] : w[n * K + k]);
      }
      y[m * N + n] = sum;
    }
  }
  return y;
}

template <typename Dtype>
class InnerProductTest : public ::testing::Test {
 protected:
  void CheckForward(const std::vector<int>& bottom_shape, const std::string& param, int M, int K,
                    int N, bool transpose, const std::vector<int>& top_shape) {
    Blob<Dtype> bottom(bottom_shape);
    FillUniform<Dtype>(&bottom, -1, 1);
    Blob<Dtype> top;
    auto layer = MakeLayer<Dtype>(IpText(param), &context_);
    layer->SetUp({&bottom}, {&top});
    layer->Forward({&bottom}, {&top});
    EXPECT_EQ(top.shape(), top_shape);
    EXPECT_EQ(layer->blobs()[0]->shape(),
              transpose ? (std::vector<int>{K, N}) : (std::vector<int>{N, K}));
    const Blob<Dtype>* bias = layer->blobs().size() > 1 ? layer->blobs()[1].get() : nullptr;
    const std::vector<double> expected =
        DirectInnerProduct(bottom, M, K, N, *layer->blobs()[0], bias, transpose);
    const double tol = std::is_same<Dtype, float>::value ? 1e-5 : 1e-12;
    for (int i = 0; i < top.count(); ++i) {
      ASSERT_NEAR(top.cpu_data()[i], expected[i], tol * std::max(1.0, std::fabs(expected[i])))
          << "element " << i;
    }
  }

  Context context_;
};
TYPED_TEST_SUITE(InnerProductTest, TestDtypes);

TYPED_TEST(InnerProductTest, ForwardFlattensFromAxisOne) {
  this->CheckForward({2, 3, 2, 5}, "num_output: 7", 2, 30, 7, false, {2, 7});
}

TYPED_TEST(InnerProductTest, ForwardBatchOneNoBias) {
  this->CheckForward({1, 9}, "num_output: 4 bias_term: false", 1, 9, 4, false, {1, 4});
}

TYPED_TEST(InnerProductTest, ForwardAxisTwo) {
  this->CheckForward({2, 3, 4, 5}, "num_output: 3 axis: 2", 6, 20, 3, false, {2, 3, 3});
  this->CheckForward({2, 3, 4, 5}, "num_output: 3 axis: -1", 24, 5, 3, false, {2, 3, 4, 3});
}

TYPED_TEST(InnerProductTest, ForwardTranspose) {
  this->CheckForward({3, 2, 3}, "num_output: 5 transpose: true", 3, 6, 5, true, {3, 5});
}

TYPED_TEST(InnerProductTest, TransposeStoresTheSameMatrixTransposed) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom({4, 6});
  FillUniform<Dtype>(&bottom, -1, 1);
  Blob<Dtype> top, top_t;
  auto layer = MakeLayer<Dtype>(IpText("num_output: 3"), &this->context_);
  auto layer_t = MakeLayer<Dtype>(IpText("num_output: 3 transpose: true"), &this->context_);
  layer->SetUp({&bottom}, {&top});
  layer_t->SetUp({&bottom}, {&top_t});
  const Dtype* w = layer->blobs()[0]->cpu_data();
  Dtype* w_t = layer_t->blobs()[0]->mutable_cpu_data();
  for (int n = 0; n < 3; ++n) {
    for (int k = 0; k < 6; ++k) w_t[k * 3 + n] = w[n * 6 + k];
  }
  layer_t->blobs()[1]->CopyFrom(*layer->blobs()[1]);
  layer->Forward({&bottom}, {&top});
  layer_t->Forward({&bottom}, {&top_t});
  for (int i = 0; i < top.count(); ++i) EXPECT_NEAR(top.cpu_data()[i], top_t.cpu_data()[i], 1e-6);
}

TYPED_TEST(InnerProductTest, RejectsChangedInputSize) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom({2, 3, 4});
  Blob<Dtype> top;
  auto layer = MakeLayer<Dtype>(IpText("num_output: 2"), &this->context_);
  layer->SetUp({&bottom}, {&top});
  Blob<Dtype> other({2, 3, 5});
  EXPECT_THROW(layer->Forward({&other}, {&top}), ShapeError);
  // A different batch size with the same row length is fine.
  Blob<Dtype> batch({5, 12});
  layer->Forward({&batch}, {&top});
  EXPECT_EQ(top.shape(), (std::vector<int>{5, 2}));
  auto none = MakeLayer<Dtype>("name: 'ip' type: 'InnerProduct'", &this->context_);
  EXPECT_THROW(none->SetUp({&bottom}, {&top}), ConfigError);
}

TYPED_TEST(InnerProductTest, Gradient) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(2, 3, 2, 1);
  FillUniform<Dtype>(&bottom, -1, 1);
  Blob<Dtype> top;
  auto layer = MakeLayer<Dtype>(IpText("num_output: 5"), &this->context_);
  GradientChecker<Dtype> checker;
  checker.Check(layer.get(), {&bottom}, {&top});
}

TYPED_TEST(InnerProductTest, GradientTransposeAxisTwo) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom({1, 3, 5});
  FillUniform<Dtype>(&bottom, -1, 1);
  Blob<Dtype> top;
  auto layer = MakeLayer<Dtype>(IpText("num_output: 4 transpose: true axis: 2"), &this->context_);
  GradientChecker<Dtype> checker;
  checker.Check(layer.get(), {&bottom}, {&top});
  EXPECT_EQ(top.shape(), (std::vector<int>{1, 3, 4}));
}

TYPED_TEST(InnerProductTest, GradientNoBias) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom({3, 4});
  FillUniform<Dtype>(&bottom, -1, 1);
  Blob<Dtype> top;
  auto layer = MakeLayer<Dtype>(IpText("num_output: 2 bias_term: false"), &this->context_);
  GradientChecker<Dtype> checker;
  checker.Check(layer.get(), {&bottom}, {&top});
}

}  // namespace
}  // namespace moka::test
