#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "gradient_checker.hpp"
#include "layers/pooling.hpp"
#include "task_pool.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

struct PoolGeometry {
  int kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w;
};

/// Fills blob with a shuffled ramp: every value distinct and `spacing` apart, so the maximum of a
/// window never ties and a finite-difference step cannot change which element wins.
template <typename Dtype>
void FillDistinct(Blob<Dtype>* blob, double spacing, uint64_t seed = 3) {
  std::vector<int> order(blob->count());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed);
  std::shuffle(order.begin(), order.end(), rng);
  Dtype* data = blob->mutable_cpu_data();
  for (int i = 0; i < blob->count(); ++i) {
    data[i] = static_cast<Dtype>((order[i] - blob->count() / 2) * spacing);
  }
}

/// Direct MAX or AVE pooling of an (N, C, H, W) blob into the given output size.
template <typename Dtype>
std::vector<double> DirectPool(const Blob<Dtype>& in, const PoolGeometry& g, int out_h, int out_w,
                               bool max, std::vector<int>* argmax) {
  const int N = in.num(), C = in.channels(), H = in.height(), W = in.width();
  std::vector<double> out;
  for (int n = 0; n < N; ++n) {
    for (int c = 0; c < C; ++c) {
      for (int ph = 0; ph < out_h; ++ph) {
        for (int pw = 0; pw < out_w; ++pw) {
          const int h0 = ph * g.stride_h - g.pad_h, w0 = pw * g.stride_w - g.pad_w;
          double best = -1e300, sum = 0;
          int best_index = -1;
          for (int h = h0; h < h0 + g.kernel_h; ++h) {
            for (int w = w0; w < w0 + g.kernel_w; ++w) {
              if (h < 0 || h >= H || w < 0 || w >= W) continue;
              const double v = in.data_at(n, c, h, w);
              sum += v;
              if (v > best) best = v, best_index = h * W + w;
            }
          }
          // Caffe's divisor: the window clipped to the padded image, padding included.
          const int area_h = std::min(h0 + g.kernel_h, H + g.pad_h) - h0;
          const int area_w = std::min(w0 + g.kernel_w, W + g.pad_w) - w0;
          out.push_back(max ? best : sum / (area_h * area_w));
          if (argmax) argmax->push_back(best_index);
        }
      }
    }
  }
  return out;
}

template <typename Dtype>
void ExpectNear(const Blob<Dtype>& actual, const std::vector<double>& expected) {
  ASSERT_EQ(actual.count(), static_cast<int>(expected.size()));
  const double tol = std::is_same<Dtype, float>::value ? 1e-5 : 1e-12;
  for (int i = 0; i < actual.count(); ++i) {
    ASSERT_NEAR(actual.cpu_data()[i], expected[i], tol * std::max(1.0, std::fabs(expected[i])))
        << "element " << i;
  }
}

std::string PoolText(const std::string& pooling_param, const std::string& extra = "") {
  return "name: 'pool' type: 'Pooling' " + extra + " pooling_param { " + pooling_param + " }";
}

template <typename Dtype>
class PoolingTest : public ::testing::Test {
 protected:
  std::vector<int> TopShape(const std::string& param, const std::vector<int>& bottom_shape) {
    Blob<Dtype> bottom(bottom_shape);
    Blob<Dtype> top;
    auto layer = MakeLayer<Dtype>(PoolText(param), &context_);
    layer->SetUp({&bottom}, {&top});
    return top.shape();
  }

  Context context_;
};
TYPED_TEST_SUITE(PoolingTest, TestDtypes);

