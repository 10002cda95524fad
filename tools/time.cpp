// moka time: per-layer forward and backward timings in the format of Caffe's `caffe time`, with
// the engine each layer ran on, so a slow layer and the implementation behind it show together.
#include <glog/logging.h>

#include <chrono>
#include <iomanip>
#include <memory>
#include <string>
#include <vector>

#include "error.hpp"
#include "net.hpp"
#include "tools/cli.hpp"
#include "tools/verbs.hpp"

namespace moka {
namespace {

using Clock = std::chrono::steady_clock;

double MillisecondsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

}  // namespace

int TimeMain() {
  MOKA_CHECK(!FLAGS_model.empty(), ConfigError,
             "need a model definition to time: give --model=NET.prototxt");
  MOKA_CHECK(FLAGS_iterations > 0, ConfigError,
             "--iterations must be positive, got " << FLAGS_iterations);
  const Phase phase = PhaseFromFlags(TRAIN);
  std::vector<int> gpus = GpusFromFlags();
  if (gpus.size() > 1) {
    for (size_t i = 1; i < gpus.size(); ++i) {
      LOG(INFO) << "Not using GPU #" << gpus[i] << " for single-GPU function";
    }
    gpus.resize(1);
  }
  if (gpus.empty()) {
    LOG(INFO) << "Use CPU.";
  } else {
    LOG(INFO) << "Use GPU with device ID " << gpus[0];
  }
  Net<float> net(FLAGS_model, phase, MakeContext(gpus), FLAGS_level, StagesFromFlags());

  // One untimed pass allocates every buffer, so the timed passes measure steady-state work.
  LOG(INFO) << "Performing Forward";
  const float initial_loss = net.Forward();
  LOG(INFO) << "Initial loss: " << initial_loss;
  LOG(INFO) << "Performing Backward";
  net.Backward();

  const auto& layers = net.layers();
  const auto& bottom_vecs = net.bottom_vecs();
  const auto& top_vecs = net.top_vecs();
  const auto& bottom_need_backward = net.bottom_need_backward();
  const int num_layers = net.num_layers();
  LOG(INFO) << "*** Benchmark begins ***";
  LOG(INFO) << "Testing for " << FLAGS_iterations << " iterations.";
  std::vector<double> forward_ms(num_layers, 0.0);
  std::vector<double> backward_ms(num_layers, 0.0);
  double forward_total_ms = 0;
  double backward_total_ms = 0;
  const Clock::time_point total_start = Clock::now();
  for (int iteration = 0; iteration < FLAGS_iterations; ++iteration) {
    const Clock::time_point iteration_start = Clock::now();
    for (int i = 0; i < num_layers; ++i) {
      const Clock::time_point start = Clock::now();
      layers[i]->Forward(bottom_vecs[i], top_vecs[i]);
      forward_ms[i] += MillisecondsSince(start);
    }
    forward_total_ms += MillisecondsSince(iteration_start);
    const Clock::time_point backward_start = Clock::now();
    for (int i = num_layers - 1; i >= 0; --i) {
      const Clock::time_point start = Clock::now();
      layers[i]->Backward(top_vecs[i], bottom_need_backward[i], bottom_vecs[i]);
      backward_ms[i] += MillisecondsSince(start);
    }
    backward_total_ms += MillisecondsSince(backward_start);
    LOG(INFO) << "Iteration: " << iteration + 1
              << " forward-backward time: " << MillisecondsSince(iteration_start) << " ms.";
  }
  const double total_ms = MillisecondsSince(total_start);

  const double iterations = FLAGS_iterations;
  LOG(INFO) << "Average time per layer: ";
  for (int i = 0; i < num_layers; ++i) {
    const std::string& name = net.layer_names()[i];
    const std::string engine = " [" + layers[i]->engine() + "]";
    LOG(INFO) << std::setfill(' ') << std::setw(10) << name
              << "\tforward: " << forward_ms[i] / iterations << " ms." << engine;
    LOG(INFO) << std::setfill(' ') << std::setw(10) << name
              << "\tbackward: " << backward_ms[i] / iterations << " ms." << engine;
  }
  LOG(INFO) << "Average Forward pass: " << forward_total_ms / iterations << " ms.";
  LOG(INFO) << "Average Backward pass: " << backward_total_ms / iterations << " ms.";
  LOG(INFO) << "Average Forward-Backward: " << total_ms / iterations << " ms.";
  LOG(INFO) << "Total Time: " << total_ms << " ms.";
  LOG(INFO) << "*** Benchmark ends ***";
  return 0;
}

}  // namespace moka
