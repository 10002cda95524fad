// STOCHASTIC pooling as Caffe defines it: in TRAIN each window draws u ~ U(0, 1) from the
// context's stream and picks the first element (row-major) at which the running sum reaches
// u * sum(window); in TEST the output is the probability-weighted average sum(x^2) / sum(x), with
// no draw.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace moka::test {
namespace {

std::string StochasticText(const std::string& geometry, const std::string& phase) {
  return "name: 'pool' type: 'Pooling' phase: " + phase + " pooling_param { pool: STOCHASTIC " +
         geometry + " }";
}

template <typename Dtype>
class PoolingStochasticTest : public ::testing::Test {};
TYPED_TEST_SUITE(PoolingStochasticTest, TestDtypes);

TYPED_TEST(PoolingStochasticTest, TrainDrawsFromTheContextStream) {
  using Dtype = TypeParam;
  const int N = 2, C = 2, H = 5, W = 6, kernel = 3, stride = 2;
  Blob<Dtype> bottom(N, C, H, W);
  FillUniform<Dtype>(&bottom, 0.05, 1);
  Blob<Dtype> top;
  Context context(Device::kCpu, 0, 99);
  auto layer = MakeLayer<Dtype>(StochasticText("kernel_size: 3 stride: 2", "TRAIN"), &context);
  layer->SetUp({&bottom}, {&top});
  ASSERT_EQ(top.shape(), (std::vector<int>{N, C, 2, 3}));
  // The same draws, made from a copy of the stream the layer is about to use.
  std::mt19937_64 stream = context.rng();
  std::vector<Dtype> u(top.count());
  rng_uniform<Dtype>(top.count(), Dtype(0), Dtype(1), stream, u.data());
  layer->Forward({&bottom}, {&top});
  int o = 0;
  for (int n = 0; n < N; ++n) {
    for (int c = 0; c < C; ++c) {
      for (int ph = 0; ph < 2; ++ph) {
        for (int pw = 0; pw < 3; ++pw, ++o) {
          const int h0 = ph * stride, w0 = pw * stride;
          const int h1 = std::min(h0 + kernel, H), w1 = std::min(w0 + kernel, W);
          Dtype sum = 0;
          for (int h = h0; h < h1; ++h) {
            for (int w = w0; w < w1; ++w) sum += bottom.data_at(n, c, h, w);
          }
          Dtype running = 0, expected = 0;
          bool found = false;
          for (int h = h0; h < h1 && !found; ++h) {
            for (int w = w0; w < w1 && !found; ++w) {
              running += bottom.data_at(n, c, h, w);
              if (running >= u[o] * sum) {
                expected = bottom.data_at(n, c, h, w);
                found = true;
              }
            }
          }
          if (!found) expected = bottom.data_at(n, c, h1 - 1, w1 - 1);
          EXPECT_EQ(top.cpu_data()[o], expected) << "output " << o;
        }
      }
    }
  }
  // The layer consumed exactly those draws from the context's stream.
  EXPECT_EQ(context.rng()(), stream());
}

TYPED_TEST(PoolingStochasticTest, TrainIsReproducibleFromTheSeed) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(1, 3, 6, 6);
  FillUniform<Dtype>(&bottom, 0.05, 1);
  auto run = [&](uint64_t seed) {
    Context context(Device::kCpu, 0, seed);
    auto layer = MakeLayer<Dtype>(StochasticText("kernel_size: 2 stride: 2", "TRAIN"), &context);
    Blob<Dtype> top;
    layer->SetUp({&bottom}, {&top});
    layer->Forward({&bottom}, {&top});
    return std::vector<Dtype>(top.cpu_data(), top.cpu_data() + top.count());
  };
  EXPECT_EQ(run(5), run(5));
  EXPECT_NE(run(5), run(6));
}

TYPED_TEST(PoolingStochasticTest, TestIsTheWeightedAverageAndDrawsNothing) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(1, 1, 2, 4);
  // Window 1 holds 1, 2, 3, 4 (sum 10, sum of squares 30); window 2 is all zero.
  const Dtype values[] = {1, 2, 0, 0, 3, 4, 0, 0};
  std::copy(values, values + 8, bottom.mutable_cpu_data());
  Blob<Dtype> top;
  Context context(Device::kCpu, 0, 3);
  auto layer = MakeLayer<Dtype>(StochasticText("kernel_size: 2 stride: 2", "TEST"), &context);
  layer->SetUp({&bottom}, {&top});
  std::mt19937_64 untouched = context.rng();
  layer->Forward({&bottom}, {&top});
  ASSERT_EQ(top.count(), 2);
  EXPECT_NEAR(top.cpu_data()[0], 3.0, 1e-6);
  EXPECT_EQ(top.cpu_data()[1], Dtype(0));
  EXPECT_EQ(context.rng()(), untouched());
}

TYPED_TEST(PoolingStochasticTest, TrainZeroWindowPicksTheFirstElement) {
  using Dtype = TypeParam;
  // With sum 0 the threshold is 0, reached at the first element: its value and its gradient.
  Blob<Dtype> bottom(1, 1, 2, 2);
  bottom.set_data(0);
  Blob<Dtype> top;
  Context context(Device::kCpu, 0, 8);
  auto layer = MakeLayer<Dtype>(StochasticText("kernel_size: 2", "TRAIN"), &context);
  layer->SetUp({&bottom}, {&top});
  layer->Forward({&bottom}, {&top});
  EXPECT_EQ(top.cpu_data()[0], Dtype(0));
  top.set_diff(1);
  layer->Backward({&top}, {true}, {&bottom});
  const Dtype expected[] = {1, 0, 0, 0};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(bottom.cpu_diff()[i], expected[i]) << i;
}

}  // namespace
}  // namespace moka::test
