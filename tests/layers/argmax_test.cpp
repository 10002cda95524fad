#include <gtest/gtest.h>

#include <vector>

#include "test_util.hpp"

namespace moka::test {
namespace {

using Shape = std::vector<int>;

template <typename Dtype>
class ArgMaxTest : public ::testing::Test {
 protected:
  ArgMaxTest() : bottom_(Shape{2, 5}) {
    const Dtype x[] = {0.1, 0.9, 0.3, 0.9, -1, 5, 4, 3, 2, 1};
    std::copy(x, x + 10, bottom_.mutable_cpu_data());
  }
  Context context_;
  Blob<Dtype> bottom_;
  Blob<Dtype> top_;
};
TYPED_TEST_SUITE(ArgMaxTest, TestDtypes);

TYPED_TEST(ArgMaxTest, PerSampleIndices) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 'a' type: 'ArgMax'", &this->context_);
  layer->SetUp({&this->bottom_}, {&this->top_});
  EXPECT_EQ(this->top_.shape(), (Shape{2, 1, 1}));
  layer->Forward({&this->bottom_}, {&this->top_});
  // A tie (0.9 at 1 and 3) goes to the larger index.
  EXPECT_EQ(this->top_.cpu_data()[0], 3);
  EXPECT_EQ(this->top_.cpu_data()[1], 0);
}

TYPED_TEST(ArgMaxTest, TopKWithValues) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>(
      "name: 'a' type: 'ArgMax' argmax_param { top_k: 2 out_max_val: true }", &this->context_);
  layer->SetUp({&this->bottom_}, {&this->top_});
  EXPECT_EQ(this->top_.shape(), (Shape{2, 2, 2}));
  layer->Forward({&this->bottom_}, {&this->top_});
  const Dtype expected[] = {3, 1, Dtype(0.9), Dtype(0.9), 0, 1, 5, 4};
  for (int i = 0; i < 8; ++i) EXPECT_EQ(this->top_.cpu_data()[i], expected[i]) << i;
}

TYPED_TEST(ArgMaxTest, AlongAxis) {
  using Dtype = TypeParam;
  auto layer =
      MakeLayer<Dtype>("name: 'a' type: 'ArgMax' argmax_param { axis: 0 }", &this->context_);
  layer->SetUp({&this->bottom_}, {&this->top_});
  EXPECT_EQ(this->top_.shape(), (Shape{1, 5}));
  layer->Forward({&this->bottom_}, {&this->top_});
  const Dtype expected[] = {1, 1, 1, 1, 1};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(this->top_.cpu_data()[i], expected[i]) << i;
  auto values = MakeLayer<Dtype>(
      "name: 'a' type: 'ArgMax' argmax_param { axis: 1 top_k: 2 out_max_val: true }",
      &this->context_);
  values->SetUp({&this->bottom_}, {&this->top_});
  EXPECT_EQ(this->top_.shape(), (Shape{2, 2}));
  values->Forward({&this->bottom_}, {&this->top_});
  const Dtype expected_values[] = {Dtype(0.9), Dtype(0.9), 5, 4};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(this->top_.cpu_data()[i], expected_values[i]) << i;
}

TYPED_TEST(ArgMaxTest, Errors) {
  using Dtype = TypeParam;
  auto too_many =
      MakeLayer<Dtype>("name: 'a' type: 'ArgMax' argmax_param { top_k: 6 }", &this->context_);
  EXPECT_THROW(too_many->SetUp({&this->bottom_}, {&this->top_}), ShapeError);
  auto layer = MakeLayer<Dtype>("name: 'a' type: 'ArgMax'", &this->context_);
  layer->SetUp({&this->bottom_}, {&this->top_});
  layer->Forward({&this->bottom_}, {&this->top_});
  EXPECT_THROW(layer->Backward({&this->top_}, {true}, {&this->bottom_}), ConfigError);
}

}  // namespace
}  // namespace moka::test
