#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "gradient_checker.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

using Shape = std::vector<int>;

template <typename Dtype>
class ReductionTest : public ::testing::Test {
 protected:
  ReductionTest() : bottom_(Shape{2, 3, 4}) { FillUniform<Dtype>(&bottom_, -1, 1); }

  // Reduces from `axis` with `op`, compares against a direct computation, then checks gradients.
  void Check(const std::string& op, int axis, double coeff) {
    const std::string def = "name: 'r' type: 'Reduction' reduction_param { operation: " + op +
                            " axis: " + std::to_string(axis) + " coeff: " + std::to_string(coeff) +
                            " }";
    auto layer = MakeLayer<Dtype>(def, &context_);
    layer->SetUp({&bottom_}, {&top_});
    EXPECT_EQ(top_.shape(), Shape(bottom_.shape().begin(), bottom_.shape().begin() + axis));
    layer->Forward({&bottom_}, {&top_});
    const int num = bottom_.count(0, axis);
    const int dim = bottom_.count(axis);
    for (int i = 0; i < num; ++i) {
      double expected = 0;
      for (int j = 0; j < dim; ++j) {
        const double v = bottom_.cpu_data()[i * dim + j];
        expected += op == "ASUM" ? std::fabs(v) : op == "SUMSQ" ? v * v : v;
      }
      if (op == "MEAN") expected /= dim;
      EXPECT_NEAR(top_.cpu_data()[i], coeff * expected, 1e-5) << op << " " << i;
    }
    GradientCheckOptions<Dtype> options;
    if (op == "ASUM") options.kink_range = Dtype(0.02);
    GradientChecker<Dtype>(options).Check(layer.get(), {&bottom_}, {&top_});
  }

  Context context_;
  Blob<Dtype> bottom_;
  Blob<Dtype> top_;
};
TYPED_TEST_SUITE(ReductionTest, TestDtypes);

TYPED_TEST(ReductionTest, SumToScalar) {
  this->Check("SUM", 0, 1);
}
TYPED_TEST(ReductionTest, SumAxisOneWithCoeff) {
  this->Check("SUM", 1, 2.5);
}
TYPED_TEST(ReductionTest, Asum) {
  this->Check("ASUM", 1, 1);
}
TYPED_TEST(ReductionTest, Sumsq) {
  this->Check("SUMSQ", 2, -0.5);
}
TYPED_TEST(ReductionTest, Mean) {
  this->Check("MEAN", 1, 3);
}

TYPED_TEST(ReductionTest, RefusesBadAxis) {
  using Dtype = TypeParam;
  auto layer =
      MakeLayer<Dtype>("name: 'r' type: 'Reduction' reduction_param { axis: 5 }", &this->context_);
  EXPECT_THROW(layer->SetUp({&this->bottom_}, {&this->top_}), ShapeError);
}

}  // namespace
}  // namespace moka::test
