#include <gtest/gtest.h>

#include <vector>

#include "gradient_checker.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

using Shape = std::vector<int>;

template <typename Dtype>
class ScaleTest : public ::testing::Test {
 protected:
  Context context_;
  Blob<Dtype> top_;
};
TYPED_TEST_SUITE(ScaleTest, TestDtypes);

TYPED_TEST(ScaleTest, LearnedScaleAndBiasForwardByHand) {
  using Dtype = TypeParam;
  auto layer =
      MakeLayer<Dtype>("name: 's' type: 'Scale' scale_param { bias_term: true }", &this->context_);
  Blob<Dtype> bottom(Shape{2, 3, 2});
  FillUniform<Dtype>(&bottom, -1, 1);
  layer->SetUp({&bottom}, {&this->top_});
  ASSERT_EQ(layer->blobs().size(), 2u);
  EXPECT_EQ(layer->blobs()[0]->shape(), Shape{3});
  EXPECT_EQ(layer->blobs()[1]->shape(), Shape{3});
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(layer->blobs()[0]->cpu_data()[c], 1);
    EXPECT_EQ(layer->blobs()[1]->cpu_data()[c], 0);
  }
  const Dtype s[] = {2, -1, 0.5}, b[] = {1, 0, -3};
  std::copy(s, s + 3, layer->blobs()[0]->mutable_cpu_data());
  std::copy(b, b + 3, layer->blobs()[1]->mutable_cpu_data());
  layer->Forward({&bottom}, {&this->top_});
  for (int i = 0; i < bottom.count(); ++i) {
    const int c = (i / 2) % 3;
    EXPECT_EQ(this->top_.cpu_data()[i], bottom.cpu_data()[i] * s[c] + b[c]) << i;
  }
}

TYPED_TEST(ScaleTest, BottomScaleForwardByHand) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 's' type: 'Scale' scale_param { axis: 0 }", &this->context_);
  Blob<Dtype> bottom(Shape{2, 3, 4});
  Blob<Dtype> scale(Shape{2, 3});
  FillUniform<Dtype>(&bottom, -1, 1);
  FillUniform<Dtype>(&scale, -1, 1, 8);
  layer->SetUp({&bottom, &scale}, {&this->top_});
  EXPECT_TRUE(layer->blobs().empty());
  layer->Forward({&bottom, &scale}, {&this->top_});
  for (int i = 0; i < bottom.count(); ++i) {
    EXPECT_EQ(this->top_.cpu_data()[i], bottom.cpu_data()[i] * scale.cpu_data()[i / 4]) << i;
  }
}

TYPED_TEST(ScaleTest, Gradient) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(Shape{2, 3, 2, 3});
  FillUniform<Dtype>(&bottom, -1, 1, 3);
  auto layer = MakeLayer<Dtype>(
      "name: 's' type: 'Scale' scale_param { num_axes: 2 bias_term: true filler { type: 'gaussian' "
      "}"
      " bias_filler { type: 'gaussian' } }",
      &this->context_);
  GradientChecker<Dtype>().Check(layer.get(), {&bottom}, {&this->top_});
}

TYPED_TEST(ScaleTest, EltwiseAndScalarGradients) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(Shape{2, 3});
  FillUniform<Dtype>(&bottom, -1, 1, 3);
  auto eltwise = MakeLayer<Dtype>(
      "name: 's' type: 'Scale' scale_param { axis: 0 num_axes: -1 filler { type: 'uniform' } }",
      &this->context_);
  GradientChecker<Dtype>().Check(eltwise.get(), {&bottom}, {&this->top_});
  auto scalar = MakeLayer<Dtype>(
      "name: 's' type: 'Scale' scale_param { num_axes: 0 bias_term: true filler { type: 'uniform' "
      "} }",
      &this->context_);
  GradientChecker<Dtype>().Check(scalar.get(), {&bottom}, {&this->top_});
}

TYPED_TEST(ScaleTest, BottomScaleGradientWithBias) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(Shape{2, 3, 4});
  Blob<Dtype> scale(Shape{3});
  FillUniform<Dtype>(&bottom, -1, 1, 3);
  FillUniform<Dtype>(&scale, -1, 1, 4);
  auto layer = MakeLayer<Dtype>(
      "name: 's' type: 'Scale' scale_param { bias_term: true bias_filler { type: 'uniform' } }",
      &this->context_);
  GradientChecker<Dtype>().Check(layer.get(), {&bottom, &scale}, {&this->top_});
  EXPECT_EQ(layer->blobs().size(), 1u);
}

TYPED_TEST(ScaleTest, InPlaceMatches) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>(
      "name: 's' type: 'Scale' scale_param { bias_term: true filler { type: 'uniform' } }",
      &this->context_);
  Blob<Dtype> bottom(Shape{2, 3, 4});
  FillUniform<Dtype>(&bottom, -1, 1);
  Blob<Dtype> copy(Shape{2, 3, 4});
  copy.CopyFrom(bottom);
  layer->SetUp({&bottom}, {&this->top_});
  layer->Forward({&bottom}, {&this->top_});
  FillUniform<Dtype>(&this->top_, -1, 1, 9);
  cpu_copy(this->top_.count(), this->top_.cpu_data(), this->top_.mutable_cpu_diff());
  for (auto& blob : layer->blobs()) blob->set_diff(0);
  layer->Backward({&this->top_}, {true}, {&bottom});
  std::vector<Dtype> scale_diff(layer->blobs()[0]->cpu_diff(), layer->blobs()[0]->cpu_diff() + 3);
  layer->Forward({&copy}, {&copy});
  cpu_copy(copy.count(), this->top_.cpu_diff(), copy.mutable_cpu_diff());
  for (auto& blob : layer->blobs()) blob->set_diff(0);
  layer->Backward({&copy}, {true}, {&copy});
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(layer->blobs()[0]->cpu_diff()[c], scale_diff[c], 1e-6);
  for (int i = 0; i < copy.count(); ++i) EXPECT_EQ(copy.cpu_diff()[i], bottom.cpu_diff()[i]);
}

TYPED_TEST(ScaleTest, ShapeErrors) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(Shape{2, 3, 4});
  Blob<Dtype> scale(Shape{4});
  auto layer = MakeLayer<Dtype>("name: 's' type: 'Scale'", &this->context_);
  EXPECT_THROW(layer->SetUp({&bottom, &scale}, {&this->top_}), ShapeError);
  auto bad_axes =
      MakeLayer<Dtype>("name: 's' type: 'Scale' scale_param { num_axes: -2 }", &this->context_);
  EXPECT_THROW(bad_axes->SetUp({&bottom}, {&this->top_}), ConfigError);
}

}  // namespace
}  // namespace moka::test
