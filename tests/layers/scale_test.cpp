#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "gradient_checker.hpp"
#include "task_pool.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

using Shape = std::vector<int>;

template <typename Dtype>
class ScaleTest : public ::testing::Test {
 protected:
  Context context_;
  Blob<Dtype> top_;
};
TYPED_TEST_SUITE(ScaleTest, TestDtypes);

TYPED_TEST(ScaleTest, LearnedScaleAndBiasForwardByHand) {
  using Dtype = TypeParam;
  auto layer =
      MakeLayer<Dtype>("name: 's' type: 'Scale' scale_param { bias_term: true }", &this->context_);
  Blob<Dtype> bottom(Shape{2, 3, 2});
  FillUniform<Dtype>(&bottom, -1, 1);
  layer->SetUp({&bottom}, {&this->top_});
  ASSERT_EQ(layer->blobs().size(), 2u);
  EXPECT_EQ(layer->blobs()[0]->shape(), Shape{3});
  EXPECT_EQ(layer->blobs()[1]->shape(), Shape{3});
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(layer->blobs()[0]->cpu_data()[c], 1);
    EXPECT_EQ(layer->blobs()[1]->cpu_data()[c], 0);
  }
  const Dtype s[] = {2, -1, 0.5}, b[] = {1, 0, -3};
  std::copy(s, s + 3, layer->blobs()[0]->mutable_cpu_data());
  std::copy(b, b + 3, layer->blobs()[1]->mutable_cpu_data());
  layer->Forward({&bottom}, {&this->top_});
  for (int i = 0; i < bottom.count(); ++i) {
    const int c = (i / 2) % 3;
    EXPECT_EQ(this->top_.cpu_data()[i], bottom.cpu_data()[i] * s[c] + b[c]) << i;
  }
}

TYPED_TEST(ScaleTest, BottomScaleForwardByHand) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 's' type: 'Scale' scale_param { axis: 0 }", &this->context_);
  Blob<Dtype> bottom(Shape{2, 3, 4});
  Blob<Dtype> scale(Shape{2, 3});
  FillUniform<Dtype>(&bottom, -1, 1);
  FillUniform<Dtype>(&scale, -1, 1, 8);
  layer->SetUp({&bottom, &scale}, {&this->top_});
  EXPECT_TRUE(layer->blobs().empty());
  layer->Forward({&bottom, &scale}, {&this->top_});
  for (int i = 0; i < bottom.count(); ++i) {
    EXPECT_EQ(this->top_.cpu_data()[i], bottom.cpu_data()[i] * scale.cpu_data()[i / 4]) << i;
  }
}

TYPED_TEST(ScaleTest, Gradient) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(Shape{2, 3, 2, 3});
  FillUniform<Dtype>(&bottom, -1, 1, 3);
  auto layer = MakeLayer<Dtype>(
      "name: 's' type: 'Scale' scale_param { num_axes: 2 bias_term: true filler { type: 'gaussian' "
      "}"
      " bias_filler { type: 'gaussian' } }",
      &this->context_);
  GradientChecker<Dtype>().Check(layer.get(), {&bottom}, {&this->top_});
}

TYPED_TEST(ScaleTest, EltwiseAndScalarGradients) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(Shape{2, 3});
  FillUniform<Dtype>(&bottom, -1, 1, 3);
  auto eltwise = MakeLayer<Dtype>(
      "name: 's' type: 'Scale' scale_param { axis: 0 num_axes: -1 filler { type: 'uniform' } }",
      &this->context_);
  GradientChecker<Dtype>().Check(eltwise.get(), {&bottom}, {&this->top_});
  auto scalar = MakeLayer<Dtype>(
      "name: 's' type: 'Scale' scale_param { num_axes: 0 bias_term: true filler { type: 'uniform' "
      "} }",
      &this->context_);
  GradientChecker<Dtype>().Check(scalar.get(), {&bottom}, {&this->top_});
}

TYPED_TEST(ScaleTest, BottomScaleGradientWithBias) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(Shape{2, 3, 4});
  Blob<Dtype> scale(Shape{3});
  FillUniform<Dtype>(&bottom, -1, 1, 3);
  FillUniform<Dtype>(&scale, -1, 1, 4);
  auto layer = MakeLayer<Dtype>(
      "name: 's' type: 'Scale' scale_param { bias_term: true bias_filler { type: 'uniform' } }",
      &this->context_);
  GradientChecker<Dtype>().Check(layer.get(), {&bottom, &scale}, {&this->top_});
  EXPECT_EQ(layer->blobs().size(), 1u);
}

TYPED_TEST(ScaleTest, InPlaceMatches) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>(
      "name: 's' type: 'Scale' scale_param { bias_term: true filler { type: 'uniform' } }",
      &this->context_);
  Blob<Dtype> bottom(Shape{2, 3, 4});
  FillUniform<Dtype>(&bottom, -1, 1);
  Blob<Dtype> copy(Shape{2, 3, 4});
  copy.CopyFrom(bottom);
  layer->SetUp({&bottom}, {&this->top_});
  layer->Forward({&bottom}, {&this->top_});
  FillUniform<Dtype>(&this->top_, -1, 1, 9);
  cpu_copy(this->top_.count(), this->top_.cpu_data(), this->top_.mutable_cpu_diff());
  for (auto& blob : layer->blobs()) blob->set_diff(0);
  layer->Backward({&this->top_}, {true}, {&bottom});
  std::vector<Dtype> scale_diff(layer->blobs()[0]->cpu_diff(), layer->blobs()[0]->cpu_diff() + 3);
  layer->Forward({&copy}, {&copy});
  cpu_copy(copy.count(), this->top_.cpu_diff(), copy.mutable_cpu_diff());
  for (auto& blob : layer->blobs()) blob->set_diff(0);
  layer->Backward({&copy}, {true}, {&copy});
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(layer->blobs()[0]->cpu_diff()[c], scale_diff[c], 1e-6);
  for (int i = 0; i < copy.count(); ++i) EXPECT_EQ(copy.cpu_diff()[i], bottom.cpu_diff()[i]);
}

