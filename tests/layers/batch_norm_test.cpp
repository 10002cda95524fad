#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "gradient_checker.hpp"
#include "net.hpp"
#include "solver_test_util.hpp"
#include "task_pool.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

using Shape = std::vector<int>;

template <typename Dtype>
class BatchNormTest : public ::testing::Test {
 protected:
  Context context_;
  Blob<Dtype> top_;
};
TYPED_TEST_SUITE(BatchNormTest, TestDtypes);

// Per-channel mean and biased variance of an (N, C, S) blob.
template <typename Dtype>
void ChannelStats(const Blob<Dtype>& blob, std::vector<double>* mean, std::vector<double>* var) {
  const int n = blob.shape(0), c = blob.shape(1), s = blob.count(2);
  mean->assign(c, 0);
  var->assign(c, 0);
  for (int k = 0; k < c; ++k) {
    double sum = 0, sumsq = 0;
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < s; ++j) {
        const double v = blob.cpu_data()[(i * c + k) * s + j];
        sum += v;
        sumsq += v * v;
      }
    }
    (*mean)[k] = sum / (n * s);
    (*var)[k] = sumsq / (n * s) - (*mean)[k] * (*mean)[k];
  }
}

TYPED_TEST(BatchNormTest, TrainForwardNormalisesAndUpdatesStatistics) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>(
      "name: 'bn' type: 'BatchNorm' phase: TRAIN batch_norm_param { moving_average_fraction: 0.9 }",
      &this->context_);
  Blob<Dtype> bottom(Shape{3, 2, 2, 3});
  FillUniform<Dtype>(&bottom, -2, 5);
  layer->SetUp({&bottom}, {&this->top_});
  ASSERT_EQ(layer->blobs().size(), 3u);
  EXPECT_EQ(layer->blobs()[2]->shape(), Shape{1});
  std::vector<double> mean, var;
  ChannelStats(bottom, &mean, &var);
  layer->Forward({&bottom}, {&this->top_});
  std::vector<double> top_mean, top_var;
  ChannelStats(this->top_, &top_mean, &top_var);
  for (int c = 0; c < 2; ++c) {
    EXPECT_NEAR(top_mean[c], 0, 1e-5);
    EXPECT_NEAR(top_var[c], var[c] / (var[c] + 1e-5), 1e-4);
  }
  const double m = 18;  // count / channels
  EXPECT_NEAR(layer->blobs()[2]->cpu_data()[0], 1, 1e-7);
  for (int c = 0; c < 2; ++c) {
    EXPECT_NEAR(layer->blobs()[0]->cpu_data()[c], mean[c], 1e-5);
    EXPECT_NEAR(layer->blobs()[1]->cpu_data()[c], var[c] * m / (m - 1), 1e-4);
  }
  // A second pass decays the sums: sum = sum * 0.9 + batch value.
  layer->Forward({&bottom}, {&this->top_});
  EXPECT_NEAR(layer->blobs()[2]->cpu_data()[0], 1.9, 1e-6);
  for (int c = 0; c < 2; ++c) {
    EXPECT_NEAR(layer->blobs()[0]->cpu_data()[c], 1.9 * mean[c], 1e-4);
    EXPECT_NEAR(layer->blobs()[1]->cpu_data()[c], 1.9 * var[c] * m / (m - 1), 1e-4);
  }
}

TYPED_TEST(BatchNormTest, TestPhaseUsesStoredStatistics) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>(
      "name: 'bn' type: 'BatchNorm' phase: TEST batch_norm_param { eps: 0.5 }", &this->context_);
  Blob<Dtype> bottom(Shape{2, 2, 3});
  FillUniform<Dtype>(&bottom, -2, 5);
  layer->SetUp({&bottom}, {&this->top_});
  // Stored: factor 2, so mean = (1, -2) and var = (3, 0.5).
  layer->blobs()[0]->mutable_cpu_data()[0] = 2;
  layer->blobs()[0]->mutable_cpu_data()[1] = -4;
  layer->blobs()[1]->mutable_cpu_data()[0] = 6;
  layer->blobs()[1]->mutable_cpu_data()[1] = 1;
  layer->blobs()[2]->mutable_cpu_data()[0] = 2;
  layer->Forward({&bottom}, {&this->top_});
  const double mean[] = {1, -2}, var[] = {3, 0.5};
  for (int i = 0; i < bottom.count(); ++i) {
    const int c = (i / 3) % 2;
    EXPECT_NEAR(this->top_.cpu_data()[i],
                (bottom.cpu_data()[i] - mean[c]) / std::sqrt(var[c] + 0.5), 1e-5);
  }
  EXPECT_EQ(layer->blobs()[2]->cpu_data()[0], 2);  // untouched in TEST

  // A zero factor means no statistics yet: mean and variance read as 0.
  layer->blobs()[2]->mutable_cpu_data()[0] = 0;
  layer->Forward({&bottom}, {&this->top_});
  for (int i = 0; i < bottom.count(); ++i) {
    EXPECT_NEAR(this->top_.cpu_data()[i], bottom.cpu_data()[i] / std::sqrt(0.5), 1e-5);
  }
  // Backward with global statistics divides by the stored deviation.
  this->top_.set_diff(1);
  layer->Backward({&this->top_}, {true}, {&bottom});
  for (int i = 0; i < bottom.count(); ++i)
    EXPECT_NEAR(bottom.cpu_diff()[i], 1 / std::sqrt(0.5), 1e-5);
}

