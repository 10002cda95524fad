#include <cfloat>
#include <cmath>
#include <vector>

#include "gradient_checker.hpp"
#include "test_util.hpp"

namespace moka {
namespace {

template <typename Dtype>
class SoftmaxWithLossTest : public ::testing::Test {
 protected:
  // Scores (2, 3, 2): outer 2, classes 3, inner 2; labels (2, 2).
  SoftmaxWithLossTest() : scores_({2, 3, 2}), labels_({2, 2}) {
    const double x[] = {1.0, -0.5, 2.0, 0.25, -1.0, 3.0, 0.5, 0.0, -2.0, 1.5, 4.0, -0.75};
    for (int i = 0; i < 12; ++i) scores_.mutable_cpu_data()[i] = static_cast<Dtype>(x[i]);
    const double l[] = {2, 1, 0, 2};
    for (int i = 0; i < 4; ++i) labels_.mutable_cpu_data()[i] = static_cast<Dtype>(l[i]);
  }

  /// -log softmax probability of `label` at (i, j), in double.
  double NegLogProb(int i, int j, int label) const {
    const Dtype* x = scores_.cpu_data();
    double sum = 0;
    for (int c = 0; c < 3; ++c) sum += std::exp(static_cast<double>(x[i * 6 + c * 2 + j]));
    return -(static_cast<double>(x[i * 6 + label * 2 + j]) - std::log(sum));
  }

  double Run(const std::string& loss_param, int extra_tops = 0) {
    auto layer = test::MakeLayer<Dtype>(
        "type: 'SoftmaxWithLoss' softmax_param { axis: 1 } " + loss_param, &context_);
    std::vector<Blob<Dtype>*> tops = {&loss_};
    if (extra_tops) tops.push_back(&prob_);
    layer->SetUp({&scores_, &labels_}, tops);
    EXPECT_EQ(loss_.num_axes(), 0);
    const double weighted = layer->Forward({&scores_, &labels_}, tops);
    EXPECT_NEAR(weighted, loss_.cpu_data()[0], 1e-6);
    return loss_.cpu_data()[0];
  }

  Context context_;
  Blob<Dtype> scores_, labels_, loss_, prob_;
};

TYPED_TEST_SUITE(SoftmaxWithLossTest, test::TestDtypes);

TYPED_TEST(SoftmaxWithLossTest, ForwardEachNormalization) {
  const int label[2][2] = {{2, 1}, {0, 2}};
  double total = 0, without_ignored = 0;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) {
      total += this->NegLogProb(i, j, label[i][j]);
      if (label[i][j] != 2) without_ignored += this->NegLogProb(i, j, label[i][j]);
    }
  const double tol = 1e-5;
  EXPECT_NEAR(this->Run(""), total / 4, tol);  // VALID with nothing ignored: all 4 positions
  EXPECT_NEAR(this->Run("loss_param { normalization: FULL }"), total / 4, tol);
  EXPECT_NEAR(this->Run("loss_param { normalization: BATCH_SIZE }"), total / 2, tol);
  EXPECT_NEAR(this->Run("loss_param { normalization: NONE }"), total, tol);
  EXPECT_NEAR(this->Run("loss_param { normalize: false }"), total / 2, tol);
  EXPECT_NEAR(this->Run("loss_param { normalize: true }"), total / 4, tol);
  // ignore_label 2 drops two of the four positions.
  EXPECT_NEAR(this->Run("loss_param { ignore_label: 2 }"), without_ignored / 2, tol);
  EXPECT_NEAR(this->Run("loss_param { ignore_label: 2 normalization: FULL }"),
              without_ignored / 4, tol);
  EXPECT_NEAR(this->Run("loss_param { ignore_label: 2 normalization: BATCH_SIZE }"),
              without_ignored / 2, tol);
  EXPECT_NEAR(this->Run("loss_param { ignore_label: 2 normalization: NONE }"), without_ignored,
              tol);
}

TYPED_TEST(SoftmaxWithLossTest, AllIgnoredGivesZero) {
  for (int i = 0; i < 4; ++i) this->labels_.mutable_cpu_data()[i] = 5;
  EXPECT_EQ(this->Run("loss_param { ignore_label: 5 }"), 0);
}

TYPED_TEST(SoftmaxWithLossTest, SecondTopHoldsProbabilities) {
  using Dtype = TypeParam;
  this->Run("", 1);
  ASSERT_EQ(this->prob_.shape(), this->scores_.shape());
  const Dtype* x = this->scores_.cpu_data();
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) {
      double sum = 0;
      for (int c = 0; c < 3; ++c) sum += std::exp(static_cast<double>(x[i * 6 + c * 2 + j]));
      for (int c = 0; c < 3; ++c)
        EXPECT_NEAR(this->prob_.cpu_data()[i * 6 + c * 2 + j],
                    std::exp(static_cast<double>(x[i * 6 + c * 2 + j])) / sum, 1e-6);
    }
}

TYPED_TEST(SoftmaxWithLossTest, DefaultLossWeightIsOne) {
  auto layer = test::MakeLayer<TypeParam>("type: 'SoftmaxWithLoss'", &this->context_);
  layer->SetUp({&this->scores_, &this->labels_}, {&this->loss_});
  ASSERT_EQ(layer->layer_param().loss_weight_size(), 1);
  EXPECT_EQ(layer->loss(0), TypeParam(1));
  EXPECT_FALSE(layer->AllowForceBackward(1));
  EXPECT_TRUE(layer->AllowForceBackward(0));
}

