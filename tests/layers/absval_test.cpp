#include <gtest/gtest.h>

#include <vector>

#include "gradient_checker.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

using Shape = std::vector<int>;

template <typename Dtype>
class AbsValTest : public ::testing::Test {
 protected:
  Context context_;
  Blob<Dtype> top_;
};
TYPED_TEST_SUITE(AbsValTest, TestDtypes);

TYPED_TEST(AbsValTest, ForwardAndBackwardByHand) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 'abs' type: 'AbsVal'", &this->context_);
  Blob<Dtype> bottom(Shape{5});
  const Dtype values[] = {-2, -0.5, 0, 0.5, 3};
  std::copy(values, values + 5, bottom.mutable_cpu_data());
  layer->SetUp({&bottom}, {&this->top_});
  layer->Forward({&bottom}, {&this->top_});
  const Dtype expected[] = {2, 0.5, 0, 0.5, 3};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(this->top_.cpu_data()[i], expected[i]) << i;
  this->top_.set_diff(3);
  layer->Backward({&this->top_}, {true}, {&bottom});
  const Dtype expected_diff[] = {-3, -3, 0, 3, 3};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(bottom.cpu_diff()[i], expected_diff[i]) << i;
}

TYPED_TEST(AbsValTest, Gradient) {
  using Dtype = TypeParam;
  GradientCheckOptions<Dtype> options;
  options.kink_range = Dtype(0.02);
  Blob<Dtype> bottom(Shape{1, 3, 5, 3});
  FillUniform<Dtype>(&bottom, -1, 1, 3);
  auto layer = MakeLayer<Dtype>("name: 'abs' type: 'AbsVal'", &this->context_);
  GradientChecker<Dtype>(options).Check(layer.get(), {&bottom}, {&this->top_});
}

TYPED_TEST(AbsValTest, RefusesInPlace) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 'abs' type: 'AbsVal'", &this->context_);
  Blob<Dtype> bottom(Shape{3});
  EXPECT_THROW(layer->SetUp({&bottom}, {&bottom}), ConfigError);
}

}  // namespace
}  // namespace moka::test
