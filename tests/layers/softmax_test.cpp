#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "gradient_checker.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

using Shape = std::vector<int>;

template <typename Dtype>
class SoftmaxTest : public ::testing::Test {
 protected:
  Context context_;
};
TYPED_TEST_SUITE(SoftmaxTest, TestDtypes);

// Reference softmax of a (outer, channels, inner) array along the middle axis, in double.
template <typename Dtype>
std::vector<double> ReferenceSoftmax(const Blob<Dtype>& blob, int axis) {
  const int outer = blob.count(0, axis);
  const int channels = blob.shape(axis);
  const int inner = blob.count(axis + 1);
  std::vector<double> out(blob.count());
  for (int i = 0; i < outer; ++i) {
    for (int k = 0; k < inner; ++k) {
      double max = -INFINITY;
      for (int c = 0; c < channels; ++c)
        max = std::max(max, double(blob.cpu_data()[(i * channels + c) * inner + k]));
      double sum = 0;
      for (int c = 0; c < channels; ++c)
        sum += std::exp(double(blob.cpu_data()[(i * channels + c) * inner + k]) - max);
      for (int c = 0; c < channels; ++c) {
        const int at = (i * channels + c) * inner + k;
        out[at] = std::exp(double(blob.cpu_data()[at]) - max) / sum;
      }
    }
  }
  return out;
}

TYPED_TEST(SoftmaxTest, SmallCaseByHand) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(Shape{1, 3});
  Blob<Dtype> top;
  const Dtype values[] = {1, 2, 3};
  std::copy(values, values + 3, bottom.mutable_cpu_data());
  auto layer = MakeLayer<Dtype>("name: 'sm' type: 'Softmax'", &this->context_);
  layer->SetUp({&bottom}, {&top});
  layer->Forward({&bottom}, {&top});
  const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  EXPECT_NEAR(top.cpu_data()[0], std::exp(1.0) / z, 1e-6);
  EXPECT_NEAR(top.cpu_data()[1], std::exp(2.0) / z, 1e-6);
  EXPECT_NEAR(top.cpu_data()[2], std::exp(3.0) / z, 1e-6);

  // dx = y * (dy - <dy, y>)
  const Dtype dy[] = {1, 0, -1};
  std::copy(dy, dy + 3, top.mutable_cpu_diff());
  layer->Backward({&top}, {true}, {&bottom});
  const double y0 = std::exp(1.0) / z, y1 = std::exp(2.0) / z, y2 = std::exp(3.0) / z;
  const double dot = y0 - y2;
  EXPECT_NEAR(bottom.cpu_diff()[0], y0 * (1 - dot), 1e-6);
  EXPECT_NEAR(bottom.cpu_diff()[1], y1 * (0 - dot), 1e-6);
  EXPECT_NEAR(bottom.cpu_diff()[2], y2 * (-1 - dot), 1e-6);
}

TYPED_TEST(SoftmaxTest, ForwardOverChannelsWithSpatialAxes) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(Shape{2, 5, 3, 2});
  Blob<Dtype> top;
  FillGaussian<Dtype>(&bottom, 3);
  auto layer = MakeLayer<Dtype>("name: 'sm' type: 'Softmax'", &this->context_);
  layer->SetUp({&bottom}, {&top});
  EXPECT_EQ(top.shape(), bottom.shape());
  layer->Forward({&bottom}, {&top});
  const std::vector<double> expected = ReferenceSoftmax(bottom, 1);
  for (int i = 0; i < top.count(); ++i) EXPECT_NEAR(top.cpu_data()[i], expected[i], 1e-6) << i;
}

TYPED_TEST(SoftmaxTest, LastAxisAndLargeInputsStayFinite) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(Shape{3, 4});
  Blob<Dtype> top;
  FillUniform<Dtype>(&bottom, -5, 5);
  bottom.mutable_cpu_data()[0] = Dtype(1000);  // exp would overflow without the max shift.
  bottom.mutable_cpu_data()[1] = Dtype(999);
  bottom.mutable_cpu_data()[4] = Dtype(-1000);
  auto layer = MakeLayer<Dtype>("name: 'sm' type: 'Softmax' softmax_param { axis: -1 }",
                                &this->context_);
  layer->SetUp({&bottom}, {&top});
  layer->Forward({&bottom}, {&top});
  const std::vector<double> expected = ReferenceSoftmax(bottom, 1);
  for (int i = 0; i < top.count(); ++i) {
    EXPECT_TRUE(std::isfinite(top.cpu_data()[i]));
    EXPECT_NEAR(top.cpu_data()[i], expected[i], 1e-6) << i;
  }
  EXPECT_NEAR(top.cpu_data()[0], 1 / (1 + std::exp(-1.0)), 1e-6);
}

TYPED_TEST(SoftmaxTest, InPlaceMatchesOutOfPlace) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(Shape{2, 3, 4});
  Blob<Dtype> top;
  FillGaussian<Dtype>(&bottom, 1);
  Blob<Dtype> inplace(Shape{2, 3, 4});
  inplace.CopyFrom(bottom);
  auto layer = MakeLayer<Dtype>("name: 'sm' type: 'Softmax' softmax_param { axis: 2 }",
                                &this->context_);
  layer->SetUp({&bottom}, {&top});
  layer->Forward({&bottom}, {&top});
  FillUniform<Dtype>(&bottom, -1, 1, 9);
  cpu_copy(top.count(), bottom.cpu_data(), top.mutable_cpu_diff());
  layer->Backward({&top}, {true}, {&bottom});

  layer->SetUp({&inplace}, {&inplace});
  layer->Forward({&inplace}, {&inplace});
  cpu_copy(top.count(), top.cpu_diff(), inplace.mutable_cpu_diff());
  layer->Backward({&inplace}, {true}, {&inplace});
  for (int i = 0; i < top.count(); ++i) {
    EXPECT_EQ(inplace.cpu_data()[i], top.cpu_data()[i]);
    EXPECT_EQ(inplace.cpu_diff()[i], bottom.cpu_diff()[i]);
  }
}

TYPED_TEST(SoftmaxTest, RejectsAxisOutOfRange) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(Shape{2, 3});
  Blob<Dtype> top;
  auto layer = MakeLayer<Dtype>("name: 'sm' type: 'Softmax' softmax_param { axis: 2 }",
                                &this->context_);
  EXPECT_THROW(layer->SetUp({&bottom}, {&top}), ShapeError);
}

TYPED_TEST(SoftmaxTest, Gradient) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(Shape{2, 5, 3, 1});
  Blob<Dtype> top;
  FillGaussian<Dtype>(&bottom, 1);
  auto layer = MakeLayer<Dtype>("name: 'sm' type: 'Softmax'", &this->context_);
  GradientChecker<Dtype>().Check(layer.get(), {&bottom}, {&top});
}

TYPED_TEST(SoftmaxTest, GradientFirstAxisBatchOne) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(Shape{4, 1, 3});
  Blob<Dtype> top;
  FillGaussian<Dtype>(&bottom, 1);
  auto layer = MakeLayer<Dtype>("name: 'sm' type: 'Softmax' softmax_param { axis: 0 }",
                                &this->context_);
  GradientChecker<Dtype>().Check(layer.get(), {&bottom}, {&top});
}

}  // namespace
}  // namespace moka::test