TYPED_TEST(PoolingTest, OutputShapesCeilAndFloor) {
  using V = std::vector<int>;
  EXPECT_EQ(this->TopShape("kernel_size: 3 stride: 2", {1, 1, 6, 6}), (V{1, 1, 3, 3}));
  EXPECT_EQ(this->TopShape("kernel_size: 3 stride: 2 round_mode: FLOOR", {1, 1, 6, 6}),
            (V{1, 1, 2, 2}));
  EXPECT_EQ(this->TopShape("kernel_size: 3 stride: 2 pad: 1", {2, 3, 7, 7}), (V{2, 3, 4, 4}));
  EXPECT_EQ(this->TopShape("kernel_size: 3 stride: 2 pad: 1 round_mode: FLOOR", {2, 3, 7, 7}),
            (V{2, 3, 4, 4}));
  // ceil(5 / 3) + 1 = 3, but the third window would start at 6 >= 4 + 2, inside the right
  // padding, so it is dropped.
  EXPECT_EQ(this->TopShape("kernel_size: 3 stride: 3 pad: 2", {1, 1, 4, 4}), (V{1, 1, 2, 2}));
  EXPECT_EQ(this->TopShape("kernel_h: 3 kernel_w: 2 stride_h: 2 stride_w: 3", {1, 2, 8, 8}),
            (V{1, 2, 4, 3}));
  EXPECT_EQ(this->TopShape("kernel_size: 2 pad_h: 1 pad_w: 0 stride: 2", {1, 1, 5, 5}),
            (V{1, 1, 3, 3}));
  // Padding on one axis trims the other too (Caffe's rule): without pad_h, W would be 3.
  EXPECT_EQ(this->TopShape("kernel_h: 2 kernel_w: 1 stride: 3 pad_h: 1 pad_w: 0", {1, 1, 5, 5}),
            (V{1, 1, 2, 2}));
  EXPECT_EQ(this->TopShape("kernel_h: 2 kernel_w: 1 stride: 3", {1, 1, 5, 5}), (V{1, 1, 2, 3}));
  EXPECT_EQ(this->TopShape("pool: AVE global_pooling: true", {2, 3, 5, 7}), (V{2, 3, 1, 1}));
  EXPECT_EQ(this->TopShape("kernel_size: 3 stride: 2", {1, 96, 55, 55}), (V{1, 96, 27, 27}));
}

TYPED_TEST(PoolingTest, RejectsBadParameters) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(1, 2, 6, 6);
  Blob<Dtype> top, mask;
  auto setup = [&](const std::string& param, int tops = 1) {
    auto layer = MakeLayer<Dtype>(PoolText(param), &this->context_);
    if (tops == 1) {
      layer->SetUp({&bottom}, {&top});
    } else {
      layer->SetUp({&bottom}, {&top, &mask});
    }
  };
  EXPECT_THROW(setup("kernel_size: 3 pad: 3"), ConfigError);
  EXPECT_THROW(setup("kernel_h: 3 kernel_w: 2 pad_h: 1 pad_w: 2"), ConfigError);
  EXPECT_THROW(setup("stride: 2"), ConfigError);
  EXPECT_THROW(setup("kernel_h: 3"), ConfigError);
  EXPECT_THROW(setup("kernel_size: 3 kernel_h: 3 kernel_w: 3"), ConfigError);
  EXPECT_THROW(setup("kernel_size: 3 pad_h: 1"), ConfigError);
  EXPECT_THROW(setup("global_pooling: true kernel_size: 3"), ConfigError);
  EXPECT_THROW(setup("global_pooling: true pad: 1"), ConfigError);
  EXPECT_THROW(setup("pool: STOCHASTIC kernel_size: 3 pad: 1"), ConfigError);
  EXPECT_THROW(setup("pool: AVE kernel_size: 2", 2), ConfigError);
  EXPECT_THROW(setup("kernel_size: 7"), ShapeError);
  Blob<Dtype> flat({2, 6});
  auto layer = MakeLayer<Dtype>(PoolText("kernel_size: 2"), &this->context_);
  EXPECT_THROW(layer->SetUp({&flat}, {&top}), ShapeError);
}

TYPED_TEST(PoolingTest, MaxForwardWithMaskTop) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(2, 3, 7, 6);
  FillUniform<Dtype>(&bottom, -1, 1);
  Blob<Dtype> top, mask;
  auto layer = MakeLayer<Dtype>(
      PoolText("pool: MAX kernel_h: 3 kernel_w: 2 stride_h: 2 stride_w: 1 pad_h: 1 pad_w: 1"),
      &this->context_);
  layer->SetUp({&bottom}, {&top, &mask});
  layer->Forward({&bottom}, {&top, &mask});
  EXPECT_EQ(top.shape(), (std::vector<int>{2, 3, 4, 7}));
  EXPECT_EQ(mask.shape(), top.shape());
  std::vector<int> argmax;
  ExpectNear(top, DirectPool(bottom, {3, 2, 2, 1, 1, 1}, 4, 7, true, &argmax));
  for (int i = 0; i < mask.count(); ++i) EXPECT_EQ(mask.cpu_data()[i], Dtype(argmax[i])) << i;
}

