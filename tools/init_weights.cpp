// moka init_weights: builds a net and writes its freshly initialised parameters as a .caffemodel,
// either as the prototxt's fillers make them or, with --calibrate, scaled on a random input so
// that every convolution and inner product gives unit-variance outputs and every BatchNorm holds
// the statistics of what reaches it. Calibrated weights keep activations of order one through
// deep nets (ResNet-152, VGG), which is what numerical comparisons against other programs need:
// a deploy prototxt has no fillers, and raw random weights overflow or vanish after many layers.
#include <glog/logging.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "error.hpp"
#include "math_functions.hpp"
#include "net.hpp"
#include "proto_io.hpp"
#include "tools/cli.hpp"
#include "tools/verbs.hpp"

namespace moka {
namespace {

std::string Usage() {
  return "usage: moka init_weights --model=NET.prototxt --output=W.caffemodel [--seed=N] "
         "[--calibrate]";
}

bool IsWeighted(const std::string& type) {
  return type == "Convolution" || type == "InnerProduct" || type == "Deconvolution";
}

/// Per-channel (axis 1) mean and variance of a blob of shape N x C x ...
void ChannelMoments(const Blob<float>& blob, std::vector<double>* mean,
                    std::vector<double>* variance) {
  const int num = blob.shape(0);
  const int channels = blob.num_axes() > 1 ? blob.shape(1) : 1;
  const int inner = blob.count() / (num * channels);
  mean->assign(channels, 0.0);
  variance->assign(channels, 0.0);
  const float* data = blob.cpu_data();
  for (int c = 0; c < channels; ++c) {
    double sum = 0, squares = 0;
    for (int n = 0; n < num; ++n) {
      const float* x = data + (n * channels + c) * inner;
      for (int i = 0; i < inner; ++i) {
        sum += x[i];
        squares += static_cast<double>(x[i]) * x[i];
      }
    }
    const double count = static_cast<double>(num) * inner;
    (*mean)[c] = sum / count;
    (*variance)[c] = std::max(0.0, squares / count - (*mean)[c] * (*mean)[c]);
  }
}

double StandardDeviation(const Blob<float>& blob) {
  const float* data = blob.cpu_data();
  double sum = 0, squares = 0;
  for (int i = 0; i < blob.count(); ++i) {
    sum += data[i];
    squares += static_cast<double>(data[i]) * data[i];
  }
  const double mean = sum / blob.count();
  return std::sqrt(std::max(0.0, squares / blob.count() - mean * mean));
}

void Calibrate(Net<float>* net) {
  std::mt19937_64& rng = net->context().rng();
  for (Blob<float>* input : net->input_blobs()) {
    rng_gaussian<float>(input->count(), 0.f, 1.f, rng, input->mutable_cpu_data());
  }
  for (int i = 0; i < net->num_layers(); ++i) {
    auto& layer = net->layers()[i];
    const std::string type = layer->type();
    auto& blobs = layer->blobs();
    if (IsWeighted(type) && !blobs.empty()) {
      Blob<float>& weights = *blobs[0];
      rng_gaussian<float>(weights.count(), 0.f, 1.f, rng, weights.mutable_cpu_data());
      if (blobs.size() > 1) blobs[1]->set_data(0);
      net->ForwardFromTo(i, i);
      // The output is linear in the weights: rescale it with them instead of running the layer
      // again, then add the bias along the channel axis as the layer would.
      Blob<float>& top = *net->top_vecs()[i][0];
      const double deviation = StandardDeviation(top);
      if (deviation > 0) {
        cpu_scal<float>(weights.count(), 1.0 / deviation, weights.mutable_cpu_data());
        cpu_scal<float>(top.count(), 1.0 / deviation, top.mutable_cpu_data());
      }
      if (blobs.size() > 1) {
        Blob<float>& bias = *blobs[1];
        rng_uniform<float>(bias.count(), -0.2f, 0.2f, rng, bias.mutable_cpu_data());
        const int channels = bias.count();
        if (top.num_axes() < 2 || top.shape(1) != channels) {
          net->ForwardFromTo(i, i);  // an InnerProduct along a later axis: let the layer add it
          continue;
        }
        const int inner = top.count(2);
        float* out = top.mutable_cpu_data();
        for (int n = 0; n < top.shape(0); ++n) {
          for (int c = 0; c < channels; ++c) {
            float* plane = out + (static_cast<int64_t>(n) * channels + c) * inner;
            for (int k = 0; k < inner; ++k) plane[k] += bias.cpu_data()[c];
          }
        }
      }
      continue;
    } else if (type == "BatchNorm" && blobs.size() == 3) {
      // Statistics close to, not equal to, the input's: the normalisation then shows in the output.
      std::vector<double> mean, variance;
      ChannelMoments(*net->bottom_vecs()[i][0], &mean, &variance);
      std::vector<float> jitter(2 * mean.size());
      rng_uniform<float>(static_cast<int>(jitter.size()), -1.f, 1.f, rng, jitter.data());
      float* stored_mean = blobs[0]->mutable_cpu_data();
      float* stored_variance = blobs[1]->mutable_cpu_data();
      for (size_t c = 0; c < mean.size(); ++c) {
        stored_mean[c] = mean[c] + 0.1 * std::sqrt(variance[c]) * jitter[2 * c];
        stored_variance[c] = variance[c] * (1.0 + 0.2 * jitter[2 * c + 1]) + 1e-3;
      }
      blobs[2]->set_data(1);
    } else if (type == "Scale" && !blobs.empty()) {
      rng_uniform<float>(blobs[0]->count(), 0.5f, 1.5f, rng, blobs[0]->mutable_cpu_data());
      if (blobs.size() > 1) {
        rng_uniform<float>(blobs[1]->count(), -0.2f, 0.2f, rng, blobs[1]->mutable_cpu_data());
      }
    }
    net->ForwardFromTo(i, i);
  }
}

}  // namespace

int InitWeightsMain(int argc, char** argv) {
  std::string model, output;
  uint64_t seed = 1;
  bool calibrate = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--model=", 0) == 0) {
      model = arg.substr(8);
    } else if (arg.rfind("--output=", 0) == 0) {
      output = arg.substr(9);
    } else if (arg.rfind("--seed=", 0) == 0) {
      try {
        seed = std::stoull(arg.substr(7));
      } catch (const std::exception&) {
        MOKA_THROW(ConfigError, "--seed must be a non-negative integer, not '" << arg.substr(7)
                                                                              << "'");
      }
    } else if (arg == "--calibrate") {
      calibrate = true;
    } else {
      MOKA_THROW(ConfigError, "unexpected argument '" << arg << "' for 'moka init_weights'\n"
                                                      << Usage());
    }
  }
  MOKA_CHECK(!model.empty() && !output.empty(), ConfigError,
             "'moka init_weights' needs --model and --output\n" << Usage());
  Net<float> net(model, TEST, MakeContext({}, seed));
  if (calibrate) {
    LOG(INFO) << "Calibrating " << net.name() << " on a random input";
    Calibrate(&net);
  }
  NetParameter weights;
  net.ToProto(&weights, false);
  WriteProtoToBinaryFile(weights, output);
  LOG(INFO) << "Wrote " << (calibrate ? "calibrated" : "filler-initialised") << " weights of "
            << net.name() << " to " << output;
  return 0;
}

}  // namespace moka