TYPED_TEST(SoftmaxWithLossTest, HugeScoresStayFinite) {
  this->scores_.mutable_cpu_data()[0] = static_cast<TypeParam>(-1e30);  // label of (0,0) is 2
  this->scores_.mutable_cpu_data()[4] = static_cast<TypeParam>(-1e30);
  const double loss = this->Run("loss_param { normalization: NONE }");
  EXPECT_TRUE(std::isfinite(loss));
}

TYPED_TEST(SoftmaxWithLossTest, ProbabilityFlooredAtFltMin) {
  using Dtype = TypeParam;
  Blob<Dtype> scores({1, 2}), labels({1});
  scores.mutable_cpu_data()[0] = 0;
  scores.mutable_cpu_data()[1] = 1000;
  labels.mutable_cpu_data()[0] = 0;
  Blob<Dtype> loss;
  auto layer = test::MakeLayer<Dtype>("type: 'SoftmaxWithLoss'", &this->context_);
  layer->SetUp({&scores, &labels}, {&loss});
  layer->Forward({&scores, &labels}, {&loss});
  EXPECT_NEAR(loss.cpu_data()[0], -std::log(static_cast<Dtype>(FLT_MIN)), 1e-3);
}

TYPED_TEST(SoftmaxWithLossTest, LabelOutOfRangeThrows) {
  this->labels_.mutable_cpu_data()[1] = 3;
  try {
    this->Run("");
    FAIL() << "expected ShapeError";
  } catch (const ShapeError& error) {
    EXPECT_NE(std::string(error.what()).find("label 3"), std::string::npos) << error.what();
  }
  this->labels_.mutable_cpu_data()[1] = -1;
  EXPECT_THROW(this->Run(""), ShapeError);
}

TYPED_TEST(SoftmaxWithLossTest, LabelCountMismatchThrows) {
  Blob<TypeParam> labels({2, 3});
  auto layer = test::MakeLayer<TypeParam>("type: 'SoftmaxWithLoss'", &this->context_);
  EXPECT_THROW(layer->SetUp({&this->scores_, &labels}, {&this->loss_}), ShapeError);
}

TYPED_TEST(SoftmaxWithLossTest, BackwardMatchesHandComputation) {
  using Dtype = TypeParam;
  auto layer = test::MakeLayer<Dtype>(
      "type: 'SoftmaxWithLoss' loss_weight: 3 loss_param { ignore_label: 1 }", &this->context_);
  std::vector<Blob<Dtype>*> bottoms = {&this->scores_, &this->labels_}, tops = {&this->loss_};
  layer->SetUp(bottoms, tops);
  layer->Forward(bottoms, tops);
  layer->Backward(tops, {true, false}, bottoms);
  const int label[2][2] = {{2, 1}, {0, 2}};
  const Dtype* x = this->scores_.cpu_data();
  const double normalizer = 3;  // one of four positions ignored
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) {
      double sum = 0;
      for (int c = 0; c < 3; ++c) sum += std::exp(static_cast<double>(x[i * 6 + c * 2 + j]));
      for (int c = 0; c < 3; ++c) {
        double expected = std::exp(static_cast<double>(x[i * 6 + c * 2 + j])) / sum;
        if (c == label[i][j]) expected -= 1;
        if (label[i][j] == 1) expected = 0;
        EXPECT_NEAR(this->scores_.cpu_diff()[i * 6 + c * 2 + j], expected * 3 / normalizer, 1e-6);
      }
    }
  EXPECT_THROW(layer->Backward(tops, {true, true}, bottoms), ConfigError);
}

TYPED_TEST(SoftmaxWithLossTest, Gradient) {
  using Dtype = TypeParam;
  for (const char* param : {"", "loss_param { ignore_label: 2 normalization: FULL }",
                            "loss_param { normalization: BATCH_SIZE }"}) {
    SCOPED_TRACE(param);
    auto layer = test::MakeLayer<Dtype>(std::string("type: 'SoftmaxWithLoss' ") + param,
                                        &this->context_);
    test::GradientCheckOptions<Dtype> options;
    options.check_bottoms = {0};
    test::GradientChecker<Dtype>(options).Check(layer.get(), {&this->scores_, &this->labels_},
                                                {&this->loss_});
  }
}

TYPED_TEST(SoftmaxWithLossTest, GradientOtherAxisAndBatchOne) {
  using Dtype = TypeParam;
  // Scores (1, 2, 5) with classes on the last axis: outer 2, inner 1.
  Blob<Dtype> scores({1, 2, 5}), labels({1, 2}), loss;
  test::FillGaussian<Dtype>(&scores, 1, 11);
  labels.mutable_cpu_data()[0] = 4;
  labels.mutable_cpu_data()[1] = 0;
  auto layer = test::MakeLayer<Dtype>("type: 'SoftmaxWithLoss' softmax_param { axis: -1 }",
                                      &this->context_);
  test::GradientCheckOptions<Dtype> options;
  options.check_bottoms = {0};
  test::GradientChecker<Dtype>(options).Check(layer.get(), {&scores, &labels}, {&loss});
}

}  // namespace
}  // namespace moka