TYPED_TEST(PoolingTest, MaxByHandTiesGoToTheFirst) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(1, 1, 3, 3);
  const Dtype values[] = {1, 5, 2,  //
                          5, 3, 4,  //
                          0, 4, 4};
  std::copy(values, values + 9, bottom.mutable_cpu_data());
  Blob<Dtype> top, mask;
  auto layer = MakeLayer<Dtype>(PoolText("kernel_size: 2 stride: 1"), &this->context_);
  layer->SetUp({&bottom}, {&top, &mask});
  layer->Forward({&bottom}, {&top, &mask});
  const Dtype expected[] = {5, 5, 5, 4};
  const Dtype expected_mask[] = {1, 1, 3, 5};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(top.cpu_data()[i], expected[i]) << i;
    EXPECT_EQ(mask.cpu_data()[i], expected_mask[i]) << i;
  }
  top.set_diff(1);
  layer->Backward({&top, &mask}, {true}, {&bottom});
  const Dtype expected_diff[] = {0, 2, 0, 1, 0, 1, 0, 0, 0};
  for (int i = 0; i < 9; ++i) EXPECT_EQ(bottom.cpu_diff()[i], expected_diff[i]) << i;
}

TYPED_TEST(PoolingTest, MaxSkipsNaNAndValuesAtOrBelowTheStart) {
  using Dtype = TypeParam;
  // Caffe starts each window at -FLT_MAX and takes only strictly larger values: NaN never wins,
  // and a window of NaNs or -infinities selects nothing (mask -1).
  const Dtype nan = std::numeric_limits<Dtype>::quiet_NaN();
  const Dtype inf = std::numeric_limits<Dtype>::infinity();
  Blob<Dtype> bottom(1, 1, 2, 6);
  const Dtype values[] = {nan, 1, nan, nan, -inf, -inf,  //
                          nan, 2, nan, nan, -inf, -inf};
  std::copy(values, values + 12, bottom.mutable_cpu_data());
  Blob<Dtype> top, mask;
  auto layer = MakeLayer<Dtype>(PoolText("kernel_size: 2 stride: 2"), &this->context_);
  layer->SetUp({&bottom}, {&top, &mask});
  layer->Forward({&bottom}, {&top, &mask});
  const Dtype lowest = Dtype(-FLT_MAX);
  const Dtype expected[] = {2, lowest, lowest};
  const Dtype expected_mask[] = {7, -1, -1};
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(top.cpu_data()[i], expected[i]) << i;
    EXPECT_EQ(mask.cpu_data()[i], expected_mask[i]) << i;
  }
}

/// Values with many ties (a few integers), some NaNs, infinities and -FLT_MAX (the start value,
/// which never wins), to exercise every rule of the argmax.
template <typename Dtype>
void FillAwkward(Blob<Dtype>* blob, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> pick(0, 39);
  Dtype* data = blob->mutable_cpu_data();
  for (int i = 0; i < blob->count(); ++i) {
    const int r = pick(rng);
    if (r == 0) {
      data[i] = std::numeric_limits<Dtype>::quiet_NaN();
    } else if (r == 1) {
      data[i] = -std::numeric_limits<Dtype>::infinity();
    } else if (r == 2) {
      data[i] = Dtype(-FLT_MAX);
    } else if (r == 3) {
      data[i] = std::numeric_limits<Dtype>::infinity();
    } else {
      data[i] = static_cast<Dtype>(r % 5 - 2);
    }
  }
}

