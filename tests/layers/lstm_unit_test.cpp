#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "gradient_checker.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

using Shape = std::vector<int>;

double Sigmoid(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}

template <typename Dtype>
class LstmUnitTest : public ::testing::Test {
 protected:
  LstmUnitTest() : c_prev_(Shape{1, 3, 2}), x_(Shape{1, 3, 8}), cont_(Shape{1, 3}) {
    FillUniform(&c_prev_, Dtype(-1), Dtype(1), 1);
    FillUniform(&x_, Dtype(-1), Dtype(1), 2);
    const Dtype cont[] = {1, 0, 1};
    std::copy(cont, cont + 3, cont_.mutable_cpu_data());
    layer_ = MakeLayer<Dtype>("type: 'LSTMUnit'", &context_);
  }
  std::vector<Blob<Dtype>*> Bottom() { return {&c_prev_, &x_, &cont_}; }
  std::vector<Blob<Dtype>*> Top() { return {&c_, &h_}; }
  Context context_;
  Blob<Dtype> c_prev_, x_, cont_, c_, h_;
  std::shared_ptr<Layer<Dtype>> layer_;
};
TYPED_TEST_SUITE(LstmUnitTest, TestDtypes);

TYPED_TEST(LstmUnitTest, ForwardComputesTheCell) {
  this->layer_->SetUp(this->Bottom(), this->Top());
  EXPECT_EQ(this->c_.shape(), (Shape{1, 3, 2}));
  EXPECT_EQ(this->h_.shape(), (Shape{1, 3, 2}));
  this->layer_->Forward(this->Bottom(), this->Top());
  const double tolerance = std::is_same<TypeParam, float>::value ? 1e-6 : 1e-12;
  for (int n = 0; n < 3; ++n) {
    const double cont = this->cont_.cpu_data()[n];
    for (int d = 0; d < 2; ++d) {
      const TypeParam* x = this->x_.cpu_data() + n * 8 + d;
      const double i = Sigmoid(x[0]), f = cont * Sigmoid(x[2]), o = Sigmoid(x[4]);
      const double g = std::tanh(x[6]);
      const double c = f * this->c_prev_.cpu_data()[n * 2 + d] + i * g;
      EXPECT_NEAR(this->c_.cpu_data()[n * 2 + d], c, tolerance);
      EXPECT_NEAR(this->h_.cpu_data()[n * 2 + d], o * std::tanh(c), tolerance);
    }
  }
}

TYPED_TEST(LstmUnitTest, Gradient) {
  GradientCheckOptions<TypeParam> options;
  options.check_bottoms = {0, 1};
  GradientChecker<TypeParam>(options).Check(this->layer_.get(), this->Bottom(), this->Top());
}

TYPED_TEST(LstmUnitTest, GradientWithEveryStreamRestarting) {
  this->cont_.set_data(TypeParam(0));
  GradientCheckOptions<TypeParam> options;
  options.check_bottoms = {0, 1};
  GradientChecker<TypeParam>(options).Check(this->layer_.get(), this->Bottom(), this->Top());
}

TYPED_TEST(LstmUnitTest, RefusesMismatchedShapes) {
  Blob<TypeParam> x(Shape{1, 3, 6});
  EXPECT_THROW(this->layer_->SetUp({&this->c_prev_, &x, &this->cont_}, this->Top()), ShapeError);
  Blob<TypeParam> cont(Shape{2, 3});
  EXPECT_THROW(this->layer_->SetUp({&this->c_prev_, &this->x_, &cont}, this->Top()), ShapeError);
}

}  // namespace
}  // namespace moka::test
