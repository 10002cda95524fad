#include <gtest/gtest.h>

#include <vector>

#include "test_util.hpp"

namespace moka::test {
namespace {

using Shape = std::vector<int>;

template <typename Dtype>
class ThresholdTest : public ::testing::Test {
 protected:
  Context context_;
  Blob<Dtype> top_;
};
TYPED_TEST_SUITE(ThresholdTest, TestDtypes);

TYPED_TEST(ThresholdTest, ForwardByHand) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 't' type: 'Threshold' threshold_param { threshold: 0.5 }",
                                &this->context_);
  Blob<Dtype> bottom(Shape{1, 5});
  const Dtype values[] = {-2, 0.25, 0.5, 0.75, 3};
  std::copy(values, values + 5, bottom.mutable_cpu_data());
  layer->SetUp({&bottom}, {&this->top_});
  layer->Forward({&bottom}, {&this->top_});
  // Strictly greater: the threshold itself maps to 0.
  const Dtype expected[] = {0, 0, 0, 1, 1};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(this->top_.cpu_data()[i], expected[i]) << i;
}

TYPED_TEST(ThresholdTest, DefaultThresholdIsZero) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 't' type: 'Threshold'", &this->context_);
  Blob<Dtype> bottom(Shape{3});
  const Dtype values[] = {-1, 0, 1e-3};
  std::copy(values, values + 3, bottom.mutable_cpu_data());
  layer->SetUp({&bottom}, {&bottom});
  layer->Forward({&bottom}, {&bottom});
  EXPECT_EQ(bottom.cpu_data()[0], 0);
  EXPECT_EQ(bottom.cpu_data()[1], 0);
  EXPECT_EQ(bottom.cpu_data()[2], 1);
}

TYPED_TEST(ThresholdTest, BackwardIsRefused) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 't' type: 'Threshold'", &this->context_);
  Blob<Dtype> bottom(Shape{3});
  layer->SetUp({&bottom}, {&this->top_});
  layer->Forward({&bottom}, {&this->top_});
  EXPECT_THROW(layer->Backward({&this->top_}, {true}, {&bottom}), ConfigError);
  EXPECT_NO_THROW(layer->Backward({&this->top_}, {false}, {&bottom}));
}

}  // namespace
}  // namespace moka::test