TYPED_TEST(PoolingTest, FastMaxMatchesTheReference) {
  using Dtype = TypeParam;
  struct Case {
    std::vector<int> shape;
    std::string param;
  };
  const std::vector<Case> cases = {
      {{1, 1, 7, 9}, "kernel_size: 3 stride: 2"},
      {{2, 3, 8, 8}, "kernel_size: 2 stride: 2"},
      {{1, 2, 9, 10}, "kernel_size: 3 stride: 2 pad: 1"},
      {{2, 1, 11, 13}, "kernel_size: 3 stride: 1 pad: 1"},
      {{1, 2, 10, 17}, "kernel_h: 3 kernel_w: 2 stride_h: 2 stride_w: 3 pad_h: 1 pad_w: 1"},
      {{1, 1, 5, 5}, "kernel_size: 5 stride: 2 pad: 2"},
      {{1, 1, 3, 4}, "kernel_size: 5 stride: 1 pad: 2"},
      {{1, 3, 7, 8}, "kernel_size: 3 stride: 3 round_mode: FLOOR"},
      {{1, 2, 4, 5}, "global_pooling: true"},
      {{3, 2, 32, 32}, "kernel_size: 3 stride: 2"},
      {{1, 2, 21, 23}, "kernel_size: 4 stride: 2 pad: 1"},
      {{1, 2, 6, 40}, "kernel_size: 2 stride: 2"},
      {{1, 1, 5, 37}, "kernel_size: 3 stride: 2 pad: 1"},
      {{2, 1, 4, 30}, "kernel_size: 3 stride: 1"},
      {{1, 3, 7, 7}, "kernel_size: 3 stride: 1 pad: 1"},
      {{2, 3, 14, 14}, "kernel_size: 3 stride: 2"},
      {{1, 1, 3, 75}, "kernel_size: 3 stride: 1"},
      // Large enough to run on the task pool.
      {{2, 32, 63, 65}, "kernel_size: 3 stride: 2"},
  };
  for (const Case& c : cases) {
    for (const bool mask_top : {false, true}) {
      SCOPED_TRACE(c.param + (mask_top ? " (mask top)" : ""));
      Blob<Dtype> bottom(c.shape);
      FillAwkward(&bottom, 11);
      Blob<Dtype> fast_top, fast_mask, reference_top, reference_mask;
      std::vector<Blob<Dtype>*> fast_tops = {&fast_top}, reference_tops = {&reference_top};
      if (mask_top) {
        fast_tops.push_back(&fast_mask);
        reference_tops.push_back(&reference_mask);
      }
      auto fast = MakeLayer<Dtype>(PoolText("pool: MAX " + c.param), &this->context_);
      auto reference = MakeLayer<Dtype>(PoolText("pool: MAX " + c.param), &this->context_);
      std::dynamic_pointer_cast<PoolingLayer<Dtype>>(reference)->set_fast_max(false);
      fast->SetUp({&bottom}, fast_tops);
      reference->SetUp({&bottom}, reference_tops);
      Blob<Dtype> top_diff;
      top_diff.ReshapeLike(fast_top);
      FillUniform<Dtype>(&top_diff, -1, 1, 5);
      fast->Forward({&bottom}, fast_tops);
      cpu_copy(top_diff.count(), top_diff.cpu_data(), fast_top.mutable_cpu_diff());
      fast->Backward(fast_tops, {true}, {&bottom});
      Blob<Dtype> fast_diff(c.shape);
      fast_diff.CopyFrom(bottom, /*copy_diff=*/true);
      {
        // The reference on one thread: the fast path must not depend on the thread count.
        SingleThreadedBlas single(true);
        reference->Forward({&bottom}, reference_tops);
        cpu_copy(top_diff.count(), top_diff.cpu_data(), reference_top.mutable_cpu_diff());
        reference->Backward(reference_tops, {true}, {&bottom});
      }
      ASSERT_EQ(fast_top.shape(), reference_top.shape());
      for (int i = 0; i < fast_top.count(); ++i) {
        ASSERT_EQ(fast_top.cpu_data()[i], reference_top.cpu_data()[i]) << "output " << i;
        if (mask_top) ASSERT_EQ(fast_mask.cpu_data()[i], reference_mask.cpu_data()[i]) << i;
      }
      for (int i = 0; i < bottom.count(); ++i) {
        ASSERT_EQ(fast_diff.cpu_diff()[i], bottom.cpu_diff()[i]) << "bottom diff " << i;
      }
    }
  }
}

TYPED_TEST(PoolingTest, AveForwardPaddedDivisor) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(1, 2, 5, 7);
  FillUniform<Dtype>(&bottom, -1, 1);
  Blob<Dtype> top;
  auto layer = MakeLayer<Dtype>(
      PoolText("pool: AVE kernel_h: 3 kernel_w: 4 stride_h: 2 stride_w: 3 pad_h: 2 pad_w: 1"),
      &this->context_);
  layer->SetUp({&bottom}, {&top});
  layer->Forward({&bottom}, {&top});
  // H: ceil((5 + 4 - 3) / 2) + 1 = 4; W: ceil((7 + 2 - 4) / 3) + 1 = 3.
  EXPECT_EQ(top.shape(), (std::vector<int>{1, 2, 4, 3}));
  ExpectNear(top, DirectPool(bottom, {3, 4, 2, 3, 2, 1}, 4, 3, false, nullptr));
}

