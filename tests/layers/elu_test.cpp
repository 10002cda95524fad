#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "gradient_checker.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

using Shape = std::vector<int>;

template <typename Dtype>
class EluTest : public ::testing::Test {
 protected:
  Context context_;
  Blob<Dtype> top_;
};
TYPED_TEST_SUITE(EluTest, TestDtypes);

TYPED_TEST(EluTest, ForwardAndBackwardByHand) {
  using Dtype = TypeParam;
  auto layer =
      MakeLayer<Dtype>("name: 'elu' type: 'ELU' elu_param { alpha: 0.5 }", &this->context_);
  Blob<Dtype> bottom(Shape{1, 5});
  const Dtype values[] = {-2, -0.5, 0, 0.5, 3};
  std::copy(values, values + 5, bottom.mutable_cpu_data());
  layer->SetUp({&bottom}, {&this->top_});
  layer->Forward({&bottom}, {&this->top_});
  for (int i = 0; i < 5; ++i) {
    const double x = values[i];
    const double expected = x > 0 ? x : 0.5 * (std::exp(x) - 1);
    EXPECT_NEAR(this->top_.cpu_data()[i], expected, 1e-6) << i;
  }
  this->top_.set_diff(2);
  layer->Backward({&this->top_}, {true}, {&bottom});
  for (int i = 0; i < 5; ++i) {
    const double x = values[i];
    const double expected = 2 * (x > 0 ? 1 : 0.5 * std::exp(x));
    EXPECT_NEAR(bottom.cpu_diff()[i], expected, 1e-6) << i;
  }
}

TYPED_TEST(EluTest, InPlaceMatches) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 'elu' type: 'ELU'", &this->context_);
  Blob<Dtype> bottom(Shape{2, 3, 4});
  FillUniform<Dtype>(&bottom, -2, 2);
  Blob<Dtype> copy(Shape{2, 3, 4});
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
    EXPECT_NEAR(copy.cpu_diff()[i], bottom.cpu_diff()[i], 1e-6);
  }
}

TYPED_TEST(EluTest, Gradient) {
  using Dtype = TypeParam;
  GradientCheckOptions<Dtype> options;
  options.kink_range = Dtype(0.02);
  Blob<Dtype> bottom(Shape{1, 3, 5, 3});
  FillUniform<Dtype>(&bottom, -2, 2, 3);
  auto layer =
      MakeLayer<Dtype>("name: 'elu' type: 'ELU' elu_param { alpha: 0.7 }", &this->context_);
  GradientChecker<Dtype>(options).Check(layer.get(), {&bottom}, {&this->top_});
}

TYPED_TEST(EluTest, RefusesTwoBottoms) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 'elu' type: 'ELU'", &this->context_);
  Blob<Dtype> a(Shape{2}), b(Shape{2});
  EXPECT_THROW(layer->SetUp({&a, &b}, {&this->top_}), ConfigError);
}

}  // namespace
}  // namespace moka::test
