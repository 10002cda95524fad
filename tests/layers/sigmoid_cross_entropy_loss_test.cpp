#include <cmath>
#include <vector>

#include "gradient_checker.hpp"
#include "test_util.hpp"

namespace moka {
namespace {

template <typename Dtype>
class SigmoidCrossEntropyLossTest : public ::testing::Test {
 protected:
  SigmoidCrossEntropyLossTest() : logits_({2, 3}), targets_({2, 3}) {
    const double x[] = {0.5, -1.5, 2.0, 0.0, 3.0, -0.25};
    const double t[] = {1, 0, 0.3, 1, 0, 0.8};
    for (int i = 0; i < 6; ++i) {
      logits_.mutable_cpu_data()[i] = static_cast<Dtype>(x[i]);
      targets_.mutable_cpu_data()[i] = static_cast<Dtype>(t[i]);
    }
  }

  /// -[t log s(x) + (1 - t) log(1 - s(x))] written naively (fine for moderate x).
  static double Naive(double x, double t) {
    const double s = 1 / (1 + std::exp(-x));
    return -(t * std::log(s) + (1 - t) * std::log(1 - s));
  }

  double Run(const std::string& extra) {
    auto layer = test::MakeLayer<Dtype>("type: 'SigmoidCrossEntropyLoss' " + extra, &context_);
    layer->SetUp({&logits_, &targets_}, {&loss_});
    layer->Forward({&logits_, &targets_}, {&loss_});
    return loss_.cpu_data()[0];
  }

  double Sum(bool skip_ones) const {
    double sum = 0;
    for (int i = 0; i < 6; ++i) {
      const double t = targets_.cpu_data()[i];
      if (skip_ones && t == 1) continue;
      sum += Naive(logits_.cpu_data()[i], t);
    }
    return sum;
  }

  Context context_;
  Blob<Dtype> logits_, targets_, loss_;
};

TYPED_TEST_SUITE(SigmoidCrossEntropyLossTest, test::TestDtypes);

TYPED_TEST(SigmoidCrossEntropyLossTest, ForwardEachNormalization) {
  const double tol = 1e-5;
  const double all = this->Sum(false), kept = this->Sum(true);
  // With neither normalization nor normalize, Caffe divides by the batch size.
  EXPECT_NEAR(this->Run(""), all / 2, tol);
  EXPECT_NEAR(this->Run("loss_param { normalization: VALID }"), all / 6, tol);
  EXPECT_NEAR(this->Run("loss_param { normalization: FULL }"), all / 6, tol);
  EXPECT_NEAR(this->Run("loss_param { normalization: NONE }"), all, tol);
  EXPECT_NEAR(this->Run("loss_param { normalize: true }"), all / 6, tol);
  EXPECT_NEAR(this->Run("loss_param { normalize: false }"), all / 2, tol);
  // Targets equal to 1 ignored: two of six.
  EXPECT_NEAR(this->Run("loss_param { ignore_label: 1 normalization: VALID }"), kept / 4, tol);
  EXPECT_NEAR(this->Run("loss_param { ignore_label: 1 normalization: FULL }"), kept / 6, tol);
  EXPECT_NEAR(this->Run("loss_param { ignore_label: 1 }"), kept / 2, tol);
}

TYPED_TEST(SigmoidCrossEntropyLossTest, StableForLargeLogits) {
  using Dtype = TypeParam;
  // For |x| large the naive formula hits log(0); the exact value is max(x, 0) - x t + log1p(e^-|x|).
  const double x[] = {80.0, -80.0, 200.0, -200.0, 30.0, -30.0};
  const double t[] = {0, 1, 0.25, 0.75, 1, 0};
  double expected = 0;
  for (int i = 0; i < 6; ++i) {
    this->logits_.mutable_cpu_data()[i] = static_cast<Dtype>(x[i]);
    this->targets_.mutable_cpu_data()[i] = static_cast<Dtype>(t[i]);
    expected += std::max(x[i], 0.0) - x[i] * t[i] + std::log1p(std::exp(-std::fabs(x[i])));
  }
  const double loss = this->Run("loss_param { normalization: NONE }");
  EXPECT_TRUE(std::isfinite(loss));
  EXPECT_NEAR(loss, expected, 1e-6 * expected);
}

TYPED_TEST(SigmoidCrossEntropyLossTest, BackwardByHand) {
  using Dtype = TypeParam;
  auto layer = test::MakeLayer<Dtype>(
      "type: 'SigmoidCrossEntropyLoss' loss_weight: 0.5 loss_param { ignore_label: 0 "
      "normalization: VALID }",
      &this->context_);
  std::vector<Blob<Dtype>*> bottoms = {&this->logits_, &this->targets_}, tops = {&this->loss_};
  layer->SetUp(bottoms, tops);
  layer->Forward(bottoms, tops);
  layer->Backward(tops, {true, false}, bottoms);
  // Targets are compared with ignore_label after truncation to int (as Caffe does), so 0.3 and
  // 0.8 are ignored along with 0, leaving two valid positions.
  for (int i = 0; i < 6; ++i) {
    const double x = this->logits_.cpu_data()[i], t = this->targets_.cpu_data()[i];
    const double expected = static_cast<int>(t) == 0 ? 0 : (1 / (1 + std::exp(-x)) - t) * 0.5 / 2;
    EXPECT_NEAR(this->logits_.cpu_diff()[i], expected, 1e-6);
  }
  EXPECT_THROW(layer->Backward(tops, {true, true}, bottoms), ConfigError);
}

TYPED_TEST(SigmoidCrossEntropyLossTest, CountMismatchThrows) {
  Blob<TypeParam> targets({2, 4});
  auto layer = test::MakeLayer<TypeParam>("type: 'SigmoidCrossEntropyLoss'", &this->context_);
  EXPECT_THROW(layer->SetUp({&this->logits_, &targets}, {&this->loss_}), ShapeError);
}

TYPED_TEST(SigmoidCrossEntropyLossTest, Gradient) {
  using Dtype = TypeParam;
  Blob<Dtype> logits({3, 5}), targets({3, 5}), loss;
  test::FillGaussian<Dtype>(&logits, 2, 5);
  test::FillUniform<Dtype>(&targets, 0, 1, 6);
  for (const char* param : {"", "loss_param { normalization: VALID }"}) {
    SCOPED_TRACE(param);
    auto layer = test::MakeLayer<Dtype>(std::string("type: 'SigmoidCrossEntropyLoss' ") + param,
                                        &this->context_);
    test::GradientCheckOptions<Dtype> options;
    options.check_bottoms = {0};
    test::GradientChecker<Dtype>(options).Check(layer.get(), {&logits, &targets}, {&loss});
  }
  // Binary targets with some ignored (-1), batch 1.
  Blob<Dtype> x1({1, 7}), t1({1, 7});
  test::FillGaussian<Dtype>(&x1, 1, 8);
  const double t[] = {1, 0, -1, 1, -1, 0, 0};
  for (int i = 0; i < 7; ++i) t1.mutable_cpu_data()[i] = static_cast<Dtype>(t[i]);
  auto layer = test::MakeLayer<Dtype>(
      "type: 'SigmoidCrossEntropyLoss' loss_param { ignore_label: -1 normalization: VALID }",
      &this->context_);
  test::GradientCheckOptions<Dtype> options;
  options.check_bottoms = {0};
  test::GradientChecker<Dtype>(options).Check(layer.get(), {&x1, &t1}, {&loss});
}

}  // namespace
}  // namespace moka
