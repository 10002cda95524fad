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
class ExpTest : public ::testing::Test {
 protected:
  void Check(double base, double scale, double shift) {
    const std::string def = "name: 'exp' type: 'Exp' exp_param { base: " + std::to_string(base) +
                            " scale: " + std::to_string(scale) +
                            " shift: " + std::to_string(shift) + " }";
    auto layer = MakeLayer<Dtype>(def, &context_);
    Blob<Dtype> bottom(Shape{2, 3, 4});
    FillUniform<Dtype>(&bottom, -1, 1);
    layer->SetUp({&bottom}, {&top_});
    layer->Forward({&bottom}, {&top_});
    top_.set_diff(1);
    layer->Backward({&top_}, {true}, {&bottom});
    const double log_base = base == -1 ? 1 : std::log(base);
    for (int i = 0; i < bottom.count(); ++i) {
      const double x = bottom.cpu_data()[i];
      const double y = std::exp(log_base * (shift + scale * x));
      EXPECT_NEAR(top_.cpu_data()[i], y, 1e-5 * std::max(1.0, y)) << i;
      EXPECT_NEAR(bottom.cpu_diff()[i], y * log_base * scale, 1e-5 * std::max(1.0, y)) << i;
    }
    GradientChecker<Dtype>().Check(layer.get(), {&bottom}, {&top_});
  }

  Context context_;
  Blob<Dtype> top_;
};
TYPED_TEST_SUITE(ExpTest, TestDtypes);

TYPED_TEST(ExpTest, BaseE) {
  this->Check(-1, 1, 0);
}
TYPED_TEST(ExpTest, BaseEScaleShift) {
  this->Check(-1, 0.6, 0.7);
}
TYPED_TEST(ExpTest, Base2) {
  this->Check(2, 1, 0);
}
TYPED_TEST(ExpTest, Base2ScaleShift) {
  this->Check(2, -1.3, 0.4);
}

TYPED_TEST(ExpTest, RefusesNonPositiveBase) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(Shape{2});
  auto layer = MakeLayer<Dtype>("name: 'exp' type: 'Exp' exp_param { base: 0 }", &this->context_);
  EXPECT_THROW(layer->SetUp({&bottom}, {&this->top_}), ConfigError);
  auto negative =
      MakeLayer<Dtype>("name: 'exp' type: 'Exp' exp_param { base: -2 }", &this->context_);
  EXPECT_THROW(negative->SetUp({&bottom}, {&this->top_}), ConfigError);
}

}  // namespace
}  // namespace moka::test
