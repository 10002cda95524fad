#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "gradient_checker.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

using Shape = std::vector<int>;

template <typename Dtype>
class HingeLossTest : public ::testing::Test {
 protected:
  HingeLossTest() : scores_(Shape{3, 4}), labels_(Shape{3}) {
    FillUniform<Dtype>(&scores_, -2, 2);
    const Dtype l[] = {0, 3, 1};
    std::copy(l, l + 3, labels_.mutable_cpu_data());
  }

  double Expected(bool squared) const {
    double loss = 0;
    for (int n = 0; n < 3; ++n) {
      for (int d = 0; d < 4; ++d) {
        const double x = scores_.cpu_data()[n * 4 + d];
        const double t = std::max(0.0, 1 + (d == labels_.cpu_data()[n] ? -x : x));
        loss += squared ? t * t : t;
      }
    }
    return loss / 3;
  }

  Context context_;
  Blob<Dtype> scores_, labels_;
  Blob<Dtype> top_;
};
TYPED_TEST_SUITE(HingeLossTest, TestDtypes);

TYPED_TEST(HingeLossTest, L1AndL2ForwardByHand) {
  using Dtype = TypeParam;
  auto l1 = MakeLayer<Dtype>("name: 'h' type: 'HingeLoss'", &this->context_);
  l1->SetUp({&this->scores_, &this->labels_}, {&this->top_});
  const Dtype loss = l1->Forward({&this->scores_, &this->labels_}, {&this->top_});
  EXPECT_NEAR(loss, this->Expected(false), 1e-5);
  auto l2 = MakeLayer<Dtype>("name: 'h' type: 'HingeLoss' hinge_loss_param { norm: L2 }",
                             &this->context_);
  l2->SetUp({&this->scores_, &this->labels_}, {&this->top_});
  EXPECT_NEAR(l2->Forward({&this->scores_, &this->labels_}, {&this->top_}), this->Expected(true),
              1e-5);
}

TYPED_TEST(HingeLossTest, L1Gradient) {
  using Dtype = TypeParam;
  GradientCheckOptions<Dtype> options;
  options.check_bottoms = {0};
  // The hinge kinks where a margin is 0, i.e. at scores of +-1.
  Dtype* x = this->scores_.mutable_cpu_data();
  for (int i = 0; i < this->scores_.count(); ++i) {
    if (std::fabs(std::fabs(x[i]) - 1) < Dtype(0.05)) x[i] = Dtype(0.5);
  }
  auto layer = MakeLayer<Dtype>("name: 'h' type: 'HingeLoss'", &this->context_);
  GradientChecker<Dtype>(options).Check(layer.get(), {&this->scores_, &this->labels_},
                                        {&this->top_});
}

TYPED_TEST(HingeLossTest, L2Gradient) {
  using Dtype = TypeParam;
  GradientCheckOptions<Dtype> options;
  options.check_bottoms = {0};
  auto layer = MakeLayer<Dtype>(
      "name: 'h' type: 'HingeLoss' hinge_loss_param { norm: L2 } loss_weight: 2", &this->context_);
  GradientChecker<Dtype>(options).Check(layer.get(), {&this->scores_, &this->labels_},
                                        {&this->top_});
}

TYPED_TEST(HingeLossTest, Errors) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 'h' type: 'HingeLoss'", &this->context_);
  this->labels_.mutable_cpu_data()[2] = 4;
  layer->SetUp({&this->scores_, &this->labels_}, {&this->top_});
  EXPECT_THROW(layer->Forward({&this->scores_, &this->labels_}, {&this->top_}), ShapeError);
  EXPECT_THROW(layer->Backward({&this->top_}, {false, true}, {&this->scores_, &this->labels_}),
               ConfigError);
  Blob<Dtype> wrong(Shape{3, 2});
  EXPECT_THROW(layer->SetUp({&this->scores_, &wrong}, {&this->top_}), ShapeError);
}

}  // namespace
}  // namespace moka::test
