#include <gtest/gtest.h>

#include <vector>

#include "gradient_checker.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

using Shape = std::vector<int>;

template <typename Dtype>
class ReluTest : public ::testing::Test {
 protected:
  ReluTest() : bottom_(Shape{2, 3, 4, 5}) { FillUniform<Dtype>(&bottom_, -1, 1); }
  Context context_;
  Blob<Dtype> bottom_;
  Blob<Dtype> top_;
};
TYPED_TEST_SUITE(ReluTest, TestDtypes);

TYPED_TEST(ReluTest, ForwardAndBackwardByHand) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 'relu' type: 'ReLU'", &this->context_);
  layer->SetUp({&this->bottom_}, {&this->top_});
  EXPECT_EQ(this->top_.shape(), this->bottom_.shape());
  layer->Forward({&this->bottom_}, {&this->top_});
  const Dtype* x = this->bottom_.cpu_data();
  const Dtype* y = this->top_.cpu_data();
  for (int i = 0; i < this->bottom_.count(); ++i) EXPECT_EQ(y[i], x[i] > 0 ? x[i] : Dtype(0));

  FillUniform<Dtype>(&this->top_, -1, 1, 11);
  cpu_copy(this->top_.count(), this->top_.cpu_data(), this->top_.mutable_cpu_diff());
  layer->Backward({&this->top_}, {true}, {&this->bottom_});
  const Dtype* dy = this->top_.cpu_diff();
  const Dtype* dx = this->bottom_.cpu_diff();
  for (int i = 0; i < this->bottom_.count(); ++i) EXPECT_EQ(dx[i], x[i] > 0 ? dy[i] : Dtype(0));
}

TYPED_TEST(ReluTest, LeakyForwardAndBackward) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 'relu' type: 'ReLU' relu_param { negative_slope: 0.25 }",
                                &this->context_);
  Blob<Dtype> bottom(Shape{1, 5});
  const Dtype values[] = {-2, -0.5, 0, 0.5, 3};
  std::copy(values, values + 5, bottom.mutable_cpu_data());
  layer->SetUp({&bottom}, {&this->top_});
  layer->Forward({&bottom}, {&this->top_});
  const Dtype expected[] = {-0.5, -0.125, 0, 0.5, 3};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(this->top_.cpu_data()[i], expected[i]) << i;
  this->top_.set_diff(2);
  layer->Backward({&this->top_}, {true}, {&bottom});
  // The kink at 0 takes the negative side's slope, as in Caffe.
  const Dtype expected_diff[] = {0.5, 0.5, 0.5, 2, 2};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(bottom.cpu_diff()[i], expected_diff[i]) << i;
}

TYPED_TEST(ReluTest, InPlace) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 'relu' type: 'ReLU' relu_param { negative_slope: 0.1 }",
                                &this->context_);
  Blob<Dtype> reference(Shape{2, 3, 4, 5});
  Blob<Dtype> reference_top;
  reference.CopyFrom(this->bottom_);
  layer->SetUp({&reference}, {&reference_top});
  layer->Forward({&reference}, {&reference_top});
  reference_top.set_diff(1);
  layer->Backward({&reference_top}, {true}, {&reference});

  layer->SetUp({&this->bottom_}, {&this->bottom_});
  layer->Forward({&this->bottom_}, {&this->bottom_});
  this->bottom_.set_diff(1);
  layer->Backward({&this->bottom_}, {true}, {&this->bottom_});
  for (int i = 0; i < this->bottom_.count(); ++i) {
    EXPECT_EQ(this->bottom_.cpu_data()[i], reference_top.cpu_data()[i]);
    EXPECT_EQ(this->bottom_.cpu_diff()[i], reference.cpu_diff()[i]);
  }
}

TYPED_TEST(ReluTest, Gradient) {
  using Dtype = TypeParam;
  GradientCheckOptions<Dtype> options;
  options.kink = 0;
  options.kink_range = Dtype(0.01);
  Blob<Dtype> bottom(Shape{1, 3, 5, 3});
  FillUniform<Dtype>(&bottom, -1, 1, 3);
  auto layer = MakeLayer<Dtype>("name: 'relu' type: 'ReLU'", &this->context_);
  GradientChecker<Dtype>(options).Check(layer.get(), {&bottom}, {&this->top_});
}

TYPED_TEST(ReluTest, LeakyGradient) {
  using Dtype = TypeParam;
  GradientCheckOptions<Dtype> options;
  options.kink = 0;
  options.kink_range = Dtype(0.01);
  Blob<Dtype> bottom(Shape{1, 3, 5, 3});
  FillUniform<Dtype>(&bottom, -1, 1, 5);
  auto layer = MakeLayer<Dtype>("name: 'relu' type: 'ReLU' relu_param { negative_slope: 0.01 }",
                                &this->context_);
  GradientChecker<Dtype>(options).Check(layer.get(), {&bottom}, {&this->top_});
}

}  // namespace
}  // namespace moka::test
