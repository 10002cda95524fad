#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "gradient_checker.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

using Shape = std::vector<int>;

template <typename Dtype>
class PowerTest : public ::testing::Test {
 protected:
  std::string Def(double power, double scale, double shift) {
    return "name: 'pow' type: 'Power' power_param { power: " + std::to_string(power) +
           " scale: " + std::to_string(scale) + " shift: " + std::to_string(shift) + " }";
  }

  // Checks forward and backward against the closed forms on positive inputs, then the gradient.
  void Check(double power, double scale, double shift) {
    auto layer = MakeLayer<Dtype>(Def(power, scale, shift), &context_);
    Blob<Dtype> bottom(Shape{2, 3, 4});
    FillUniform<Dtype>(&bottom, Dtype(0.5), Dtype(2));
    layer->SetUp({&bottom}, {&top_});
    layer->Forward({&bottom}, {&top_});
    top_.set_diff(1);
    layer->Backward({&top_}, {true}, {&bottom});
    for (int i = 0; i < bottom.count(); ++i) {
      const double x = bottom.cpu_data()[i];
      const double u = shift + scale * x;
      const double y = std::pow(u, power);
      const double dy = power == 0 ? 0 : power * scale * std::pow(u, power - 1);
      EXPECT_NEAR(top_.cpu_data()[i], y, 1e-4 * std::max(1.0, std::fabs(y))) << i;
      EXPECT_NEAR(bottom.cpu_diff()[i], dy, 1e-4 * std::max(1.0, std::fabs(dy))) << i;
    }
    GradientChecker<Dtype>().Check(layer.get(), {&bottom}, {&top_});
  }

  Context context_;
  Blob<Dtype> top_;
};
TYPED_TEST_SUITE(PowerTest, TestDtypes);

TYPED_TEST(PowerTest, General) {
  this->Check(0.37, 0.83, -2.4 + 3);
}
TYPED_TEST(PowerTest, ShiftZero) {
  this->Check(0.37, 0.83, 0);
}
TYPED_TEST(PowerTest, PowerOne) {
  this->Check(1, 0.83, -2.4);
}
TYPED_TEST(PowerTest, PowerTwo) {
  this->Check(2, 0.34, -2.4);
}
TYPED_TEST(PowerTest, PowerTwoScaleHalf) {
  this->Check(2, 0.5, -2.4);
}
TYPED_TEST(PowerTest, PowerThree) {
  this->Check(3, 0.83, -2.4);
}

TYPED_TEST(PowerTest, PowerZeroIsOne) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>(this->Def(0, 0.83, -2.4), &this->context_);
  Blob<Dtype> bottom(Shape{5});
  FillUniform<Dtype>(&bottom, -1, 1);
  layer->SetUp({&bottom}, {&this->top_});
  layer->Forward({&bottom}, {&this->top_});
  this->top_.set_diff(1);
  layer->Backward({&this->top_}, {true}, {&bottom});
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(this->top_.cpu_data()[i], 1);
    EXPECT_EQ(bottom.cpu_diff()[i], 0);
  }
}

TYPED_TEST(PowerTest, ScaleZeroIsShiftToThePower) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>(this->Def(2, 0, 3), &this->context_);
  Blob<Dtype> bottom(Shape{4});
  FillUniform<Dtype>(&bottom, -1, 1);
  layer->SetUp({&bottom}, {&this->top_});
  layer->Forward({&bottom}, {&this->top_});
  for (int i = 0; i < 4; ++i) EXPECT_EQ(this->top_.cpu_data()[i], 9);
}

TYPED_TEST(PowerTest, RefusesTwoBottoms) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>(this->Def(2, 1, 0), &this->context_);
  Blob<Dtype> a(Shape{2}), b(Shape{2});
  EXPECT_THROW(layer->SetUp({&a, &b}, {&this->top_}), ConfigError);
}

}  // namespace
}  // namespace moka::test
