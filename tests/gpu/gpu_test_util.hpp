#pragma once
// Shared by the GPU tests: the skip rule (no device, or a CPU-only build, skips with the reason),
// and the CPU-versus-GPU harness. The harness builds a layer twice from the same definition, once
// on a CPU context and once on a GPU context with the same seed, feeds both the same inputs and top
// gradients, and compares tops, bottom gradients and parameter gradients. The CPU path is the
// oracle.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "context.hpp"
#include "test_util.hpp"
#ifdef MOKA_CUDA
#include "cuda_check.hpp"
#endif

namespace moka::test {

/// Why GPU tests cannot run here, or "" when a CUDA device is usable.
inline std::string GpuSkipReason() {
#ifdef MOKA_CUDA
  const std::string reason = CudaUnavailableReason();
  return reason.empty() ? std::string() : "no CUDA device: " + reason;
#else
  return "moka was built without CUDA (MOKA_CUDA=OFF)";
#endif
}

#define MOKA_REQUIRE_GPU()                                              \
  do {                                                                  \
    const std::string moka_skip_reason_ = ::moka::test::GpuSkipReason(); \
    if (!moka_skip_reason_.empty()) GTEST_SKIP() << moka_skip_reason_;   \
  } while (0)

/// Relative tolerance of CPU-versus-GPU comparisons: float and double rounding differ by the order
/// of summation (and cuDNN's algorithms), not by more.
template <typename Dtype>
double CompareTolerance() {
  return std::is_same<Dtype, float>::value ? 1e-4 : 1e-9;
}

/// Expects gpu to match cpu element for element within rtol relative to the element and to the
/// largest magnitude in cpu (so that values near zero that come from cancellation pass).
template <typename Dtype>
void ExpectAllClose(const std::vector<Dtype>& cpu, const std::vector<Dtype>& gpu,
                    const std::string& what, double rtol = CompareTolerance<Dtype>()) {
  ASSERT_EQ(cpu.size(), gpu.size()) << what;
  double scale = 1;
  for (Dtype v : cpu) {
    if (std::isfinite(static_cast<double>(v))) scale = std::max(scale, std::fabs(static_cast<double>(v)));
  }
  int reported = 0;
  for (size_t i = 0; i < cpu.size(); ++i) {
    const double a = cpu[i];
    const double b = gpu[i];
    if (std::isnan(a) && std::isnan(b)) continue;
    const double tolerance = rtol * (std::max(std::fabs(a), std::fabs(b)) + scale);
    if (!(std::fabs(a - b) <= tolerance)) {
      ADD_FAILURE() << what << ": element " << i << " of " << cpu.size() << ": CPU " << a
                    << ", GPU " << b << " (difference " << std::fabs(a - b) << ", tolerance "
                    << tolerance << ")";
      if (++reported == 5) return;
    }
  }
}

/// How to fill one bottom.
struct BottomSpec {
  enum class Kind { kGaussian, kUniform, kLabels };
  std::vector<int> shape;
  Kind kind = Kind::kGaussian;
  /// Gaussian: standard deviation in low. Uniform: [low, high]. Labels: integers in [0, high).
  double low = 1;
  double high = 1;
  /// Labels: every `ignore_every`-th label becomes ignore_value (0: none).
  int ignore_every = 0;
  int ignore_value = 0;
  bool propagate = true;

