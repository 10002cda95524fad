#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "gradient_checker.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

using Shape = std::vector<int>;

template <typename Dtype>
class SigmoidTest : public ::testing::Test {
 protected:
  Context context_;
};
TYPED_TEST_SUITE(SigmoidTest, TestDtypes);

TYPED_TEST(SigmoidTest, ForwardAndBackwardByHand) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(Shape{2, 3, 4});
  Blob<Dtype> top;
  FillUniform<Dtype>(&bottom, -6, 6);
  bottom.mutable_cpu_data()[0] = Dtype(-200);  // exp(200) overflows float; the layer must not.
  bottom.mutable_cpu_data()[1] = Dtype(200);
  auto layer = MakeLayer<Dtype>("name: 's' type: 'Sigmoid'", &this->context_);
  layer->SetUp({&bottom}, {&top});
  EXPECT_EQ(top.shape(), bottom.shape());
  layer->Forward({&bottom}, {&top});
  for (int i = 0; i < bottom.count(); ++i) {
    const double x = bottom.cpu_data()[i];
    const double y = 1.0 / (1.0 + std::exp(-x));
    EXPECT_NEAR(top.cpu_data()[i], y, 1e-6) << "x = " << x;
  }
  EXPECT_EQ(top.cpu_data()[0], Dtype(0));
  EXPECT_EQ(top.cpu_data()[1], Dtype(1));

  top.set_diff(3);
  layer->Backward({&top}, {true}, {&bottom});
  for (int i = 0; i < bottom.count(); ++i) {
    const double y = top.cpu_data()[i];
    EXPECT_NEAR(bottom.cpu_diff()[i], 3 * y * (1 - y), 1e-6);
  }
}

TYPED_TEST(SigmoidTest, InPlace) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(Shape{3, 5});
  FillUniform<Dtype>(&bottom, -3, 3);
  Blob<Dtype> copy(Shape{3, 5});
  copy.CopyFrom(bottom);
  auto layer = MakeLayer<Dtype>("name: 's' type: 'Sigmoid'", &this->context_);
  layer->SetUp({&bottom}, {&bottom});
  layer->Forward({&bottom}, {&bottom});
  for (int i = 0; i < bottom.count(); ++i)
    EXPECT_NEAR(bottom.cpu_data()[i], 1.0 / (1.0 + std::exp(-double(copy.cpu_data()[i]))), 1e-6);
}

TYPED_TEST(SigmoidTest, Gradient) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(Shape{1, 3, 5, 3});
  Blob<Dtype> top;
  FillGaussian<Dtype>(&bottom, 2);
  auto layer = MakeLayer<Dtype>("name: 's' type: 'Sigmoid'", &this->context_);
  GradientChecker<Dtype>().Check(layer.get(), {&bottom}, {&top});
}

}  // namespace
}  // namespace moka::test
