#include <gtest/gtest.h>

#include <vector>

#include "gradient_checker.hpp"
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
