// moka test: scores a trained model in TEST phase, logging each batch's outputs and their means
// in the lines Caffe's `caffe test` writes (scripts that parse those keep working).
#include <glog/logging.h>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "error.hpp"
#include "net.hpp"
#include "solver.hpp"
#include "tools/cli.hpp"
#include "tools/verbs.hpp"

namespace moka {

int TestMain() {
  MOKA_CHECK(!FLAGS_model.empty(), ConfigError,
             "need a model definition to score: give --model=NET.prototxt");
  MOKA_CHECK(FLAGS_iterations > 0, ConfigError,
             "--iterations must be positive, got " << FLAGS_iterations);
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

  Net<float> net(FLAGS_model, TEST, MakeContext(gpus), FLAGS_level, StagesFromFlags());
  if (FLAGS_weights.empty()) {
    LOG(WARNING) << "No --weights given: scoring the net with its initial (filler) weights.";
  }
  for (const std::string& weights : SplitList(FLAGS_weights)) net.CopyTrainedLayersFrom(weights);
  // Scoring never runs backward, so activations with disjoint lifetimes can share memory.
  const auto [bytes_before, bytes_after] = net.ShareActivationMemory();
  LOG(INFO) << "Activation memory: " << (bytes_before >> 20) << " MiB, shared to "
            << (bytes_after >> 20) << " MiB";
  LOG(INFO) << "Running for " << FLAGS_iterations << " iterations.";

  const std::vector<Blob<float>*>& outputs = net.output_blobs();
  std::vector<float> scores;
  std::vector<int> score_output;
  float loss = 0;
  for (int i = 0; i < FLAGS_iterations; ++i) {
    loss += net.Forward();
    size_t index = 0;
    for (size_t j = 0; j < outputs.size(); ++j) {
      const float* values = outputs[j]->cpu_data();
      const std::string& name = net.blob_names()[net.output_blob_indices()[j]];
      for (int k = 0; k < outputs[j]->count(); ++k, ++index) {
        if (i == 0) {
          scores.push_back(values[k]);
          score_output.push_back(static_cast<int>(j));
        } else {
          scores[index] += values[k];
        }
        LOG(INFO) << "Batch " << i << ", " << name << " = " << values[k];
      }
    }
  }
  loss /= FLAGS_iterations;
  LOG(INFO) << "Loss: " << loss;

  const std::vector<float> loss_weights = OutputLossWeights(net);
  for (size_t i = 0; i < scores.size(); ++i) {
    const int output = score_output[i];
    const std::string& name = net.blob_names()[net.output_blob_indices()[output]];
    const float mean = scores[i] / FLAGS_iterations;
    std::ostringstream loss_text;
    if (loss_weights[output] != 0) {
      loss_text << " (* " << loss_weights[output] << " = " << loss_weights[output] * mean
                << " loss)";
    }
    LOG(INFO) << name << " = " << mean << loss_text.str();
  }
  return 0;
}

}  // namespace moka
