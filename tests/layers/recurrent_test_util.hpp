#pragma once
// Checks shared by the RNN and LSTM layer tests.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <type_traits>
#include <vector>

#include "blob.hpp"
#include "layer.hpp"
#include "math_functions.hpp"

namespace moka::test {

template <typename Dtype>
void ExpectNear(const Blob<Dtype>& blob, const std::vector<double>& expected, const char* what) {
  ASSERT_EQ(blob.count(), static_cast<int>(expected.size())) << what;
  const double tolerance = std::is_same<Dtype, float>::value ? 2e-5 : 1e-10;
  for (int i = 0; i < blob.count(); ++i) {
    EXPECT_NEAR(blob.cpu_data()[i], expected[i], tolerance) << what << " element " << i;
  }
}

template <typename Dtype>
void SetCont(Blob<Dtype>* cont, const std::vector<Dtype>& values) {
  ASSERT_EQ(cont->count(), static_cast<int>(values.size()));
  std::copy(values.begin(), values.end(), cont->mutable_cpu_data());
}

/// Finite differences of L = sum w . top[0] only, for layers whose other tops carry no gradient
/// (the exposed final states): checks bottom[0] and every parameter blob. The other tops get
/// random diffs, which the layer must ignore.
template <typename Dtype>
void CheckFirstTopGradient(Layer<Dtype>* layer, const std::vector<Blob<Dtype>*>& bottom,
                           const std::vector<Blob<Dtype>*>& top) {
  const double step = std::is_same<Dtype, float>::value ? 1e-2 : 1e-4;
  const double threshold = std::is_same<Dtype, float>::value ? 1e-3 : 1e-6;
  layer->Forward(bottom, top);
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> dist(-1, 1);
  std::vector<double> weights(top[0]->count());
  for (auto& w : weights) w = dist(rng);
  for (int i = 0; i < top[0]->count(); ++i) top[0]->mutable_cpu_diff()[i] = weights[i];
  for (size_t t = 1; t < top.size(); ++t) {
    rng_gaussian<Dtype>(top[t]->count(), Dtype(0), Dtype(1), rng, top[t]->mutable_cpu_diff());
  }
  std::vector<Blob<Dtype>*> targets = {bottom[0]};
  for (auto& blob : layer->blobs()) targets.push_back(blob.get());
  for (auto* blob : targets) blob->set_diff(Dtype(0));
  std::vector<bool> propagate(bottom.size(), false);
  propagate[0] = true;
  layer->Backward(top, propagate, bottom);
  auto objective = [&] {
    layer->Forward(bottom, top);
    double sum = 0;
    for (int i = 0; i < top[0]->count(); ++i) sum += weights[i] * top[0]->cpu_data()[i];
    return sum;
  };
  for (size_t k = 0; k < targets.size(); ++k) {
    std::vector<double> analytic(targets[k]->cpu_diff(),
                                 targets[k]->cpu_diff() + targets[k]->count());
    for (int i = 0; i < targets[k]->count(); ++i) {
      Dtype* data = targets[k]->mutable_cpu_data();
      const Dtype original = data[i];
      data[i] = original + static_cast<Dtype>(step);
      const double plus = objective();
      targets[k]->mutable_cpu_data()[i] = original - static_cast<Dtype>(step);
      const double minus = objective();
      targets[k]->mutable_cpu_data()[i] = original;
      const double estimated = (plus - minus) / (2 * step);
      const double scale = std::max({std::fabs(estimated), std::fabs(analytic[i]), 1.0});
      ASSERT_NEAR(analytic[i], estimated, threshold * scale) << "target " << k << " element " << i;
    }
  }
}

}  // namespace moka::test
