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
class LogTest : public ::testing::Test {
 protected:
  void Check(double base, double scale, double shift) {
    const std::string def = "name: 'log' type: 'Log' log_param { base: " + std::to_string(base) +
                            " scale: " + std::to_string(scale) +
                            " shift: " + std::to_string(shift) + " }";
    auto layer = MakeLayer<Dtype>(def, &context_);
    Blob<Dtype> bottom(Shape{2, 3, 4});
    // Keeps shift + scale * x positive for every case below.
    FillUniform<Dtype>(&bottom, Dtype(0.5), Dtype(1.5));
    layer->SetUp({&bottom}, {&top_});
    layer->Forward({&bottom}, {&top_});
    top_.set_diff(1);
    layer->Backward({&top_}, {true}, {&bottom});
    const double log_base = base == -1 ? 1 : std::log(base);
    for (int i = 0; i < bottom.count(); ++i) {
      const double x = bottom.cpu_data()[i];
      const double u = shift + scale * x;
      EXPECT_NEAR(top_.cpu_data()[i], std::log(u) / log_base, 1e-5) << i;
      EXPECT_NEAR(bottom.cpu_diff()[i], scale / (log_base * u), 1e-5) << i;
    }
    GradientChecker<Dtype>().Check(layer.get(), {&bottom}, {&top_});
  }

  Context context_;
  Blob<Dtype> top_;
};
TYPED_TEST_SUITE(LogTest, TestDtypes);

TYPED_TEST(LogTest, BaseE) {
  this->Check(-1, 1, 0);
}
TYPED_TEST(LogTest, BaseEScaleShift) {
  this->Check(-1, 0.8, 0.3);
}
TYPED_TEST(LogTest, Base2) {
  this->Check(2, 1, 0);
}
TYPED_TEST(LogTest, Base2ScaleShift) {
  this->Check(2, 1.7, 0.5);
}

TYPED_TEST(LogTest, RefusesNonPositiveBase) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(Shape{2});
  auto layer = MakeLayer<Dtype>("name: 'log' type: 'Log' log_param { base: -3 }", &this->context_);
  EXPECT_THROW(layer->SetUp({&bottom}, {&this->top_}), ConfigError);
}

}  // namespace
}  // namespace moka::test
