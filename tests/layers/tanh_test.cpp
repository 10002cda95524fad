#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "gradient_checker.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

using Shape = std::vector<int>;

template <typename Dtype>
class TanhTest : public ::testing::Test {
 protected:
  Context context_;
};
TYPED_TEST_SUITE(TanhTest, TestDtypes);

TYPED_TEST(TanhTest, ForwardAndBackwardByHand) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(Shape{2, 3, 4});
  Blob<Dtype> top;
  FillUniform<Dtype>(&bottom, -4, 4);
  bottom.mutable_cpu_data()[0] = Dtype(-100);
  bottom.mutable_cpu_data()[1] = Dtype(100);
  auto layer = MakeLayer<Dtype>("name: 't' type: 'TanH'", &this->context_);
  layer->SetUp({&bottom}, {&top});
  EXPECT_EQ(top.shape(), bottom.shape());
  layer->Forward({&bottom}, {&top});
  for (int i = 0; i < bottom.count(); ++i) {
    const double x = bottom.cpu_data()[i];
    EXPECT_NEAR(top.cpu_data()[i], (std::exp(2 * x) - 1) / (std::exp(2 * x) + 1), 1e-6)
        << "x = " << x;
  }
  EXPECT_EQ(top.cpu_data()[0], Dtype(-1));
  EXPECT_EQ(top.cpu_data()[1], Dtype(1));

  top.set_diff(-2);
  layer->Backward({&top}, {true}, {&bottom});
  for (int i = 0; i < bottom.count(); ++i) {
    const double y = top.cpu_data()[i];
    EXPECT_NEAR(bottom.cpu_diff()[i], -2 * (1 - y * y), 1e-6);
  }
}

TYPED_TEST(TanhTest, Gradient) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(Shape{1, 3, 5, 3});
  Blob<Dtype> top;
  FillGaussian<Dtype>(&bottom, 1);
  auto layer = MakeLayer<Dtype>("name: 't' type: 'TanH'", &this->context_);
  GradientChecker<Dtype>().Check(layer.get(), {&bottom}, {&top});
}

}  // namespace
}  // namespace moka::test