TYPED_TEST(PoolingTest, AveByHand) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(1, 1, 2, 2);
  const Dtype values[] = {1, 2, 3, 4};
  std::copy(values, values + 4, bottom.mutable_cpu_data());
  Blob<Dtype> top;
  auto layer =
      MakeLayer<Dtype>(PoolText("pool: AVE kernel_size: 2 stride: 1 pad: 1"), &this->context_);
  layer->SetUp({&bottom}, {&top});
  layer->Forward({&bottom}, {&top});
  ASSERT_EQ(top.shape(), (std::vector<int>{1, 1, 3, 3}));
  // Every window is 2 x 2 and inside the padded image, so the divisor is always 4.
  const Dtype expected[] = {0.25, 0.75, 0.5, 1, 2.5, 1.5, 0.75, 1.75, 1};
  for (int i = 0; i < 9; ++i) EXPECT_NEAR(top.cpu_data()[i], expected[i], 1e-6) << i;
}

TYPED_TEST(PoolingTest, FloorModeAndGlobal) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(2, 2, 6, 5);
  FillUniform<Dtype>(&bottom, -1, 1);
  Blob<Dtype> top;
  auto floor_layer = MakeLayer<Dtype>(
      PoolText("pool: MAX kernel_size: 3 stride: 2 round_mode: FLOOR"), &this->context_);
  floor_layer->SetUp({&bottom}, {&top});
  floor_layer->Forward({&bottom}, {&top});
  EXPECT_EQ(top.shape(), (std::vector<int>{2, 2, 2, 2}));
  ExpectNear(top, DirectPool(bottom, {3, 3, 2, 2, 0, 0}, 2, 2, true, nullptr));

  auto global = MakeLayer<Dtype>(PoolText("pool: AVE global_pooling: true"), &this->context_);
  global->SetUp({&bottom}, {&top});
  global->Forward({&bottom}, {&top});
  ExpectNear(top, DirectPool(bottom, {6, 5, 1, 1, 0, 0}, 1, 1, false, nullptr));
  // The kernel follows the bottom when it is reshaped.
  Blob<Dtype> larger(1, 2, 4, 9);
  FillUniform<Dtype>(&larger, -1, 1, 5);
  global->Forward({&larger}, {&top});
  EXPECT_EQ(top.shape(), (std::vector<int>{1, 2, 1, 1}));
  ExpectNear(top, DirectPool(larger, {4, 9, 1, 1, 0, 0}, 1, 1, false, nullptr));
}

TYPED_TEST(PoolingTest, StochasticTestIsWeightedAverage) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(1, 2, 5, 4);
  FillUniform<Dtype>(&bottom, 0.1, 1);
  Blob<Dtype> top;
  auto layer = MakeLayer<Dtype>(
      PoolText("pool: STOCHASTIC kernel_size: 3 stride: 2", "phase: TEST"), &this->context_);
  layer->SetUp({&bottom}, {&top});
  layer->Forward({&bottom}, {&top});
  ASSERT_EQ(top.shape(), (std::vector<int>{1, 2, 2, 2}));
  for (int c = 0; c < 2; ++c) {
    for (int ph = 0; ph < 2; ++ph) {
      for (int pw = 0; pw < 2; ++pw) {
        double sum = 0, sum_sq = 0;
        for (int h = ph * 2; h < std::min(ph * 2 + 3, 5); ++h) {
          for (int w = pw * 2; w < std::min(pw * 2 + 3, 4); ++w) {
            const double v = bottom.data_at(0, c, h, w);
            sum += v, sum_sq += v * v;
          }
        }
        EXPECT_NEAR(top.data_at(0, c, ph, pw), sum_sq / sum, 1e-5);
      }
    }
  }
}

