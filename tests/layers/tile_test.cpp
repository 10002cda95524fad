#include <gtest/gtest.h>

#include <vector>

#include "gradient_checker.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

using Shape = std::vector<int>;

template <typename Dtype>
class TileTest : public ::testing::Test {
 protected:
  Context context_;
  Blob<Dtype> top_;
};
TYPED_TEST_SUITE(TileTest, TestDtypes);

TYPED_TEST(TileTest, ForwardAndBackwardByHand) {
  using Dtype = TypeParam;
  auto layer =
      MakeLayer<Dtype>("name: 't' type: 'Tile' tile_param { axis: 1 tiles: 3 }", &this->context_);
  Blob<Dtype> bottom(Shape{2, 2});
  const Dtype x[] = {1, 2, 3, 4};
  std::copy(x, x + 4, bottom.mutable_cpu_data());
  layer->SetUp({&bottom}, {&this->top_});
  EXPECT_EQ(this->top_.shape(), (Shape{2, 6}));
  layer->Forward({&bottom}, {&this->top_});
  const Dtype expected[] = {1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4};
  for (int i = 0; i < 12; ++i) EXPECT_EQ(this->top_.cpu_data()[i], expected[i]) << i;
  for (int i = 0; i < 12; ++i) this->top_.mutable_cpu_diff()[i] = Dtype(i);
  layer->Backward({&this->top_}, {true}, {&bottom});
  const Dtype expected_diff[] = {0 + 2 + 4, 1 + 3 + 5, 6 + 8 + 10, 7 + 9 + 11};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(bottom.cpu_diff()[i], expected_diff[i]) << i;
}

TYPED_TEST(TileTest, Gradient) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(Shape{2, 3, 2});
  FillUniform<Dtype>(&bottom, -1, 1, 3);
  auto layer =
      MakeLayer<Dtype>("name: 't' type: 'Tile' tile_param { axis: -1 tiles: 2 }", &this->context_);
  GradientChecker<Dtype>().Check(layer.get(), {&bottom}, {&this->top_});
}

TYPED_TEST(TileTest, NeedsPositiveTiles) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(Shape{2, 3});
  auto missing = MakeLayer<Dtype>("name: 't' type: 'Tile'", &this->context_);
  EXPECT_THROW(missing->SetUp({&bottom}, {&this->top_}), ConfigError);
  auto zero = MakeLayer<Dtype>("name: 't' type: 'Tile' tile_param { tiles: 0 }", &this->context_);
  EXPECT_THROW(zero->SetUp({&bottom}, {&this->top_}), ConfigError);
}

}  // namespace
}  // namespace moka::test
