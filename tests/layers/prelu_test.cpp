#include <gtest/gtest.h>

#include <vector>

#include "gradient_checker.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

using Shape = std::vector<int>;

template <typename Dtype>
class PReluTest : public ::testing::Test {
 protected:
  Context context_;
  Blob<Dtype> top_;
};
TYPED_TEST_SUITE(PReluTest, TestDtypes);

TYPED_TEST(PReluTest, DefaultSlopesAreQuarterPerChannel) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 'p' type: 'PReLU'", &this->context_);
  Blob<Dtype> bottom(Shape{2, 3, 2});
  layer->SetUp({&bottom}, {&this->top_});
  ASSERT_EQ(layer->blobs().size(), 1u);
  EXPECT_EQ(layer->blobs()[0]->shape(), Shape{3});
  for (int c = 0; c < 3; ++c) EXPECT_EQ(layer->blobs()[0]->cpu_data()[c], Dtype(0.25));

  auto shared = MakeLayer<Dtype>("name: 'p' type: 'PReLU' prelu_param { channel_shared: true }",
                                 &this->context_);
  shared->SetUp({&bottom}, {&this->top_});
  EXPECT_EQ(shared->blobs()[0]->count(), 1);
  EXPECT_EQ(shared->blobs()[0]->num_axes(), 0);
}

TYPED_TEST(PReluTest, ForwardAndBackwardByHand) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 'p' type: 'PReLU'", &this->context_);
  Blob<Dtype> bottom(Shape{2, 2, 2});
  const Dtype x[] = {-1, 2, -3, 4, 5, -6, -0.5, 0};
  std::copy(x, x + 8, bottom.mutable_cpu_data());
  layer->SetUp({&bottom}, {&this->top_});
  Dtype* slopes = layer->blobs()[0]->mutable_cpu_data();
  slopes[0] = 0.5;
  slopes[1] = -2;
  layer->Forward({&bottom}, {&this->top_});
  // Element i belongs to channel (i / 2) % 2.
  const Dtype expected[] = {-0.5, 2, 6, 4, 5, -3, 1, 0};
  for (int i = 0; i < 8; ++i) EXPECT_EQ(this->top_.cpu_data()[i], expected[i]) << i;
  const Dtype dy[] = {1, 2, 3, 4, 5, 6, 7, 8};
  std::copy(dy, dy + 8, this->top_.mutable_cpu_diff());
  layer->blobs()[0]->set_diff(0);
  layer->Backward({&this->top_}, {true}, {&bottom});
  const Dtype expected_dx[] = {0.5, 2, -6, 4, 5, 3, -14, -16};
  for (int i = 0; i < 8; ++i) EXPECT_EQ(bottom.cpu_diff()[i], expected_dx[i]) << i;
  // Channel 0: x <= 0 at -1 (dy 1) and -6 (dy 6); channel 1: -3 (dy 3), -0.5 (dy 7), 0 (dy 8).
  EXPECT_EQ(layer->blobs()[0]->cpu_diff()[0], Dtype(-1 - 36));
  EXPECT_EQ(layer->blobs()[0]->cpu_diff()[1], Dtype(-9 - 3.5));
}

TYPED_TEST(PReluTest, InPlaceMatches) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>(
      "name: 'p' type: 'PReLU' prelu_param { filler { type: 'uniform' min: -1 max: 1 } }",
      &this->context_);
  Blob<Dtype> bottom(Shape{2, 3, 5});
  FillUniform<Dtype>(&bottom, -1, 1);
  Blob<Dtype> copy(Shape{2, 3, 5});
  copy.CopyFrom(bottom);
  layer->SetUp({&bottom}, {&this->top_});
  layer->Forward({&bottom}, {&this->top_});
  FillUniform<Dtype>(&this->top_, -1, 1, 9);
  cpu_copy(this->top_.count(), this->top_.cpu_data(), this->top_.mutable_cpu_diff());
  layer->blobs()[0]->set_diff(0);
  layer->Backward({&this->top_}, {true}, {&bottom});
  std::vector<Dtype> slope_diff(layer->blobs()[0]->cpu_diff(), layer->blobs()[0]->cpu_diff() + 3);

  layer->SetUp({&copy}, {&copy});
  layer->Forward({&copy}, {&copy});
  cpu_copy(copy.count(), this->top_.cpu_diff(), copy.mutable_cpu_diff());
  layer->blobs()[0]->set_diff(0);
  layer->Backward({&copy}, {true}, {&copy});
  for (int c = 0; c < 3; ++c) EXPECT_EQ(layer->blobs()[0]->cpu_diff()[c], slope_diff[c]);
  for (int i = 0; i < copy.count(); ++i) EXPECT_EQ(copy.cpu_diff()[i], bottom.cpu_diff()[i]);
}

TYPED_TEST(PReluTest, Gradient) {
  using Dtype = TypeParam;
  GradientCheckOptions<Dtype> options;
  options.kink_range = Dtype(0.02);
  Blob<Dtype> bottom(Shape{2, 3, 3, 1});
  FillUniform<Dtype>(&bottom, -1, 1, 3);
  auto layer = MakeLayer<Dtype>(
      "name: 'p' type: 'PReLU' prelu_param { filler { type: 'uniform' min: 0 max: 1 } }",
      &this->context_);
  GradientChecker<Dtype>(options).Check(layer.get(), {&bottom}, {&this->top_});
}

TYPED_TEST(PReluTest, SharedGradient) {
  using Dtype = TypeParam;
  GradientCheckOptions<Dtype> options;
  options.kink_range = Dtype(0.02);
  Blob<Dtype> bottom(Shape{1, 3, 5});
  FillUniform<Dtype>(&bottom, -1, 1, 5);
  auto layer = MakeLayer<Dtype>("name: 'p' type: 'PReLU' prelu_param { channel_shared: true }",
                                &this->context_);
  GradientChecker<Dtype>(options).Check(layer.get(), {&bottom}, {&this->top_});
}

TYPED_TEST(PReluTest, ShapeErrors) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 'p' type: 'PReLU'", &this->context_);
  Blob<Dtype> flat(Shape{4});
  EXPECT_THROW(layer->SetUp({&flat}, {&this->top_}), ShapeError);
  Blob<Dtype> bottom(Shape{2, 3});
  layer->SetUp({&bottom}, {&this->top_});
  Blob<Dtype> other(Shape{2, 4});
  EXPECT_THROW(layer->Forward({&other}, {&this->top_}), ShapeError);
}

}  // namespace
}  // namespace moka::test
