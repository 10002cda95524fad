#pragma once
// Finite-difference gradient check for any layer. The objective is L = sum_t sum_i w_ti * top_t[i]
// with fixed random weights w, so one backward pass gives every analytic gradient; each input
// element (bottoms and parameter blobs) is then perturbed by +-step and L re-evaluated. The context
// is reseeded before every forward so that stochastic layers (Dropout) see the same draw.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "layer.hpp"

namespace moka::test {

template <typename Dtype>
struct GradientCheckOptions {
  Dtype step = std::is_same<Dtype, float>::value ? Dtype(1e-2) : Dtype(1e-4);
  Dtype threshold = std::is_same<Dtype, float>::value ? Dtype(1e-3) : Dtype(1e-5);
  /// Elements whose input lies within kink_range of kink are skipped (non-differentiable points).
  Dtype kink = 0;
  Dtype kink_range = -1;
  /// Bottom indices to check; empty means all.
  std::vector<int> check_bottoms;
  bool check_params = true;
  uint64_t seed = 1701;
};

template <typename Dtype>
class GradientChecker {
 public:
  using BlobVec = std::vector<Blob<Dtype>*>;

  explicit GradientChecker(GradientCheckOptions<Dtype> options = {}) : options_(options) {}

  void Check(Layer<Dtype>* layer, const BlobVec& bottom, const BlobVec& top) {
    layer->SetUp(bottom, top);
    Context& context = layer->context();
    RunForward(layer, bottom, top);
    std::mt19937_64 weight_rng(options_.seed);
    std::uniform_real_distribution<double> dist(-1.0, 1.0);
    weights_.assign(top.size(), {});
    for (size_t t = 0; t < top.size(); ++t) {
      weights_[t].resize(top[t]->count());
      for (auto& w : weights_[t]) w = static_cast<Dtype>(dist(weight_rng));
    }

    // Analytic gradients.
    std::vector<Blob<Dtype>*> targets;
    std::vector<bool> propagate_down(bottom.size(), false);
    for (size_t b = 0; b < bottom.size(); ++b) {
      if (ShouldCheckBottom(static_cast<int>(b))) {
        propagate_down[b] = true;
        targets.push_back(bottom[b]);
      }
    }
    if (options_.check_params) {
      for (auto& param : layer->blobs()) targets.push_back(param.get());
    }
    for (auto* blob : targets) blob->set_diff(0);
    for (size_t t = 0; t < top.size(); ++t) {
      Dtype* diff = top[t]->mutable_cpu_diff();
      std::copy(weights_[t].begin(), weights_[t].end(), diff);
    }
    layer->Backward(top, propagate_down, bottom);
    std::vector<std::vector<Dtype>> analytic;
    for (auto* blob : targets) analytic.emplace_back(blob->cpu_diff(), blob->cpu_diff() + blob->count());

    // Numeric gradients.
    int checked = 0;
    for (size_t k = 0; k < targets.size(); ++k) {
      Blob<Dtype>* blob = targets[k];
      for (int i = 0; i < blob->count(); ++i) {
        const Dtype original = blob->cpu_data()[i];
        if (options_.kink_range > 0 && std::fabs(original - options_.kink) <= options_.kink_range)
          continue;
        blob->mutable_cpu_data()[i] = original + options_.step;
        const double plus = Objective(layer, bottom, top);
        blob->mutable_cpu_data()[i] = original - options_.step;
        const double minus = Objective(layer, bottom, top);
        blob->mutable_cpu_data()[i] = original;
        const double estimated = (plus - minus) / (2.0 * options_.step);
        const double computed = analytic[k][i];
        const double scale = std::max({std::fabs(computed), std::fabs(estimated), 1.0});
        EXPECT_NEAR(computed, estimated, options_.threshold * scale)
            << layer->Describe() << ": target " << k << " (of " << targets.size()
            << "; bottoms first, then parameters) element " << i << " of shape "
            << blob->shape_string();
        ++checked;
        if (::testing::Test::HasFailure()) return;
      }
    }
    (void)context;
    EXPECT_GT(checked + static_cast<int>(targets.empty()), 0) << "no element was checked";
  }

 private:
  bool ShouldCheckBottom(int index) const {
    if (options_.check_bottoms.empty()) return true;
    return std::find(options_.check_bottoms.begin(), options_.check_bottoms.end(), index) !=
           options_.check_bottoms.end();
  }

  void RunForward(Layer<Dtype>* layer, const BlobVec& bottom, const BlobVec& top) {
    layer->context().Seed(options_.seed);
    layer->Forward(bottom, top);
  }

  double Objective(Layer<Dtype>* layer, const BlobVec& bottom, const BlobVec& top) {
    RunForward(layer, bottom, top);
    double sum = 0;
    for (size_t t = 0; t < top.size(); ++t) {
      const Dtype* data = top[t]->cpu_data();
      for (int i = 0; i < top[t]->count(); ++i) sum += static_cast<double>(weights_[t][i]) * data[i];
    }
    return sum;
  }

  GradientCheckOptions<Dtype> options_;
  std::vector<std::vector<Dtype>> weights_;
};

}  // namespace moka::test
