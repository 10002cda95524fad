#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "gradient_checker.hpp"
#include "task_pool.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

using Shape = std::vector<int>;

template <typename Dtype>
class BiasTest : public ::testing::Test {
 protected:
  Context context_;
  Blob<Dtype> top_;
};
TYPED_TEST_SUITE(BiasTest, TestDtypes);

TYPED_TEST(BiasTest, LearnedBiasForwardByHand) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 'b' type: 'Bias'", &this->context_);
  Blob<Dtype> bottom(Shape{2, 3, 2});
  FillUniform<Dtype>(&bottom, -1, 1);
  layer->SetUp({&bottom}, {&this->top_});
  ASSERT_EQ(layer->blobs().size(), 1u);
  EXPECT_EQ(layer->blobs()[0]->shape(), Shape{3});
  for (int c = 0; c < 3; ++c) EXPECT_EQ(layer->blobs()[0]->cpu_data()[c], 0);  // identity start
  const Dtype b[] = {1, -2, 0.5};
  std::copy(b, b + 3, layer->blobs()[0]->mutable_cpu_data());
  layer->Forward({&bottom}, {&this->top_});
  for (int i = 0; i < bottom.count(); ++i) {
    EXPECT_EQ(this->top_.cpu_data()[i], bottom.cpu_data()[i] + b[(i / 2) % 3]) << i;
  }
}

TYPED_TEST(BiasTest, BottomBiasAcrossTwoAxes) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 'b' type: 'Bias' bias_param { axis: 0 }", &this->context_);
  Blob<Dtype> bottom(Shape{2, 3, 4});
  Blob<Dtype> bias(Shape{2, 3});
  FillUniform<Dtype>(&bottom, -1, 1);
  FillUniform<Dtype>(&bias, -1, 1, 8);
  layer->SetUp({&bottom, &bias}, {&this->top_});
  EXPECT_TRUE(layer->blobs().empty());
  layer->Forward({&bottom, &bias}, {&this->top_});
  for (int i = 0; i < bottom.count(); ++i) {
    EXPECT_EQ(this->top_.cpu_data()[i], bottom.cpu_data()[i] + bias.cpu_data()[i / 4]) << i;
  }
}

TYPED_TEST(BiasTest, Gradient) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(Shape{2, 3, 2, 3});
  FillUniform<Dtype>(&bottom, -1, 1, 3);
  auto layer = MakeLayer<Dtype>(
      "name: 'b' type: 'Bias' bias_param { axis: 1 num_axes: 2 filler { type: 'gaussian' } }",
      &this->context_);
  GradientChecker<Dtype>().Check(layer.get(), {&bottom}, {&this->top_});
}

TYPED_TEST(BiasTest, ScalarBiasGradient) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(Shape{2, 3, 2});
  FillUniform<Dtype>(&bottom, -1, 1, 3);
  auto layer = MakeLayer<Dtype>(
      "name: 'b' type: 'Bias' bias_param { num_axes: 0 filler { type: 'uniform' } }",
      &this->context_);
  GradientChecker<Dtype>().Check(layer.get(), {&bottom}, {&this->top_});
}

TYPED_TEST(BiasTest, BottomBiasGradient) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(Shape{2, 3, 4});
  Blob<Dtype> bias(Shape{3, 4});
  FillUniform<Dtype>(&bottom, -1, 1, 3);
  FillUniform<Dtype>(&bias, -1, 1, 4);
  auto layer = MakeLayer<Dtype>("name: 'b' type: 'Bias'", &this->context_);
  GradientChecker<Dtype>().Check(layer.get(), {&bottom, &bias}, {&this->top_});
}

TYPED_TEST(BiasTest, LargeBlobsOnAnyThreadCount) {
  using Dtype = TypeParam;
  // Large enough for the task pool, with rows that end mid-pack.
  const Shape shape{2, 7, 211, 199};
  const int channels = 7, inner = 211 * 199;
  Blob<Dtype> bottom(shape), gradient(shape);
  FillUniform<Dtype>(&bottom, -1, 1, 41);
  FillUniform<Dtype>(&gradient, -1, 1, 42);
  std::vector<Dtype> bias(channels), bias_diff[2];
  std::vector<Dtype> outputs[2];
  for (int c = 0; c < channels; ++c) bias[c] = Dtype(0.1 * c - 0.3);
  for (int run = 0; run < 2; ++run) {
    SingleThreadedBlas single(run == 1);
    auto layer = MakeLayer<Dtype>("name: 'b' type: 'Bias'", &this->context_);
    Blob<Dtype> top;
    layer->SetUp({&bottom}, {&top});
    std::copy(bias.begin(), bias.end(), layer->blobs()[0]->mutable_cpu_data());
    layer->blobs()[0]->set_diff(0);
    layer->Forward({&bottom}, {&top});
    cpu_copy(top.count(), gradient.cpu_data(), top.mutable_cpu_diff());
    layer->Backward({&top}, {true}, {&bottom});
    outputs[run].assign(top.cpu_data(), top.cpu_data() + top.count());
    bias_diff[run].assign(layer->blobs()[0]->cpu_diff(), layer->blobs()[0]->cpu_diff() + channels);
    for (int i = 0; i < bottom.count(); ++i) {
      ASSERT_EQ(outputs[run][i], bottom.cpu_data()[i] + bias[(i / inner) % channels]) << i;
      ASSERT_EQ(bottom.cpu_diff()[i], gradient.cpu_data()[i]) << i;
    }
  }
  std::vector<double> sums(channels, 0);
  for (int i = 0; i < gradient.count(); ++i) sums[(i / inner) % channels] += gradient.cpu_data()[i];
  const double tolerance = std::is_same<Dtype, float>::value ? 1e-3 : 1e-9;
  for (int c = 0; c < channels; ++c) {
    EXPECT_NEAR(bias_diff[0][c], sums[c], tolerance * (1 + std::fabs(sums[c])));
    EXPECT_EQ(bias_diff[0][c], bias_diff[1][c]);
  }
}

TYPED_TEST(BiasTest, ShapeErrors) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(Shape{2, 3, 4});
  Blob<Dtype> bias(Shape{4});
  auto layer = MakeLayer<Dtype>("name: 'b' type: 'Bias'", &this->context_);
  EXPECT_THROW(layer->SetUp({&bottom, &bias}, {&this->top_}), ShapeError);
  auto too_many =
      MakeLayer<Dtype>("name: 'b' type: 'Bias' bias_param { num_axes: 3 }", &this->context_);
  EXPECT_THROW(too_many->SetUp({&bottom}, {&this->top_}), ShapeError);
}

}  // namespace
}  // namespace moka::test
