#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "gradient_checker.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

using Shape = std::vector<int>;

template <typename Dtype>
class DropoutTest : public ::testing::Test {
 protected:
  DropoutTest() : bottom_(Shape{4, 5, 7, 11}) { FillUniform<Dtype>(&bottom_, 0.5, 2); }
  Context context_{Device::kCpu, 0, 42};
  Blob<Dtype> bottom_;
  Blob<Dtype> top_;
};
TYPED_TEST_SUITE(DropoutTest, TestDtypes);

TYPED_TEST(DropoutTest, TrainKeepsAboutOneMinusRatioAndScales) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>(
      "name: 'drop' type: 'Dropout' phase: TRAIN dropout_param { dropout_ratio: 0.3 }",
      &this->context_);
  layer->SetUp({&this->bottom_}, {&this->top_});
  EXPECT_EQ(this->top_.shape(), this->bottom_.shape());
  layer->Forward({&this->bottom_}, {&this->top_});
  // The ratio is a float in the schema, widened before the scale is formed.
  const Dtype scale = static_cast<Dtype>(1.0 / (1.0 - double(0.3f)));
  const int n = this->bottom_.count();
  int kept = 0;
  for (int i = 0; i < n; ++i) {
    const Dtype x = this->bottom_.cpu_data()[i];
    const Dtype y = this->top_.cpu_data()[i];
    if (y != 0) {
      EXPECT_EQ(y, x * scale);
      ++kept;
    }
  }
  // 1540 Bernoulli(0.7) draws: the kept fraction lies well within 0.7 +- 0.05.
  EXPECT_NEAR(double(kept) / n, 0.7, 0.05);

  FillUniform<Dtype>(&this->top_, -1, 1, 3);
  cpu_copy(n, this->top_.cpu_data(), this->top_.mutable_cpu_diff());
  layer->Forward({&this->bottom_}, {&this->top_});
  const std::vector<Dtype> output(this->top_.cpu_data(), this->top_.cpu_data() + n);
  layer->Backward({&this->top_}, {true}, {&this->bottom_});
  for (int i = 0; i < n; ++i) {
    const Dtype dy = this->top_.cpu_diff()[i];
    EXPECT_EQ(this->bottom_.cpu_diff()[i], output[i] != 0 ? dy * scale : Dtype(0)) << i;
  }
}

TYPED_TEST(DropoutTest, MaskComesFromTheContextStream) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 'drop' type: 'Dropout' phase: TRAIN", &this->context_);
  layer->SetUp({&this->bottom_}, {&this->top_});
  const int n = this->bottom_.count();
  this->context_.Seed(5);
  layer->Forward({&this->bottom_}, {&this->top_});
  const std::vector<Dtype> first(this->top_.cpu_data(), this->top_.cpu_data() + n);
  layer->Forward({&this->bottom_}, {&this->top_});
  const std::vector<Dtype> second(this->top_.cpu_data(), this->top_.cpu_data() + n);
  this->context_.Seed(5);
  layer->Forward({&this->bottom_}, {&this->top_});
  const std::vector<Dtype> again(this->top_.cpu_data(), this->top_.cpu_data() + n);
  EXPECT_EQ(first, again);
  EXPECT_NE(first, second);
  for (int i = 0; i < n; ++i) {
    if (first[i] != 0) EXPECT_EQ(first[i], this->bottom_.cpu_data()[i] * Dtype(2));
  }
}

TYPED_TEST(DropoutTest, TestPhaseIsIdentity) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>(
      "name: 'drop' type: 'Dropout' phase: TEST dropout_param { dropout_ratio: 0.6 }",
      &this->context_);
  layer->SetUp({&this->bottom_}, {&this->top_});
  layer->Forward({&this->bottom_}, {&this->top_});
  const int n = this->bottom_.count();
  for (int i = 0; i < n; ++i) EXPECT_EQ(this->top_.cpu_data()[i], this->bottom_.cpu_data()[i]);
  FillUniform<Dtype>(&this->top_, -1, 1, 3);
  cpu_copy(n, this->top_.cpu_data(), this->top_.mutable_cpu_diff());
  layer->Backward({&this->top_}, {true}, {&this->bottom_});
  for (int i = 0; i < n; ++i) EXPECT_EQ(this->bottom_.cpu_diff()[i], this->top_.cpu_diff()[i]);
}

TYPED_TEST(DropoutTest, TrainInPlace) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>(
      "name: 'drop' type: 'Dropout' phase: TRAIN dropout_param { dropout_ratio: 0.5 }",
      &this->context_);
  const int n = this->bottom_.count();
  const std::vector<Dtype> input(this->bottom_.cpu_data(), this->bottom_.cpu_data() + n);
  layer->SetUp({&this->bottom_}, {&this->bottom_});
  layer->Forward({&this->bottom_}, {&this->bottom_});
  const Dtype* y = this->bottom_.cpu_data();
  int kept = 0;
  for (int i = 0; i < n; ++i) {
    if (y[i] != 0) {
      EXPECT_EQ(y[i], input[i] * Dtype(2));
      ++kept;
    }
  }
  EXPECT_GT(kept, 0);
  EXPECT_LT(kept, n);
  this->bottom_.set_diff(1);
  layer->Backward({&this->bottom_}, {true}, {&this->bottom_});
  for (int i = 0; i < n; ++i)
    EXPECT_EQ(this->bottom_.cpu_diff()[i], y[i] != 0 ? Dtype(2) : Dtype(0)) << i;
}

TYPED_TEST(DropoutTest, RejectsRatioOfOne) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>(
      "name: 'drop' type: 'Dropout' dropout_param { dropout_ratio: 1 }", &this->context_);
  EXPECT_THROW(layer->SetUp({&this->bottom_}, {&this->top_}), ConfigError);
}

TYPED_TEST(DropoutTest, GradientInTrainPhase) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(Shape{2, 3, 5});
  FillUniform<Dtype>(&bottom, -1, 1);
  auto layer = MakeLayer<Dtype>(
      "name: 'drop' type: 'Dropout' phase: TRAIN dropout_param { dropout_ratio: 0.4 }",
      &this->context_);
  GradientChecker<Dtype>().Check(layer.get(), {&bottom}, {&this->top_});
}

TYPED_TEST(DropoutTest, GradientInTestPhase) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(Shape{2, 3, 5});
  FillUniform<Dtype>(&bottom, -1, 1);
  auto layer = MakeLayer<Dtype>("name: 'drop' type: 'Dropout' phase: TEST", &this->context_);
  GradientChecker<Dtype>().Check(layer.get(), {&bottom}, {&this->top_});
}

}  // namespace
}  // namespace moka::test