TYPED_TEST(BatchNormTest, TrainGradient) {
  using Dtype = TypeParam;
  GradientCheckOptions<Dtype> options;
  options.check_params = false;
  // Normalisation couples every element of a channel, so keep the check's step small.
  if (std::is_same<Dtype, float>::value) options.step = Dtype(2e-3);
  Blob<Dtype> bottom(Shape{2, 3, 3, 1});
  FillUniform<Dtype>(&bottom, -1, 1, 3);
  auto layer = MakeLayer<Dtype>("name: 'bn' type: 'BatchNorm' phase: TRAIN", &this->context_);
  GradientChecker<Dtype>(options).Check(layer.get(), {&bottom}, {&this->top_});
}

TYPED_TEST(BatchNormTest, TwoAxisBottomGradient) {
  using Dtype = TypeParam;
  GradientCheckOptions<Dtype> options;
  options.check_params = false;
  if (std::is_same<Dtype, float>::value) options.step = Dtype(2e-3);
  Blob<Dtype> bottom(Shape{5, 2});
  FillUniform<Dtype>(&bottom, -1, 1, 4);
  auto layer = MakeLayer<Dtype>("name: 'bn' type: 'BatchNorm' phase: TRAIN", &this->context_);
  GradientChecker<Dtype>(options).Check(layer.get(), {&bottom}, {&this->top_});
}

TYPED_TEST(BatchNormTest, GlobalStatsGradient) {
  using Dtype = TypeParam;
  GradientCheckOptions<Dtype> options;
  options.check_params = false;
  Blob<Dtype> bottom(Shape{2, 3, 2});
  FillUniform<Dtype>(&bottom, -1, 1, 3);
  auto layer = MakeLayer<Dtype>(
      "name: 'bn' type: 'BatchNorm' phase: TRAIN batch_norm_param { use_global_stats: true }",
      &this->context_);
  layer->SetUp({&bottom}, {&this->top_});
  for (int c = 0; c < 3; ++c) {
    layer->blobs()[0]->mutable_cpu_data()[c] = Dtype(0.1 * c);
    layer->blobs()[1]->mutable_cpu_data()[c] = Dtype(0.5 + c);
  }
  layer->blobs()[2]->mutable_cpu_data()[0] = 1;
  GradientChecker<Dtype>(options).Check(layer.get(), {&bottom}, {&this->top_});
}

TYPED_TEST(BatchNormTest, LargeGlobalStatsMatchTheFormulaBitForBit) {
  using Dtype = TypeParam;
  // Large enough for the task pool, out of place and in place, on the pool's threads or one.
  const Shape shape{3, 6, 149, 151};
  const int channels = 6, spatial = 149 * 151;
  Blob<Dtype> bottom(shape), gradient(shape);
  FillUniform<Dtype>(&bottom, -2, 2, 21);
  FillUniform<Dtype>(&gradient, -1, 1, 22);
  auto layer = MakeLayer<Dtype>(
      "name: 'bn' type: 'BatchNorm' batch_norm_param { use_global_stats: true eps: 0.001 }",
      &this->context_);
  layer->SetUp({&bottom}, {&this->top_});
  for (int c = 0; c < channels; ++c) {
    layer->blobs()[0]->mutable_cpu_data()[c] = Dtype(0.3 * c - 0.7);
    layer->blobs()[1]->mutable_cpu_data()[c] = Dtype(0.2 + 0.45 * c);
  }
  layer->blobs()[2]->mutable_cpu_data()[0] = Dtype(3);
  // The layer's own order: statistics / factor, then sqrt(var + eps), then (x - mean) / that.
  const Dtype inverse = Dtype(1) / Dtype(3);
  const Dtype eps = layer->layer_param().batch_norm_param().eps();
  std::vector<Dtype> mean(channels), deviation(channels);
  for (int c = 0; c < channels; ++c) {
    mean[c] = inverse * layer->blobs()[0]->cpu_data()[c];
    deviation[c] = std::sqrt(inverse * layer->blobs()[1]->cpu_data()[c] + eps);
  }
  for (const bool in_place : {false, true}) {
    for (const bool single_thread : {false, true}) {
      SCOPED_TRACE(std::string(in_place ? "in place" : "out of place") +
                   (single_thread ? ", one thread" : ""));
      SingleThreadedBlas single(single_thread);
      Blob<Dtype> data(shape);
      data.CopyFrom(bottom);
      Blob<Dtype>& top = in_place ? data : this->top_;
      layer->Reshape({&data}, {&top});
      layer->Forward({&data}, {&top});
      cpu_copy(top.count(), gradient.cpu_data(), top.mutable_cpu_diff());
      layer->Backward({&top}, {true}, {&data});
      for (int i = 0; i < bottom.count(); ++i) {
        const int c = (i / spatial) % channels;
        ASSERT_EQ(top.cpu_data()[i], (bottom.cpu_data()[i] - mean[c]) / deviation[c]) << i;
        ASSERT_EQ(data.cpu_diff()[i], gradient.cpu_data()[i] / deviation[c]) << i;
      }
    }
  }
}

