#include <gtest/gtest.h>

#include <vector>

#include "gradient_checker.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

using Shape = std::vector<int>;

template <typename Dtype>
class ClipTest : public ::testing::Test {
 protected:
  Context context_;
  Blob<Dtype> top_;
};
TYPED_TEST_SUITE(ClipTest, TestDtypes);

TYPED_TEST(ClipTest, ForwardAndBackwardByHand) {
  using Dtype = TypeParam;
  auto layer =
      MakeLayer<Dtype>("name: 'clip' type: 'Clip' clip_param { min: -1 max: 2 }", &this->context_);
  Blob<Dtype> bottom(Shape{1, 6});
  const Dtype values[] = {-3, -1, -0.5, 1.5, 2, 5};
  std::copy(values, values + 6, bottom.mutable_cpu_data());
  layer->SetUp({&bottom}, {&this->top_});
  layer->Forward({&bottom}, {&this->top_});
  const Dtype expected[] = {-1, -1, -0.5, 1.5, 2, 2};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(this->top_.cpu_data()[i], expected[i]) << i;
  this->top_.set_diff(3);
  layer->Backward({&this->top_}, {true}, {&bottom});
  // The bounds themselves pass the gradient.
  const Dtype expected_diff[] = {0, 3, 3, 3, 3, 0};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(bottom.cpu_diff()[i], expected_diff[i]) << i;
}

TYPED_TEST(ClipTest, Gradient) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(Shape{1, 3, 5, 3});
  FillUniform<Dtype>(&bottom, -2, 2, 3);
  // Keep inputs away from the bounds, where the function has kinks.
  Dtype* x = bottom.mutable_cpu_data();
  for (int i = 0; i < bottom.count(); ++i) {
    if (std::fabs(x[i] + Dtype(0.5)) < Dtype(0.05) || std::fabs(x[i] - 1) < Dtype(0.05)) x[i] = 0;
  }
  auto layer = MakeLayer<Dtype>("name: 'clip' type: 'Clip' clip_param { min: -0.5 max: 1 }",
                                &this->context_);
  GradientChecker<Dtype>().Check(layer.get(), {&bottom}, {&this->top_});
}

TYPED_TEST(ClipTest, NeedsBothBounds) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(Shape{2});
  auto layer = MakeLayer<Dtype>("name: 'clip' type: 'Clip'", &this->context_);
  EXPECT_THROW(layer->SetUp({&bottom}, {&this->top_}), ConfigError);
  auto inverted =
      MakeLayer<Dtype>("name: 'clip' type: 'Clip' clip_param { min: 2 max: 1 }", &this->context_);
  EXPECT_THROW(inverted->SetUp({&bottom}, {&this->top_}), ConfigError);
}

}  // namespace
}  // namespace moka::test
