#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "gradient_checker.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

using Shape = std::vector<int>;

template <typename Dtype>
class MvnTest : public ::testing::Test {
 protected:
  // Checks each row of `rows` x `dim` values has mean 0 and, when `unit`, std/(std + eps) ~ 1.
  void ExpectNormalised(int rows, int dim, bool unit) {
    for (int r = 0; r < rows; ++r) {
      double sum = 0, sumsq = 0;
      for (int j = 0; j < dim; ++j) {
        const double v = top_.cpu_data()[r * dim + j];
        sum += v;
        sumsq += v * v;
      }
      EXPECT_NEAR(sum / dim, 0, 1e-5) << r;
      if (unit) EXPECT_NEAR(sumsq / dim, 1, 1e-4) << r;
    }
  }

  Context context_;
  Blob<Dtype> top_;
};
TYPED_TEST_SUITE(MvnTest, TestDtypes);

TYPED_TEST(MvnTest, ForwardByHand) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 'mvn' type: 'MVN' mvn_param { eps: 0.5 }", &this->context_);
  Blob<Dtype> bottom(Shape{1, 1, 1, 4});
  const Dtype x[] = {1, 2, 3, 6};  // mean 3, variance (4 + 1 + 0 + 9) / 4 = 3.5
  std::copy(x, x + 4, bottom.mutable_cpu_data());
  layer->SetUp({&bottom}, {&this->top_});
  layer->Forward({&bottom}, {&this->top_});
  // eps joins the standard deviation, not the variance.
  const double denom = std::sqrt(3.5) + 0.5;
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(this->top_.cpu_data()[i], (x[i] - 3) / denom, 1e-6) << i;
}

TYPED_TEST(MvnTest, PerChannelAndAcrossChannels) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(Shape{2, 3, 4, 5});
  FillUniform<Dtype>(&bottom, -3, 7);
  auto layer = MakeLayer<Dtype>("name: 'mvn' type: 'MVN'", &this->context_);
  layer->SetUp({&bottom}, {&this->top_});
  layer->Forward({&bottom}, {&this->top_});
  this->ExpectNormalised(6, 20, true);
  auto across = MakeLayer<Dtype>("name: 'mvn' type: 'MVN' mvn_param { across_channels: true }",
                                 &this->context_);
  across->SetUp({&bottom}, {&this->top_});
  across->Forward({&bottom}, {&this->top_});
  this->ExpectNormalised(2, 60, true);
  auto mean_only = MakeLayer<Dtype>(
      "name: 'mvn' type: 'MVN' mvn_param { normalize_variance: false }", &this->context_);
  mean_only->SetUp({&bottom}, {&this->top_});
  mean_only->Forward({&bottom}, {&this->top_});
  this->ExpectNormalised(6, 20, false);
}

TYPED_TEST(MvnTest, Gradient) {
  using Dtype = TypeParam;
  GradientCheckOptions<Dtype> options;
  if (std::is_same<Dtype, float>::value) options.step = Dtype(2e-3);
  Blob<Dtype> bottom(Shape{2, 3, 2, 3});
  FillUniform<Dtype>(&bottom, -1, 1, 3);
  auto layer = MakeLayer<Dtype>("name: 'mvn' type: 'MVN'", &this->context_);
  GradientChecker<Dtype>(options).Check(layer.get(), {&bottom}, {&this->top_});
}

TYPED_TEST(MvnTest, AcrossChannelsGradient) {
  using Dtype = TypeParam;
  GradientCheckOptions<Dtype> options;
  if (std::is_same<Dtype, float>::value) options.step = Dtype(2e-3);
  Blob<Dtype> bottom(Shape{1, 3, 2, 3});
  FillUniform<Dtype>(&bottom, -1, 1, 4);
  auto layer = MakeLayer<Dtype>("name: 'mvn' type: 'MVN' mvn_param { across_channels: true }",
                                &this->context_);
  GradientChecker<Dtype>(options).Check(layer.get(), {&bottom}, {&this->top_});
}

TYPED_TEST(MvnTest, MeanOnlyGradient) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(Shape{2, 3, 5});
  FillUniform<Dtype>(&bottom, -1, 1, 5);
  auto layer = MakeLayer<Dtype>("name: 'mvn' type: 'MVN' mvn_param { normalize_variance: false }",
                                &this->context_);
  GradientChecker<Dtype>().Check(layer.get(), {&bottom}, {&this->top_});
}

TYPED_TEST(MvnTest, TopTakesTheLegacyFourAxisShape) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 'mvn' type: 'MVN'", &this->context_);
  Blob<Dtype> bottom(Shape{3, 4});
  FillUniform<Dtype>(&bottom, -1, 1);
  layer->SetUp({&bottom}, {&this->top_});
  EXPECT_EQ(this->top_.shape(), (Shape{3, 4, 1, 1}));
}

TYPED_TEST(MvnTest, RefusesFiveAxes) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 'mvn' type: 'MVN'", &this->context_);
  Blob<Dtype> bottom(Shape{1, 2, 1, 2, 2});
  EXPECT_THROW(layer->SetUp({&bottom}, {&this->top_}), ShapeError);
}

}  // namespace
}  // namespace moka::test
