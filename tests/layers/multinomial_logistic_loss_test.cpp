#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "gradient_checker.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

using Shape = std::vector<int>;

template <typename Dtype>
class MultinomialLogisticLossTest : public ::testing::Test {
 protected:
  MultinomialLogisticLossTest() : probs_(Shape{3, 5}), labels_(Shape{3, 1, 1, 1}) {
    FillUniform<Dtype>(&probs_, Dtype(0.05), Dtype(1));
    const Dtype l[] = {4, 0, 2};
    std::copy(l, l + 3, labels_.mutable_cpu_data());
  }
  Context context_;
  Blob<Dtype> probs_, labels_;
  Blob<Dtype> top_;
};
TYPED_TEST_SUITE(MultinomialLogisticLossTest, TestDtypes);

TYPED_TEST(MultinomialLogisticLossTest, ForwardByHand) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 'm' type: 'MultinomialLogisticLoss'", &this->context_);
  layer->SetUp({&this->probs_, &this->labels_}, {&this->top_});
  this->probs_.mutable_cpu_data()[2 * 5 + 2] = 0;  // floored at 1e-20 rather than -log(0)
  const Dtype loss = layer->Forward({&this->probs_, &this->labels_}, {&this->top_});
  const double expected = -(std::log(double(this->probs_.cpu_data()[4])) +
                            std::log(double(this->probs_.cpu_data()[5])) + std::log(1e-20)) /
                          3;
  EXPECT_NEAR(loss, expected, 1e-4);
}

TYPED_TEST(MultinomialLogisticLossTest, Gradient) {
  using Dtype = TypeParam;
  GradientCheckOptions<Dtype> options;
  options.check_bottoms = {0};
  options.step = std::is_same<Dtype, float>::value ? Dtype(2e-3) : Dtype(1e-5);
  auto layer = MakeLayer<Dtype>("name: 'm' type: 'MultinomialLogisticLoss'", &this->context_);
  FillUniform<Dtype>(&this->probs_, Dtype(0.3), Dtype(1));
  GradientChecker<Dtype>(options).Check(layer.get(), {&this->probs_, &this->labels_},
                                        {&this->top_});
}

TYPED_TEST(MultinomialLogisticLossTest, Errors) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 'm' type: 'MultinomialLogisticLoss'", &this->context_);
  this->labels_.mutable_cpu_data()[0] = 5;
  layer->SetUp({&this->probs_, &this->labels_}, {&this->top_});
  EXPECT_THROW(layer->Forward({&this->probs_, &this->labels_}, {&this->top_}), ShapeError);
  EXPECT_THROW(layer->Backward({&this->top_}, {false, true}, {&this->probs_, &this->labels_}),
               ConfigError);
}

}  // namespace
}  // namespace moka::test