TYPED_TEST(PoolingTest, StochasticTrainPicksFromTheWindow) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(2, 3, 6, 5);
  FillUniform<Dtype>(&bottom, 0.1, 1);
  Blob<Dtype> top;
  auto layer = MakeLayer<Dtype>(
      PoolText("pool: STOCHASTIC kernel_size: 3 stride: 2", "phase: TRAIN"), &this->context_);
  layer->SetUp({&bottom}, {&top});
  layer->Forward({&bottom}, {&top});
  ASSERT_EQ(top.shape(), (std::vector<int>{2, 3, 3, 2}));
  for (int n = 0; n < 2; ++n) {
    for (int c = 0; c < 3; ++c) {
      for (int ph = 0; ph < 3; ++ph) {
        for (int pw = 0; pw < 2; ++pw) {
          bool found = false;
          for (int h = ph * 2; h < std::min(ph * 2 + 3, 6); ++h) {
            for (int w = pw * 2; w < std::min(pw * 2 + 3, 5); ++w) {
              found = found || top.data_at(n, c, ph, pw) == bottom.data_at(n, c, h, w);
            }
          }
          EXPECT_TRUE(found) << n << " " << c << " " << ph << " " << pw;
        }
      }
    }
  }
  // The gradient goes to the sampled element only.
  top.set_diff(1);
  layer->Backward({&top}, {true}, {&bottom});
  EXPECT_NEAR(bottom.asum_diff(), top.count(), 1e-6);
}

TYPED_TEST(PoolingTest, StochasticTrainFollowsTheProbabilities) {
  using Dtype = TypeParam;
  // One window of values 1, 2, 3, 4: element i is drawn with probability (i + 1) / 10.
  Blob<Dtype> bottom(1, 1, 2, 2);
  const Dtype values[] = {1, 2, 3, 4};
  std::copy(values, values + 4, bottom.mutable_cpu_data());
  Blob<Dtype> top;
  auto layer = MakeLayer<Dtype>(PoolText("pool: STOCHASTIC kernel_size: 2", "phase: TRAIN"),
                                &this->context_);
  layer->SetUp({&bottom}, {&top});
  std::vector<int> counts(5, 0);
  const int draws = 4000;
  for (int i = 0; i < draws; ++i) {
    layer->Forward({&bottom}, {&top});
    counts[static_cast<int>(top.cpu_data()[0])]++;
  }
  for (int v = 1; v <= 4; ++v) EXPECT_NEAR(counts[v] / double(draws), v / 10.0, 0.03) << v;
}

TYPED_TEST(PoolingTest, GradientMaxPadded) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(1, 2, 5, 4);
  FillDistinct(&bottom, 0.05);
  Blob<Dtype> top;
  auto layer = MakeLayer<Dtype>(
      PoolText("pool: MAX kernel_h: 3 kernel_w: 2 stride_h: 2 stride_w: 1 pad_h: 1 pad_w: 1"),
      &this->context_);
  GradientChecker<Dtype> checker;
  checker.Check(layer.get(), {&bottom}, {&top});
}

TYPED_TEST(PoolingTest, GradientMaxWithMaskTop) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(2, 2, 5, 5);
  FillDistinct(&bottom, 0.05);
  Blob<Dtype> top, mask;
  auto layer = MakeLayer<Dtype>(PoolText("pool: MAX kernel_size: 3 stride: 2"), &this->context_);
  GradientChecker<Dtype> checker;
  checker.Check(layer.get(), {&bottom}, {&top, &mask});
}

TYPED_TEST(PoolingTest, GradientAvePadded) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(1, 2, 5, 4);
  FillUniform<Dtype>(&bottom, -1, 1);
  Blob<Dtype> top;
  auto layer = MakeLayer<Dtype>(
      PoolText("pool: AVE kernel_h: 3 kernel_w: 2 stride_h: 2 stride_w: 1 pad_h: 2 pad_w: 1"),
      &this->context_);
  GradientChecker<Dtype> checker;
  checker.Check(layer.get(), {&bottom}, {&top});
}

TYPED_TEST(PoolingTest, GradientAveGlobal) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(2, 3, 3, 4);
  FillUniform<Dtype>(&bottom, -1, 1);
  Blob<Dtype> top;
  auto layer = MakeLayer<Dtype>(PoolText("pool: AVE global_pooling: true"), &this->context_);
  GradientChecker<Dtype> checker;
  checker.Check(layer.get(), {&bottom}, {&top});
}

TYPED_TEST(PoolingTest, GradientStochastic) {
  using Dtype = TypeParam;
  for (const char* phase : {"phase: TRAIN", "phase: TEST"}) {
    Blob<Dtype> bottom(1, 2, 5, 4);
    FillUniform<Dtype>(&bottom, 0.1, 1);
    Blob<Dtype> top;
    auto layer = MakeLayer<Dtype>(PoolText("pool: STOCHASTIC kernel_size: 3 stride: 2", phase),
                                  &this->context_);
    GradientChecker<Dtype> checker;
    checker.Check(layer.get(), {&bottom}, {&top});
  }
}

}  // namespace
}  // namespace moka::test
