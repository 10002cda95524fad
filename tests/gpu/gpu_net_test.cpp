// Whole nets on the GPU: a training iteration moves nothing between host and device but its input
// batch (and scalars read back outside the counted buffers); a LeNet-like net trains to the same
// losses on both devices; the Data layer delivers the same batches.
#include <gtest/gtest.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "db.hpp"
#include "gpu/gpu_test_util.hpp"
#include "net.hpp"
#include "solver.hpp"
#include "solver_registry.hpp"
#include "synced_memory.hpp"
#include "temp_dir.hpp"

namespace moka::test {
namespace {

NetParameter ParseNet(const std::string& text) {
  NetParameter param;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &param)) << text;
  return param;
}

// DummyData (a Gaussian batch each pass, constant labels) -> Conv -> ReLU -> MAX pooling -> IP ->
// SoftmaxWithLoss.
const char kSmallNet[] = R"(
  name: "small" state { phase: TRAIN }
  layer { name: "data" type: "DummyData" top: "data" top: "label"
          dummy_data_param { shape { dim: 8 dim: 1 dim: 12 dim: 12 } shape { dim: 8 }
            data_filler { type: "gaussian" std: 1 } data_filler { type: "constant" value: 1 } } }
  layer { name: "conv" type: "Convolution" bottom: "data" top: "conv"
          convolution_param { num_output: 4 kernel_size: 3
            weight_filler { type: "xavier" } bias_filler { type: "constant" value: 0.1 } } }
  layer { name: "relu" type: "ReLU" bottom: "conv" top: "conv" }
  layer { name: "pool" type: "Pooling" bottom: "conv" top: "pool"
          pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
  layer { name: "ip" type: "InnerProduct" bottom: "pool" top: "ip"
          inner_product_param { num_output: 5 weight_filler { type: "xavier" } } }
  layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
)";

TEST(GpuTransfers, TrainingIterationMovesOnlyTheInputBatch) {
  MOKA_REQUIRE_GPU();
  auto context = std::make_shared<Context>(Device::kGpu, 0, 1701);
  Net<float> net(ParseNet(kSmallNet), context);
  auto iteration = [&net] {
    net.ClearParamDiffs();
    net.ForwardBackward();
    for (Blob<float>* param : net.learnable_params()) param->scale_diff(0.01f);
    net.Update();
  };
  // Warm-up: parameters and constant tops move to the device once, cuDNN measures its algorithms.
  iteration();
  iteration();
  SyncedMemory::ResetTransferCounts();
  for (int i = 0; i < 3; ++i) iteration();
  const SyncedMemory::TransferCounts moved = SyncedMemory::transfers();
  EXPECT_EQ(moved.host_to_device, 3u) << "one input batch per iteration";
  EXPECT_EQ(moved.device_to_host, 0u);
  EXPECT_EQ(moved.bytes, 3u * 8 * 12 * 12 * sizeof(float));
  const float loss = net.blob_by_name("loss")->cpu_data()[0];
  EXPECT_TRUE(std::isfinite(loss)) << loss;
}

