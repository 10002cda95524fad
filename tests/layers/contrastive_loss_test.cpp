#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "gradient_checker.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

using Shape = std::vector<int>;

template <typename Dtype>
class ContrastiveLossTest : public ::testing::Test {
 protected:
  ContrastiveLossTest() : a_(Shape{5, 3, 1, 1}), b_(Shape{5, 3, 1, 1}), similar_(Shape{5}) {
    FillUniform<Dtype>(&a_, Dtype(-0.5), Dtype(0.5), 1);
    FillUniform<Dtype>(&b_, Dtype(-0.5), Dtype(0.5), 2);
    const Dtype s[] = {1, 0, 0, 1, 0};
    std::copy(s, s + 5, similar_.mutable_cpu_data());
  }

  double Expected(double margin, bool legacy) const {
    double loss = 0;
    for (int n = 0; n < 5; ++n) {
      double d2 = 0;
      for (int c = 0; c < 3; ++c) {
        const double d = a_.cpu_data()[n * 3 + c] - b_.cpu_data()[n * 3 + c];
        d2 += d * d;
      }
      if (similar_.cpu_data()[n] != 0) {
        loss += d2;
      } else if (legacy) {
        loss += std::max(margin - d2, 0.0);
      } else {
        const double gap = std::max(margin - std::sqrt(d2), 0.0);
        loss += gap * gap;
      }
    }
    return loss / 10;
  }

  Context context_;
  Blob<Dtype> a_, b_, similar_;
  Blob<Dtype> top_;
};
TYPED_TEST_SUITE(ContrastiveLossTest, TestDtypes);

TYPED_TEST(ContrastiveLossTest, ForwardByHand) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 'c' type: 'ContrastiveLoss'", &this->context_);
  layer->SetUp({&this->a_, &this->b_, &this->similar_}, {&this->top_});
  EXPECT_NEAR(layer->Forward({&this->a_, &this->b_, &this->similar_}, {&this->top_}),
              this->Expected(1, false), 1e-6);
  auto legacy = MakeLayer<Dtype>(
      "name: 'c' type: 'ContrastiveLoss' contrastive_loss_param { margin: 0.5 legacy_version: true "
      "}",
      &this->context_);
  legacy->SetUp({&this->a_, &this->b_, &this->similar_}, {&this->top_});
  EXPECT_NEAR(legacy->Forward({&this->a_, &this->b_, &this->similar_}, {&this->top_}),
              this->Expected(0.5, true), 1e-6);
}

TYPED_TEST(ContrastiveLossTest, Gradient) {
  using Dtype = TypeParam;
  GradientCheckOptions<Dtype> options;
  options.check_bottoms = {0, 1};
  // The 1e-4 guard in the dissimilar term's derivative bounds the agreement.
  options.threshold = Dtype(1e-3);
  auto layer = MakeLayer<Dtype>("name: 'c' type: 'ContrastiveLoss'", &this->context_);
  GradientChecker<Dtype>(options).Check(layer.get(), {&this->a_, &this->b_, &this->similar_},
                                        {&this->top_});
}

TYPED_TEST(ContrastiveLossTest, LegacyGradient) {
  using Dtype = TypeParam;
  GradientCheckOptions<Dtype> options;
  options.check_bottoms = {0, 1};
  auto layer = MakeLayer<Dtype>(
      "name: 'c' type: 'ContrastiveLoss' contrastive_loss_param { legacy_version: true }",
      &this->context_);
  GradientChecker<Dtype>(options).Check(layer.get(), {&this->a_, &this->b_, &this->similar_},
                                        {&this->top_});
}

TYPED_TEST(ContrastiveLossTest, Errors) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 'c' type: 'ContrastiveLoss'", &this->context_);
  Blob<Dtype> narrow(Shape{5, 2, 1, 1});
  EXPECT_THROW(layer->SetUp({&this->a_, &narrow, &this->similar_}, {&this->top_}), ShapeError);
  EXPECT_THROW(layer->SetUp({&this->a_, &this->b_}, {&this->top_}), ConfigError);
  EXPECT_FALSE(layer->AllowForceBackward(2));
}

}  // namespace
}  // namespace moka::test