  static BottomSpec Gaussian(std::vector<int> shape, double stddev = 1) {
    BottomSpec spec;
    spec.shape = std::move(shape);
    spec.low = stddev;
    return spec;
  }
  static BottomSpec Uniform(std::vector<int> shape, double low, double high) {
    BottomSpec spec;
    spec.shape = std::move(shape);
    spec.kind = Kind::kUniform;
    spec.low = low;
    spec.high = high;
    return spec;
  }
  static BottomSpec Labels(std::vector<int> shape, int classes, int ignore_every = 0,
                           int ignore_value = 0) {
    BottomSpec spec;
    spec.shape = std::move(shape);
    spec.kind = Kind::kLabels;
    spec.high = classes;
    spec.ignore_every = ignore_every;
    spec.ignore_value = ignore_value;
    spec.propagate = false;
    return spec;
  }
  BottomSpec& NoGradient() {
    propagate = false;
    return *this;
  }
};

struct LayerCase {
  std::string name;
  std::string layer;
  std::vector<BottomSpec> bottoms;
  /// Run Backward (and compare gradients).
  bool backward = true;
  /// The tops are the bottoms (in-place computation).
  bool in_place = false;
};

template <typename Dtype>
void FillBottom(const BottomSpec& spec, uint64_t seed, Blob<Dtype>* blob) {
  blob->Reshape(spec.shape);
  std::mt19937_64 rng(seed);
  Dtype* data = blob->mutable_cpu_data();
  switch (spec.kind) {
    case BottomSpec::Kind::kGaussian:
      rng_gaussian<Dtype>(blob->count(), Dtype(0), Dtype(spec.low), rng, data);
      break;
    case BottomSpec::Kind::kUniform:
      rng_uniform<Dtype>(blob->count(), Dtype(spec.low), Dtype(spec.high), rng, data);
      break;
    case BottomSpec::Kind::kLabels: {
      std::uniform_int_distribution<int> dist(0, static_cast<int>(spec.high) - 1);
      for (int i = 0; i < blob->count(); ++i) {
        const bool ignore = spec.ignore_every > 0 && i % spec.ignore_every == spec.ignore_every - 1;
        data[i] = static_cast<Dtype>(ignore ? spec.ignore_value : dist(rng));
      }
      break;
    }
  }
}

/// What one run of a layer produced, copied to the host.
template <typename Dtype>
struct LayerRun {
  std::vector<std::vector<Dtype>> tops;
  std::vector<std::vector<int>> top_shapes;
  std::vector<std::vector<Dtype>> bottom_diffs;
  std::vector<std::vector<Dtype>> param_diffs;
  std::string engine;
};

template <typename Dtype>
std::vector<Dtype> HostCopy(const Dtype* data, int count) {
  return std::vector<Dtype>(data, data + count);
}

/// Runs the case on `device`: SetUp, two Forwards (so that state kept between passes is
/// exercised), then Backward with seeded top gradients.
template <typename Dtype>
LayerRun<Dtype> RunLayerCase(const LayerCase& c, Device device) {
  const uint64_t seed = 1701;
  Context context(device, 0, seed);
  auto layer = MakeLayer<Dtype>(c.layer, &context);
  const LayerParameter param = ParseLayer(c.layer);
  std::vector<std::unique_ptr<Blob<Dtype>>> bottom_blobs;
  std::vector<Blob<Dtype>*> bottom;
  for (size_t i = 0; i < c.bottoms.size(); ++i) {
    bottom_blobs.push_back(std::make_unique<Blob<Dtype>>());
    FillBottom(c.bottoms[i], seed + 10 * (i + 1), bottom_blobs.back().get());
    bottom.push_back(bottom_blobs.back().get());
  }
  std::vector<std::unique_ptr<Blob<Dtype>>> top_blobs;
  std::vector<Blob<Dtype>*> top;
  if (c.in_place) {
    top = bottom;
  } else {
    for (int i = 0; i < param.top_size(); ++i) {
      top_blobs.push_back(std::make_unique<Blob<Dtype>>());
      top.push_back(top_blobs.back().get());
    }
  }
  layer->SetUp(bottom, top);
  // In-place layers overwrite their input: refill it before each pass.
  for (int pass = 0; pass < 2; ++pass) {
    if (c.in_place) {
      for (size_t i = 0; i < c.bottoms.size(); ++i) {
        FillBottom(c.bottoms[i], seed + 10 * (i + 1), bottom_blobs[i].get());
      }
    }
    context.Seed(seed + 100 + pass);
    layer->Forward(bottom, top);
  }
  LayerRun<Dtype> run;
  for (auto* blob : top) {
    run.tops.push_back(HostCopy(blob->cpu_data(), blob->count()));
    run.top_shapes.push_back(blob->shape());
  }
  run.engine = layer->engine();
  if (!c.backward) return run;

  std::mt19937_64 rng(seed + 7);
  for (size_t t = 0; t < top.size(); ++t) {
    // Loss tops keep their loss weight as gradient (SetLossWeights put it there).
    if (layer->loss(static_cast<int>(t)) != Dtype(0)) continue;
    rng_gaussian<Dtype>(top[t]->count(), Dtype(0), Dtype(1), rng, top[t]->mutable_cpu_diff());
  }
  std::vector<bool> propagate;
  for (size_t i = 0; i < c.bottoms.size(); ++i) {
    propagate.push_back(c.bottoms[i].propagate);
    // A value the layer must overwrite (or, for accumulating layers, add to, on both devices).
    if (c.bottoms[i].propagate && !c.in_place) bottom[i]->set_diff(Dtype(0.25));
  }
  for (auto& blob : layer->blobs()) blob->set_diff(Dtype(0.5));
  layer->Backward(top, propagate, bottom);
  for (size_t i = 0; i < c.bottoms.size(); ++i) {
    if (!c.bottoms[i].propagate) continue;
    run.bottom_diffs.push_back(HostCopy(bottom[i]->cpu_diff(), bottom[i]->count()));
  }
  for (auto& blob : layer->blobs()) run.param_diffs.push_back(HostCopy(blob->cpu_diff(), blob->count()));
  return run;
}

/// Runs the case on both devices and compares everything.
template <typename Dtype>
void CompareCpuGpu(const LayerCase& c) {
  SCOPED_TRACE("case " + c.name);
  LayerRun<Dtype> cpu, gpu;
  try {
    cpu = RunLayerCase<Dtype>(c, Device::kCpu);
    gpu = RunLayerCase<Dtype>(c, Device::kGpu);
  } catch (const std::exception& error) {
    ADD_FAILURE() << c.name << ": " << error.what();
    return;
  }
  ASSERT_EQ(cpu.tops.size(), gpu.tops.size());
  for (size_t t = 0; t < cpu.tops.size(); ++t) {
    EXPECT_EQ(cpu.top_shapes[t], gpu.top_shapes[t]) << c.name << " top " << t;
    ExpectAllClose(cpu.tops[t], gpu.tops[t], c.name + " top " + std::to_string(t));
  }
  ASSERT_EQ(cpu.bottom_diffs.size(), gpu.bottom_diffs.size());
  for (size_t i = 0; i < cpu.bottom_diffs.size(); ++i) {
    ExpectAllClose(cpu.bottom_diffs[i], gpu.bottom_diffs[i],
                   c.name + " bottom diff " + std::to_string(i) + " (engine " + gpu.engine + ")");
  }
  ASSERT_EQ(cpu.param_diffs.size(), gpu.param_diffs.size());
  for (size_t i = 0; i < cpu.param_diffs.size(); ++i) {
    ExpectAllClose(cpu.param_diffs[i], gpu.param_diffs[i],
                   c.name + " param diff " + std::to_string(i) + " (engine " + gpu.engine + ")");
  }
}

}  // namespace moka::test