// A LeNet-like net trained by SGD with momentum, weight decay and the "inv" policy for 200
// iterations, on random batches drawn from the context's stream (so both devices see the same
// data); the labels are random too, so the loss stays away from zero and its relative agreement
// means something.
const char kLeNetLike[] = R"(
  name: "lenet_like" state { phase: TRAIN }
  layer { name: "data" type: "DummyData" top: "data" top: "label"
          dummy_data_param { shape { dim: 16 dim: 1 dim: 28 dim: 28 } shape { dim: 16 }
            data_filler { type: "gaussian" std: 1 } data_filler { type: "uniform" min: 0 max: 9.99 } } }
  layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
          param { lr_mult: 1 } param { lr_mult: 2 }
          convolution_param { num_output: 20 kernel_size: 5
            weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
  layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1"
          pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
  layer { name: "conv2" type: "Convolution" bottom: "pool1" top: "conv2"
          param { lr_mult: 1 } param { lr_mult: 2 }
          convolution_param { num_output: 50 kernel_size: 5
            weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
  layer { name: "pool2" type: "Pooling" bottom: "conv2" top: "pool2"
          pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
  layer { name: "ip1" type: "InnerProduct" bottom: "pool2" top: "ip1"
          param { lr_mult: 1 } param { lr_mult: 2 }
          inner_product_param { num_output: 100
            weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
  layer { name: "relu1" type: "ReLU" bottom: "ip1" top: "ip1" }
  layer { name: "ip2" type: "InnerProduct" bottom: "ip1" top: "ip2"
          param { lr_mult: 1 } param { lr_mult: 2 }
          inner_product_param { num_output: 10
            weight_filler { type: "xavier" } bias_filler { type: "constant" } } }
  layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip2" bottom: "label" top: "loss" }
)";

/// `im2col_engine`: every convolution with engine: CAFFE (im2col + cuBLAS on the GPU).
template <typename Dtype>
std::vector<Dtype> TrainLeNetLike(Device device, int iterations, bool im2col_engine = false) {
  SolverParameter param;
  std::string net = kLeNetLike;
  for (size_t at = net.find("convolution_param {"); im2col_engine && at != std::string::npos;
       at = net.find("convolution_param {", at + 1)) {
    net.insert(at + std::strlen("convolution_param {"), " engine: CAFFE");
  }
  param.mutable_net_param()->CopyFrom(ParseNet(net));
  param.set_base_lr(0.01f);
  param.set_momentum(0.9f);
  param.set_weight_decay(0.0005f);
  param.set_lr_policy("inv");
  param.set_gamma(0.0001f);
  param.set_power(0.75f);
  param.set_max_iter(iterations);
  param.set_display(0);
  param.set_snapshot_after_train(false);
  param.set_random_seed(1701);
  auto context = std::make_shared<Context>(device, 0, 1701);
  std::shared_ptr<Solver<Dtype>> solver = SolverRegistry<Dtype>::Create(param, context);
  std::vector<Dtype> losses;
  for (int i = 0; i < iterations; ++i) {
    solver->Step(1);
    losses.push_back(solver->net()->blob_by_name("loss")->cpu_data()[0]);
  }
  return losses;
}

/// Compares the loss curves: the first `strict_iterations` iterations within 1e-3 (relative), the
/// others within `tolerance`, and the mean loss within 1e-3. Returns the largest relative
/// difference.
template <typename Dtype>
double CompareLosses(const std::vector<Dtype>& cpu, const std::vector<Dtype>& gpu,
                     double tolerance, size_t strict_iterations) {
  EXPECT_EQ(cpu.size(), gpu.size());
  double worst = 0, cpu_mean = 0, gpu_mean = 0;
  int reported = 0;
  for (size_t i = 0; i < cpu.size() && i < gpu.size(); ++i) {
    const double difference = std::fabs(double(cpu[i]) - double(gpu[i])) / std::fabs(double(cpu[i]));
    worst = std::max(worst, difference);
    cpu_mean += cpu[i] / cpu.size();
    gpu_mean += gpu[i] / gpu.size();
    if (!(difference <= (i < strict_iterations ? 1e-3 : tolerance)) && reported++ < 5) {
      ADD_FAILURE() << "iteration " << i << ": CPU loss " << cpu[i] << ", GPU loss " << gpu[i];
    }
  }
  EXPECT_NEAR(gpu_mean, cpu_mean, 1e-3 * cpu_mean);
  std::printf("[ losses   ] %s: iteration 0: CPU %.6f GPU %.6f; last: CPU %.6f GPU %.6f; "
              "mean: CPU %.6f GPU %.6f; largest relative difference %.2e\n",
              std::is_same<Dtype, float>::value ? "float" : "double", double(cpu.front()),
              double(gpu.front()), double(cpu.back()), double(gpu.back()), cpu_mean, gpu_mean,
              worst);
  return worst;
}

// In double, and in float with the im2col + cuBLAS convolution, every iteration stays within 1e-3
// of the CPU's loss (observed on an H200: 4e-16 and 2e-7 at most over the 200 iterations).
TEST(GpuNet, LeNetLikeTrainsToTheCpuLossesInDouble) {
  MOKA_REQUIRE_GPU();
  const int iterations = 200;
  CompareLosses(TrainLeNetLike<double>(Device::kCpu, iterations),
                TrainLeNetLike<double>(Device::kGpu, iterations), 1e-3, iterations);
}

TEST(GpuNet, LeNetLikeTrainsToTheCpuLossesInFloatIm2col) {
  MOKA_REQUIRE_GPU();
  const int iterations = 200;
  CompareLosses(TrainLeNetLike<float>(Device::kCpu, iterations, true),
                TrainLeNetLike<float>(Device::kGpu, iterations, true), 1e-3, iterations);
}

// Float with cuDNN: its convolutions sum in another order than the CPU's (and the weight gradient
// over batch x positions in long float runs), and this random-label run is sensitive around
// iteration 22, where that difference grows from 1e-6 to 1e-3 within three iterations; single
// iterations then differ by up to about 4e-2 before the curves draw together again (4e-5 at
// iteration 199, on an H200). The first 20 iterations and the mean must stay within 1e-3, every
// iteration within 1e-1.
TEST(GpuNet, LeNetLikeTrainsToTheCpuLossesInFloat) {
  MOKA_REQUIRE_GPU();
  const int iterations = 200;
  CompareLosses(TrainLeNetLike<float>(Device::kCpu, iterations),
                TrainLeNetLike<float>(Device::kGpu, iterations), 1e-1, 20);
}

TEST(GpuDataLayer, DeliversTheCpuBatches) {
  MOKA_REQUIRE_GPU();
  TempDir dir;
  const std::string source = dir / "lmdb";
  {
    db::LmdbWriter writer(source);
    for (int i = 0; i < 7; ++i) {
      Datum datum;
      datum.set_channels(2);
      datum.set_height(3);
      datum.set_width(4);
      datum.set_label(i * 3);
      std::string bytes;
      for (int j = 0; j < 24; ++j) bytes.push_back(static_cast<char>((i * 31 + j * 7) % 256));
      datum.set_data(bytes);
      char key[16];
      std::snprintf(key, sizeof(key), "%08d", i);
      writer.Put(key, datum.SerializeAsString());
    }
    writer.Commit();
  }
  const LayerCase data = {
      "data",
      "name: 'data' type: 'Data' top: 'data' top: 'label' phase: TRAIN transform_param { "
      "scale: 0.5 mirror: true crop_size: 2 } data_param { source: '" + source +
          "' backend: LMDB batch_size: 3 }",
      {},
      false};
  CompareCpuGpu<float>(data);
}

}  // namespace
}  // namespace moka::test