/// Runs a Scale layer with a bias in place on a bottom large enough for the task pool and for
/// streaming stores (odd sizes, so rows end mid-pack and unaligned), forward and backward, on the
/// pool's threads or on one.
template <typename Dtype>
struct LargeScaleRun {
  /// `parameters_from`: a run whose learned scale and bias to take (else they are drawn).
  LargeScaleRun(Context* context, bool single_thread,
                const LargeScaleRun* parameters_from = nullptr)
      : bottom(Shape{2, 5, 461, 463}) {
    SingleThreadedBlas single(single_thread);
    layer = MakeLayer<Dtype>(
        "name: 's' type: 'Scale' scale_param { bias_term: true filler { type: 'uniform' } "
        "bias_filler { type: 'uniform' } }",
        context);
    FillUniform<Dtype>(&bottom, -1, 1, 4);
    input.CopyFrom(bottom, false, true);
    layer->SetUp({&bottom}, {&bottom});
    if (parameters_from != nullptr) {
      for (int k = 0; k < 2; ++k) layer->blobs()[k]->CopyFrom(*parameters_from->layer->blobs()[k]);
    }
    layer->Forward({&bottom}, {&bottom});
    output.CopyFrom(bottom, false, true);
    gradient.Reshape(bottom.shape());
    FillUniform<Dtype>(&gradient, -1, 1, 6);
    cpu_copy(bottom.count(), gradient.cpu_data(), bottom.mutable_cpu_diff());
    for (auto& blob : layer->blobs()) blob->set_diff(0);
    layer->Backward({&bottom}, {true}, {&bottom});
  }
  std::shared_ptr<Layer<Dtype>> layer;
  Blob<Dtype> bottom, input, output, gradient;
};

TYPED_TEST(ScaleTest, LargeInPlaceRoundsLikeCaffeOnAnyThreadCount) {
  using Dtype = TypeParam;
  LargeScaleRun<Dtype> run(&this->context_, false);
  const int channels = 5, inner = 461 * 463;
  const Dtype* s = run.layer->blobs()[0]->cpu_data();
  const Dtype* b = run.layer->blobs()[1]->cpu_data();
  const Dtype* x = run.input.cpu_data();
  const Dtype* dy = run.gradient.cpu_data();
  // The product rounded first, then the bias added (Caffe's Scale then Bias); the products go
  // through memory so the compiler cannot fuse the two steps here either.
  std::vector<Dtype> products(run.input.count());
  for (int i = 0; i < run.input.count(); ++i) products[i] = x[i] * s[(i / inner) % channels];
  std::vector<double> ds(channels, 0), db(channels, 0);
  for (int i = 0; i < run.input.count(); ++i) {
    const int c = (i / inner) % channels;
    ASSERT_EQ(run.output.cpu_data()[i], Dtype(products[i] + b[c])) << i;
    ASSERT_EQ(run.bottom.cpu_diff()[i], Dtype(s[c] * dy[i])) << i;
    ds[c] += double(dy[i]) * x[i];
    db[c] += dy[i];
  }
  const double tolerance = std::is_same<Dtype, float>::value ? 1e-3 : 1e-9;
  for (int c = 0; c < channels; ++c) {
    EXPECT_NEAR(run.layer->blobs()[0]->cpu_diff()[c], ds[c], tolerance * (1 + std::fabs(ds[c])));
    EXPECT_NEAR(run.layer->blobs()[1]->cpu_diff()[c], db[c], tolerance * (1 + std::fabs(db[c])));
  }
  // The same bits on one thread, sums included.
  LargeScaleRun<Dtype> single(&this->context_, true, &run);
  for (int k = 0; k < 2; ++k) {
    for (int c = 0; c < channels; ++c) {
      EXPECT_EQ(run.layer->blobs()[k]->cpu_diff()[c], single.layer->blobs()[k]->cpu_diff()[c]);
    }
  }
  for (int i = 0; i < run.bottom.count(); ++i) {
    ASSERT_EQ(run.output.cpu_data()[i], single.output.cpu_data()[i]) << i;
    ASSERT_EQ(run.bottom.cpu_diff()[i], single.bottom.cpu_diff()[i]) << i;
  }
}

TYPED_TEST(ScaleTest, ShapeErrors) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(Shape{2, 3, 4});
  Blob<Dtype> scale(Shape{4});
  auto layer = MakeLayer<Dtype>("name: 's' type: 'Scale'", &this->context_);
  EXPECT_THROW(layer->SetUp({&bottom, &scale}, {&this->top_}), ShapeError);
  auto bad_axes =
      MakeLayer<Dtype>("name: 's' type: 'Scale' scale_param { num_axes: -2 }", &this->context_);
  EXPECT_THROW(bad_axes->SetUp({&bottom}, {&this->top_}), ConfigError);
}

}  // namespace
}  // namespace moka::test
