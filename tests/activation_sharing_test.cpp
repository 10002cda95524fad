// Net::ShareActivationMemory: inference outputs are unchanged, memory shrinks, kept blobs keep
// their values, and backward is refused.
#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <vector>

#include "context.hpp"
#include "math_functions.hpp"
#include "net.hpp"
#include "proto_io.hpp"

namespace moka::test {
namespace {

const char kNet[] = R"(
name: "chain"
layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 dim: 9 dim: 9 } } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 6 kernel_size: 3 pad: 1 weight_filler { type: "gaussian" std: 0.3 } } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "split" type: "Split" bottom: "conv1" top: "a" top: "b" }
layer { name: "conv2" type: "Convolution" bottom: "a" top: "conv2"
  convolution_param { num_output: 6 kernel_size: 3 pad: 1 weight_filler { type: "gaussian" std: 0.3 } } }
layer { name: "sum" type: "Eltwise" bottom: "conv2" bottom: "b" top: "sum" }
layer { name: "pool" type: "Pooling" bottom: "sum" top: "pool" pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
layer { name: "conv3" type: "Convolution" bottom: "pool" top: "conv3"
  convolution_param { num_output: 4 kernel_size: 3 pad: 1 weight_filler { type: "gaussian" std: 0.3 } } }
layer { name: "flat" type: "Flatten" bottom: "conv3" top: "flat" }
layer { name: "ip" type: "InnerProduct" bottom: "flat" top: "ip"
  inner_product_param { num_output: 5 weight_filler { type: "gaussian" std: 0.1 } } }
layer { name: "prob" type: "Softmax" bottom: "ip" top: "prob" }
)";

std::unique_ptr<Net<float>> MakeNet() {
  NetParameter param;
  ReadProtoFromTextString(kNet, "chain", &param);
  param.mutable_state()->set_phase(TEST);
  return std::make_unique<Net<float>>(param, std::make_shared<Context>(Device::kCpu, 0, 7));
}

void FillInput(Net<float>& net, int seed) {
  std::mt19937_64 rng(seed);
  Blob<float>* input = net.input_blobs()[0];
  rng_gaussian<float>(input->count(), 0.f, 1.f, rng, input->mutable_cpu_data());
}

std::vector<float> Values(const Blob<float>& blob) {
  return std::vector<float>(blob.cpu_data(), blob.cpu_data() + blob.count());
}

TEST(ActivationSharing, SameOutputsLessMemory) {
  auto plain = MakeNet();
  auto shared = MakeNet();
  const auto [before, after] = shared->ShareActivationMemory({"pool"});
  EXPECT_LT(after, before);
  EXPECT_TRUE(shared->activations_shared());
  for (int round = 0; round < 2; ++round) {
    FillInput(*plain, 11 + round);
    FillInput(*shared, 11 + round);
    plain->Forward();
    shared->Forward();
    EXPECT_EQ(Values(*plain->output_blobs()[0]), Values(*shared->output_blobs()[0]));
    // A kept intermediate blob still holds its own values after the whole forward.
    EXPECT_EQ(Values(*plain->blob_by_name("pool")), Values(*shared->blob_by_name("pool")));
    // The input is the caller's and is never overwritten.
    EXPECT_EQ(Values(*plain->input_blobs()[0]), Values(*shared->input_blobs()[0]));
  }
}

TEST(ActivationSharing, BlobsWithDisjointLifetimesShareABuffer) {
  auto net = MakeNet();
  net->ShareActivationMemory();
  auto memory = [&](const char* name) { return net->blob_by_name(name)->data().get(); };
  // Live at the same time: a layer reads one while another is alive or being written.
  EXPECT_NE(memory("conv1"), memory("conv2"));
  EXPECT_NE(memory("conv2"), memory("sum"));
  EXPECT_NE(memory("conv1"), memory("sum"));
  EXPECT_NE(memory("pool"), memory("conv3"));
  // Split's tops stay aliases of their bottom.
  EXPECT_EQ(memory("conv1"), memory("a"));
  EXPECT_EQ(memory("conv1"), memory("b"));
  // conv3 is written after conv1, conv2 and sum are all dead: it reuses one of their buffers.
  EXPECT_TRUE(memory("conv3") == memory("conv1") || memory("conv3") == memory("conv2") ||
              memory("conv3") == memory("sum"));
}

TEST(ActivationSharing, BackwardIsRefused) {
  auto net = MakeNet();
  net->ShareActivationMemory();
  FillInput(*net, 3);
  net->Forward();
  EXPECT_THROW(net->Backward(), ConfigError);
}

}  // namespace
}  // namespace moka::test
