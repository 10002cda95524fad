#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "gradient_checker.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

using Shape = std::vector<int>;

template <typename Dtype>
class SwishTest : public ::testing::Test {
 protected:
  Context context_;
  Blob<Dtype> top_;
};
TYPED_TEST_SUITE(SwishTest, TestDtypes);

TYPED_TEST(SwishTest, ForwardAndBackwardByHand) {
  using Dtype = TypeParam;
  auto layer =
      MakeLayer<Dtype>("name: 's' type: 'Swish' swish_param { beta: 1.5 }", &this->context_);
  Blob<Dtype> bottom(Shape{5});
  const Dtype values[] = {-2, -0.5, 0, 0.5, 3};
  std::copy(values, values + 5, bottom.mutable_cpu_data());
  layer->SetUp({&bottom}, {&this->top_});
  layer->Forward({&bottom}, {&this->top_});
  this->top_.set_diff(2);
  layer->Backward({&this->top_}, {true}, {&bottom});
  for (int i = 0; i < 5; ++i) {
    const double x = values[i];
    const double s = 1 / (1 + std::exp(-1.5 * x));
    EXPECT_NEAR(this->top_.cpu_data()[i], x * s, 1e-6) << i;
    // d/dx x s(bx) = s + b x s (1 - s)
    EXPECT_NEAR(bottom.cpu_diff()[i], 2 * (s + 1.5 * x * s * (1 - s)), 1e-5) << i;
  }
}

TYPED_TEST(SwishTest, InPlaceMatches) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 's' type: 'Swish'", &this->context_);
  Blob<Dtype> bottom(Shape{2, 7});
  FillUniform<Dtype>(&bottom, -3, 3);
  Blob<Dtype> copy(Shape{2, 7});
  copy.CopyFrom(bottom);
  layer->SetUp({&bottom}, {&this->top_});
  layer->Forward({&bottom}, {&this->top_});
  this->top_.set_diff(1);
  layer->Backward({&this->top_}, {true}, {&bottom});
  layer->SetUp({&copy}, {&copy});
  layer->Forward({&copy}, {&copy});
  copy.set_diff(1);
  layer->Backward({&copy}, {true}, {&copy});
  for (int i = 0; i < copy.count(); ++i) {
    EXPECT_EQ(copy.cpu_data()[i], this->top_.cpu_data()[i]);
    EXPECT_EQ(copy.cpu_diff()[i], bottom.cpu_diff()[i]);
  }
}

TYPED_TEST(SwishTest, Gradient) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(Shape{1, 3, 5, 3});
  FillUniform<Dtype>(&bottom, -3, 3, 3);
  auto layer =
      MakeLayer<Dtype>("name: 's' type: 'Swish' swish_param { beta: 0.7 }", &this->context_);
  GradientChecker<Dtype>().Check(layer.get(), {&bottom}, {&this->top_});
}

TYPED_TEST(SwishTest, RefusesNoBottom) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 's' type: 'Swish'", &this->context_);
  EXPECT_THROW(layer->SetUp({}, {&this->top_}), ConfigError);
}

}  // namespace
}  // namespace moka::test
