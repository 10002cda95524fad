// The solvers' update on the device: each of the six update rules trains a small net to the same
// weights and history on either device, a GPU solver snapshots and restores like a CPU one, and a
// GPU training iteration (update included) moves nothing to the host but the scalar loss, and
// nothing to the device but its input batch.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "gpu/gpu_test_util.hpp"
#include "solver.hpp"
#include "solver_registry.hpp"
#include "solver_test_util.hpp"
#include "solvers/sgd.hpp"
#include "synced_memory.hpp"
#include "temp_dir.hpp"

namespace moka::test {
namespace {

// A Gaussian batch drawn from the context's stream on every pass (the same batches on either
// device for one seed) and constant targets -> IP -> ReLU -> IP -> EuclideanLoss. The multipliers
// make every parameter's local rate and decay differ.
const char kSolverNet[] = R"(
  name: "solver_net" state { phase: TRAIN }
  layer { name: "data" type: "DummyData" top: "data" top: "target"
          dummy_data_param { shape { dim: 6 dim: 5 } shape { dim: 6 dim: 3 }
            data_filler { type: "gaussian" std: 1 } data_filler { type: "constant" value: 0.3 } } }
  layer { name: "ip1" type: "InnerProduct" bottom: "data" top: "ip1"
          param { lr_mult: 1 decay_mult: 1 } param { lr_mult: 2 decay_mult: 0 }
          inner_product_param { num_output: 7
            weight_filler { type: "gaussian" std: 0.4 } bias_filler { type: "constant" value: 0.1 } } }
  layer { name: "relu" type: "ReLU" bottom: "ip1" top: "ip1" }
  layer { name: "ip2" type: "InnerProduct" bottom: "ip1" top: "ip2"
          param { lr_mult: 0.5 decay_mult: 2 } param { lr_mult: 1 decay_mult: 0.5 }
          inner_product_param { num_output: 3
            weight_filler { type: "gaussian" std: 0.4 } bias_filler { type: "constant" value: -0.2 } } }
  layer { name: "loss" type: "EuclideanLoss" bottom: "ip2" bottom: "target" top: "loss" }
)";
constexpr int kBatchCount = 6 * 5;

// One case per update rule; between them they also cover iter_size normalisation, gradient
// clipping, L1 and L2 decay and the learning-rate policies.
const char* const kSolverCases[] = {
    "type: 'SGD' base_lr: 0.05 momentum: 0.9 weight_decay: 0.01 lr_policy: 'step' gamma: 0.5 "
    "stepsize: 2 iter_size: 2",
    "type: 'Nesterov' base_lr: 0.05 momentum: 0.9 weight_decay: 0.005 lr_policy: 'fixed' "
    "clip_gradients: 0.5",
    "type: 'AdaGrad' base_lr: 0.05 weight_decay: 0.01 regularization_type: 'L1' "
    "lr_policy: 'fixed'",
    "type: 'RMSProp' base_lr: 0.01 rms_decay: 0.95 weight_decay: 0.001 lr_policy: 'inv' "
    "gamma: 0.1 power: 0.75",
    "type: 'AdaDelta' base_lr: 1 momentum: 0.95 delta: 0.000001 weight_decay: 0.002 "
    "lr_policy: 'fixed'",
    "type: 'Adam' base_lr: 0.01 momentum: 0.9 momentum2: 0.999 weight_decay: 0.001 "
    "lr_policy: 'fixed' iter_size: 2",
};

template <typename Dtype>
std::shared_ptr<Solver<Dtype>> MakeSolver(const std::string& fields, Device device,
                                          const std::string& extra = "") {
  SolverParameter param =
      MakeSolverParam(kSolverNet, fields + " random_seed: 1701 max_iter: 100 display: 0 " +
                                      "snapshot_after_train: false " + extra);
  auto context = std::make_shared<Context>(device, 0, 1701);
  return SolverRegistry<Dtype>::Create(param, context);
}

template <typename Dtype>
std::vector<std::vector<Dtype>> History(const Solver<Dtype>& solver) {
  std::vector<std::vector<Dtype>> values;
  const auto* sgd = dynamic_cast<const SgdSolver<Dtype>*>(&solver);
  EXPECT_NE(sgd, nullptr);
  if (sgd == nullptr) return values;
  for (const auto& blob : sgd->history()) {
    values.emplace_back(blob->cpu_data(), blob->cpu_data() + blob->count());
  }
  return values;
}

template <typename Dtype>
double SolverTolerance() {
  return std::is_same<Dtype, float>::value ? 1e-4 : 1e-10;
}

template <typename Dtype>
void ExpectSameState(const Solver<Dtype>& cpu, const Solver<Dtype>& gpu) {
  const auto cpu_params = ParamValues(*cpu.net());
  const auto gpu_params = ParamValues(*gpu.net());
  ASSERT_EQ(cpu_params.size(), gpu_params.size());
  for (size_t i = 0; i < cpu_params.size(); ++i) {
    ExpectAllClose(cpu_params[i], gpu_params[i], "parameter " + std::to_string(i),
                   SolverTolerance<Dtype>());
  }
  const auto cpu_history = History(cpu);
  const auto gpu_history = History(gpu);
  ASSERT_EQ(cpu_history.size(), gpu_history.size());
  for (size_t i = 0; i < cpu_history.size(); ++i) {
    ExpectAllClose(cpu_history[i], gpu_history[i], "history " + std::to_string(i),
                   SolverTolerance<Dtype>());
  }
}

template <typename Dtype>
class GpuSolverTest : public ::testing::Test {};
TYPED_TEST_SUITE(GpuSolverTest, TestDtypes);

TYPED_TEST(GpuSolverTest, FiveIterationsMatchTheCpu) {
  MOKA_REQUIRE_GPU();
  QuietLogs quiet;
  for (const char* fields : kSolverCases) {
    SCOPED_TRACE(fields);
    auto cpu = MakeSolver<TypeParam>(fields, Device::kCpu);
    auto gpu = MakeSolver<TypeParam>(fields, Device::kGpu);
    cpu->Step(5);
    gpu->Step(5);
    EXPECT_EQ(cpu->iter(), gpu->iter());
    ExpectSameState(*cpu, *gpu);
  }
}

TYPED_TEST(GpuSolverTest, SnapshotAndRestoreResumeOnTheDevice) {
  MOKA_REQUIRE_GPU();
  QuietLogs quiet;
  TempDir dir;
  int case_id = 0;
  for (const char* fields : kSolverCases) {
    SCOPED_TRACE(fields);
    auto whole = MakeSolver<TypeParam>(fields, Device::kCpu);
    whole->Step(5);

    const std::string prefix = dir / ("run" + std::to_string(case_id++));
    auto first = MakeSolver<TypeParam>(fields, Device::kGpu,
                                       "snapshot: 3 snapshot_prefix: '" + prefix + "'");
    first->Step(3);
    auto second = MakeSolver<TypeParam>(fields, Device::kGpu);
    second->Restore(prefix + "_iter_3.solverstate");
    EXPECT_EQ(3, second->iter());
    ExpectSameState(*first, *second);
    // Restoring into the first solver keeps its data stream where it was, so the two iterations
    // that follow see the batches of the uninterrupted run, now starting from weights and history
    // that were last written on the host.
    first->Restore(prefix + "_iter_3.solverstate");
    first->Step(2);
    ExpectSameState(*whole, *first);
  }
}

TEST(GpuSolverTransfers, StepMovesOnlyTheBatchAndTheLoss) {
  MOKA_REQUIRE_GPU();
  QuietLogs quiet;
  for (const char* fields : kSolverCases) {
    SCOPED_TRACE(fields);
    auto solver = MakeSolver<float>(fields, Device::kGpu);
    const int passes = solver->param().iter_size();
    // Warm-up: parameters and constant tops move to the device once.
    solver->Step(1);
    solver->Step(1);
    SyncedMemory::ResetTransferCounts();
    for (int i = 0; i < 3; ++i) solver->Step(1);
    const SyncedMemory::TransferCounts moved = SyncedMemory::transfers();
    const size_t batches = 3u * passes;
    EXPECT_EQ(moved.host_to_device, batches) << "one input batch per forward pass";
    EXPECT_LE(moved.device_to_host, batches) << "at most the scalar loss per forward pass";
    const size_t batch_bytes = batches * kBatchCount * sizeof(float);
    EXPECT_GE(moved.bytes, batch_bytes);
    EXPECT_LT(moved.bytes - batch_bytes, 3u * 1024u) << "device-to-host bytes per iteration";
  }
}

}  // namespace
}  // namespace moka::test
