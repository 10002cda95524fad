#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "gradient_checker.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

using Shape = std::vector<int>;

template <typename Dtype>
class BnllTest : public ::testing::Test {
 protected:
  Context context_;
  Blob<Dtype> top_;
};
TYPED_TEST_SUITE(BnllTest, TestDtypes);

TYPED_TEST(BnllTest, ForwardAndBackwardByHand) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 'bnll' type: 'BNLL'", &this->context_);
  Blob<Dtype> bottom(Shape{6});
  const Dtype values[] = {-30, -1, 0, 0.5, 3, 80};
  std::copy(values, values + 6, bottom.mutable_cpu_data());
  layer->SetUp({&bottom}, {&this->top_});
  layer->Forward({&bottom}, {&this->top_});
  for (int i = 0; i < 6; ++i) {
    const double x = values[i];
    const double expected = x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
    EXPECT_NEAR(this->top_.cpu_data()[i], expected, 1e-5 * std::max(1.0, std::fabs(expected))) << i;
  }
  this->top_.set_diff(2);
  layer->Backward({&this->top_}, {true}, {&bottom});
  for (int i = 0; i < 6; ++i) {
    const double x = values[i];
    EXPECT_NEAR(bottom.cpu_diff()[i], 2 / (1 + std::exp(-x)), 1e-6) << i;
  }
}

TYPED_TEST(BnllTest, Gradient) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(Shape{2, 3, 5});
  FillUniform<Dtype>(&bottom, -3, 3, 3);
  auto layer = MakeLayer<Dtype>("name: 'bnll' type: 'BNLL'", &this->context_);
  GradientChecker<Dtype>().Check(layer.get(), {&bottom}, {&this->top_});
}

TYPED_TEST(BnllTest, RefusesTwoTops) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 'bnll' type: 'BNLL'", &this->context_);
  Blob<Dtype> bottom(Shape{2}), other;
  EXPECT_THROW(layer->SetUp({&bottom}, {&this->top_, &other}), ConfigError);
}

}  // namespace
}  // namespace moka::test
