// Each learning-rate policy against its formula at several iterations.
#include "lr_policy.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "solver_test_util.hpp"

namespace moka {
namespace {

using test::ParseSolver;

template <typename Dtype>
class LrPolicyTest : public ::testing::Test {
 protected:
  Dtype Rate(const SolverParameter& param, int iter) {
    int step = 0;
    return LearningRate<Dtype>(param, iter, &step);
  }
  void ExpectRate(double expected, Dtype actual, int iter) {
    // The solver fields are floats, so even double rates carry float rounding; float rates also
    // lose digits to the cancellation in 1 - iter/max_iter near the end of a poly schedule.
    const double tolerance = sizeof(Dtype) == 4 ? 2e-5 : 1e-6;
    EXPECT_NEAR(expected, actual, tolerance * std::abs(expected) + 1e-15)
        << "at iteration " << iter;
  }
};

TYPED_TEST_SUITE(LrPolicyTest, test::TestDtypes);

TYPED_TEST(LrPolicyTest, Fixed) {
  const auto param = ParseSolver("lr_policy: 'fixed' base_lr: 0.05 gamma: 0.5 stepsize: 2");
  for (int iter : {0, 1, 7, 1000}) this->ExpectRate(0.05, this->Rate(param, iter), iter);
}

TYPED_TEST(LrPolicyTest, Step) {
  const auto param = ParseSolver("lr_policy: 'step' base_lr: 0.1 gamma: 0.5 stepsize: 3");
  for (int iter : {0, 2, 3, 5, 6, 10, 31}) {
    int step = -1;
    const TypeParam rate = LearningRate<TypeParam>(param, iter, &step);
    this->ExpectRate(0.1 * std::pow(0.5, iter / 3), rate, iter);
    EXPECT_EQ(iter / 3, step);
  }
}

TYPED_TEST(LrPolicyTest, Exp) {
  const auto param = ParseSolver("lr_policy: 'exp' base_lr: 0.2 gamma: 0.9");
  for (int iter : {0, 1, 4, 25})
    this->ExpectRate(0.2 * std::pow(0.9, iter), this->Rate(param, iter), iter);
}

TYPED_TEST(LrPolicyTest, Inv) {
  // LeNet's schedule.
  const auto param = ParseSolver("lr_policy: 'inv' base_lr: 0.01 gamma: 0.0001 power: 0.75");
  for (int iter : {0, 1, 100, 5000, 10000}) {
    this->ExpectRate(0.01 * std::pow(1 + 0.0001 * iter, -0.75), this->Rate(param, iter), iter);
  }
}

TYPED_TEST(LrPolicyTest, MultiStep) {
  const auto param = ParseSolver(
      "lr_policy: 'multistep' base_lr: 0.1 gamma: 0.1 stepvalue: 3 stepvalue: 5 stepvalue: 9");
  int step = 0;
  for (int iter = 0; iter < 12; ++iter) {
    const TypeParam rate = LearningRate<TypeParam>(param, iter, &step);
    const int passed = (iter >= 3) + (iter >= 5) + (iter >= 9);
    EXPECT_EQ(passed, step) << "at iteration " << iter;
    this->ExpectRate(0.1 * std::pow(0.1, passed), rate, iter);
  }
}

TYPED_TEST(LrPolicyTest, MultiStepAdvancesOneBoundaryPerCall) {
  // Caffe moves at most one stepvalue per iteration, so a jump lags behind (and a resumed
  // current_step carries the position).
  const auto param =
      ParseSolver("lr_policy: 'multistep' base_lr: 1 gamma: 0.5 stepvalue: 2 stepvalue: 4");
  int step = 0;
  LearningRate<TypeParam>(param, 10, &step);
  EXPECT_EQ(1, step);
  const TypeParam rate = LearningRate<TypeParam>(param, 11, &step);
  EXPECT_EQ(2, step);
  this->ExpectRate(0.25, rate, 11);
}

TYPED_TEST(LrPolicyTest, Poly) {
  const auto param = ParseSolver("lr_policy: 'poly' base_lr: 0.3 power: 2 max_iter: 100");
  for (int iter : {0, 1, 50, 99, 100}) {
    this->ExpectRate(0.3 * std::pow(1.0 - iter / 100.0, 2.0), this->Rate(param, iter), iter);
  }
}

TYPED_TEST(LrPolicyTest, Sigmoid) {
  const auto param = ParseSolver("lr_policy: 'sigmoid' base_lr: 0.4 gamma: 0.05 stepsize: 20");
  for (int iter : {0, 10, 20, 35, 200}) {
    this->ExpectRate(0.4 / (1 + std::exp(-0.05 * (iter - 20))), this->Rate(param, iter), iter);
  }
}

TYPED_TEST(LrPolicyTest, UnknownPolicyListsKnown) {
  const auto param = ParseSolver("lr_policy: 'cosine' base_lr: 0.1");
  try {
    this->Rate(param, 0);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("'cosine'"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("multistep"), std::string::npos) << error.what();
  }
  EXPECT_THROW(this->Rate(ParseSolver("base_lr: 0.1"), 0), ConfigError);
}

TYPED_TEST(LrPolicyTest, InvalidParametersAreConfigErrors) {
  EXPECT_THROW(this->Rate(ParseSolver("lr_policy: 'step' base_lr: 1 gamma: 0.1"), 3), ConfigError);
  EXPECT_THROW(this->Rate(ParseSolver("lr_policy: 'exp' base_lr: 1 gamma: -0.1"), 3), ConfigError);
  EXPECT_THROW(this->Rate(ParseSolver("lr_policy: 'sigmoid' base_lr: 1 gamma: 0.1"), 3),
               ConfigError);
}

}  // namespace
}  // namespace moka
