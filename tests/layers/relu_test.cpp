#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "gradient_checker.hpp"
#include "task_pool.hpp"
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

TYPED_TEST(ReluTest, LargeInPlaceMatchesTheFormulaBitForBit) {
  using Dtype = TypeParam;
  // Large enough for the task pool; NaN, infinities and signed zeros keep Caffe's arithmetic
  // (max(x, 0) + slope * min(x, 0), so even slope 0 turns -inf into NaN).
  const Shape shape{3, 7, 151, 173};
  for (const char* slope_text : {"0", "0.25"}) {
    const Dtype slope = static_cast<Dtype>(std::atof(slope_text));
    Blob<Dtype> blobs[2];
    for (int run = 0; run < 2; ++run) {
      SingleThreadedBlas single(run == 1);
      Blob<Dtype>& blob = blobs[run];
      blob.Reshape(shape);
      FillUniform<Dtype>(&blob, -1, 1, 8);
      Dtype* data = blob.mutable_cpu_data();
      for (int i = 0; i < blob.count(); i += 101) {
        data[i] = std::numeric_limits<Dtype>::quiet_NaN();
        data[i + 1] = -std::numeric_limits<Dtype>::infinity();
        data[i + 2] = std::numeric_limits<Dtype>::infinity();
        data[i + 3] = Dtype(-0.0);
      }
      std::vector<Dtype> x(data, data + blob.count());
      auto layer =
          MakeLayer<Dtype>(std::string("name: 'relu' type: 'ReLU' relu_param { negative_slope: ") +
                               slope_text + " }",
                           &this->context_);
      layer->SetUp({&blob}, {&blob});
      layer->Forward({&blob}, {&blob});
      Blob<Dtype> gradient(shape);
      FillUniform<Dtype>(&gradient, -1, 1, 9);
      cpu_copy(blob.count(), gradient.cpu_data(), blob.mutable_cpu_diff());
      std::vector<Dtype> y(blob.cpu_data(), blob.cpu_data() + blob.count());
      layer->Backward({&blob}, {true}, {&blob});
      for (int i = 0; i < blob.count(); ++i) {
        const Dtype expected = std::max(x[i], Dtype(0)) + slope * std::min(x[i], Dtype(0));
        ASSERT_EQ(std::memcmp(&y[i], &expected, sizeof(Dtype)), 0) << i << " " << x[i];
        // In place the data now holds y, whose sign stands in for x's.
        const Dtype expected_diff = gradient.cpu_data()[i] * (y[i] > 0 ? Dtype(1) : slope);
        ASSERT_EQ(std::memcmp(blob.cpu_diff() + i, &expected_diff, sizeof(Dtype)), 0) << i;
      }
    }
    ASSERT_EQ(
        std::memcmp(blobs[0].cpu_data(), blobs[1].cpu_data(), sizeof(Dtype) * blobs[0].count()), 0);
  }
}

}  // namespace
}  // namespace moka::test
