#pragma once
// Helpers shared by the tests: building layers from prototxt text, filling blobs, locating files.
#include <gtest/gtest.h>
#include <google/protobuf/text_format.h>

#include <cstdlib>
#include <memory>
#include <random>
#include <string>

#include "blob.hpp"
#include "context.hpp"
#include "layer.hpp"
#include "layer_registry.hpp"
#include "math_functions.hpp"

namespace moka::test {

inline LayerParameter ParseLayer(const std::string& text) {
  LayerParameter param;
  if (!google::protobuf::TextFormat::ParseFromString(text, &param)) {
    ADD_FAILURE() << "could not parse layer text: " << text;
  }
  return param;
}

/// Creates a layer of the registry from prototxt text, bound to `context`.
template <typename Dtype>
std::shared_ptr<Layer<Dtype>> MakeLayer(const std::string& text, Context* context) {
  auto layer = LayerRegistry<Dtype>::Create(ParseLayer(text));
  layer->set_context(context);
  return layer;
}

template <typename Dtype>
void FillUniform(Blob<Dtype>* blob, Dtype low, Dtype high, uint64_t seed = 7) {
  std::mt19937_64 rng(seed);
  rng_uniform<Dtype>(blob->count(), low, high, rng, blob->mutable_cpu_data());
}

template <typename Dtype>
void FillGaussian(Blob<Dtype>* blob, Dtype stddev = 1, uint64_t seed = 7) {
  std::mt19937_64 rng(seed);
  rng_gaussian<Dtype>(blob->count(), 0, stddev, rng, blob->mutable_cpu_data());
}

/// Root of ../shared, or "" when it is absent (tests then skip with a message).
inline std::string SharedDir() {
  const std::string dir = std::string(MOKA_SOURCE_DIR) + "/../shared";
  FILE* probe = std::fopen((dir + "/spec/caffe-compat.md").c_str(), "r");
  if (probe == nullptr) return "";
  std::fclose(probe);
  return dir;
}

#define MOKA_REQUIRE_SHARED(var)                                                    \
  const std::string var = ::moka::test::SharedDir();                                \
  if (var.empty()) GTEST_SKIP() << "../shared is not present; skipping this check"

using TestDtypes = ::testing::Types<float, double>;

}  // namespace moka::test