TYPED_TEST(BatchNormTest, InPlaceMatches) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 'bn' type: 'BatchNorm' phase: TRAIN", &this->context_);
  Blob<Dtype> bottom(Shape{2, 3, 4});
  FillUniform<Dtype>(&bottom, -1, 1);
  Blob<Dtype> copy(Shape{2, 3, 4});
  copy.CopyFrom(bottom);
  layer->SetUp({&bottom}, {&this->top_});
  layer->Forward({&bottom}, {&this->top_});
  FillUniform<Dtype>(&this->top_, -1, 1, 9);
  cpu_copy(this->top_.count(), this->top_.cpu_data(), this->top_.mutable_cpu_diff());
  layer->Backward({&this->top_}, {true}, {&bottom});
  layer->Forward({&copy}, {&copy});
  cpu_copy(copy.count(), this->top_.cpu_diff(), copy.mutable_cpu_diff());
  layer->Backward({&copy}, {true}, {&copy});
  for (int i = 0; i < copy.count(); ++i)
    EXPECT_NEAR(copy.cpu_diff()[i], bottom.cpu_diff()[i], 1e-6);
}

TYPED_TEST(BatchNormTest, PinsStatisticsToZeroLearningRate) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 'bn' type: 'BatchNorm'", &this->context_);
  ASSERT_EQ(layer->layer_param().param_size(), 3);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(layer->layer_param().param(i).lr_mult(), 0);
  auto partial =
      MakeLayer<Dtype>("name: 'bn' type: 'BatchNorm' param { lr_mult: 0 }", &this->context_);
  EXPECT_EQ(partial->layer_param().param_size(), 3);
  EXPECT_THROW(
      MakeLayer<Dtype>("name: 'bn' type: 'BatchNorm' param { lr_mult: 1 }", &this->context_),
      ConfigError);
}

TYPED_TEST(BatchNormTest, NetTreatsStatisticsAsNotLearnable) {
  using Dtype = TypeParam;
  NetParameter param;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
      "state { phase: TRAIN } "
      "layer { name: 'in' type: 'Input' top: 'x' input_param { shape { dim: 2 dim: 3 } } } "
      "layer { name: 'bn' type: 'BatchNorm' bottom: 'x' top: 'y' } "
      "layer { name: 'loss' type: 'EuclideanLoss' bottom: 'y' bottom: 'x' top: 'l' }",
      &param));
  Net<Dtype> net(param, std::make_shared<Context>());
  ASSERT_EQ(net.params().size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(net.params_lr()[i], 0) << i;
  const auto& layer = net.layers()[1];
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(layer->param_propagate_down(i)) << i;
}

TYPED_TEST(BatchNormTest, SolversLeaveStatisticsToTheForwardPass) {
  using Dtype = TypeParam;
  QuietLogs quiet;
  const std::string net = TinyNet(
      "layer { name: 'bn' type: 'BatchNorm' bottom: 'out' top: 'bn' "
      "batch_norm_param { moving_average_fraction: 0.5 } }",
      "bn");
  for (const std::string type : {"SGD", "Adam"}) {
    auto solver = MakeTinySolver<Dtype>(MakeSolverParam(
        net, "type: '" + type +
                 "' base_lr: 0.1 lr_policy: 'fixed' momentum: 0.9 weight_decay: 0.1 "
                 "random_seed: 3"));
    solver->Step(2);
    // Only the forward passes move the factor: 0 -> 1 -> 1 * 0.5 + 1. Any solver update (weight
    // decay alone would give one) would change it.
    const auto& bn = solver->net()->layers()[2];
    ASSERT_STREQ(bn->type(), "BatchNorm");
    EXPECT_EQ(bn->blobs()[2]->cpu_data()[0], Dtype(1.5)) << type;
  }
}

TYPED_TEST(BatchNormTest, ShapeErrors) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 'bn' type: 'BatchNorm'", &this->context_);
  Blob<Dtype> bottom(Shape{2, 3, 4});
  layer->SetUp({&bottom}, {&this->top_});
  Blob<Dtype> other(Shape{2, 4, 4});
  EXPECT_THROW(layer->Forward({&other}, {&this->top_}), ShapeError);
}

}  // namespace
}  // namespace moka::test
