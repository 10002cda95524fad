// The CUDA backend's core: device selection and its errors, the device math library against the
// CPU's, and Blob's own arithmetic on the side that holds the newer data.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "blob.hpp"
#include "context.hpp"
#include "gpu/gpu_test_util.hpp"
#include "synced_memory.hpp"
#ifdef MOKA_CUDA
#include "gpu_resources.hpp"
#include "math_functions_gpu.hpp"
#endif

namespace moka::test {
namespace {

TEST(GpuContext, MissingDeviceIsOneLineDeviceError) {
#ifndef MOKA_CUDA
  GTEST_SKIP() << "moka was built without CUDA (MOKA_CUDA=OFF)";
#else
  const bool have_gpu = GpuSkipReason().empty();
  // Without a device any GPU context fails; with one, a device id past the last does.
  const int device = have_gpu ? 999 : 0;
  try {
    Context context(Device::kGpu, device);
    FAIL() << "a GPU context on device " << device << " was created";
  } catch (const DeviceError& error) {
    const std::string message = error.what();
    EXPECT_EQ(message.rfind("no usable GPU: ", 0), 0u) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
#endif
}

TEST(GpuContext, CpuContextNeverTouchesTheDevice) {
  // Runs everywhere: a CPU context in a CUDA build must work on a machine without a driver.
  Context context(Device::kCpu, 0, 3);
  Blob<float> blob({2, 3});
  blob.set_data(2);
  blob.set_diff(1);
  blob.Update();
  EXPECT_EQ(blob.cpu_data()[5], 1);
  EXPECT_EQ(blob.asum_data(), 6);
  EXPECT_EQ(blob.data()->head(), SyncedMemory::Head::kAtCpu);
  EXPECT_THROW(context.gpu(), DeviceError);
}

#ifdef MOKA_CUDA

template <typename Dtype>
class GpuMath : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string reason = GpuSkipReason();
    if (!reason.empty()) GTEST_SKIP() << reason;
    context_ = std::make_unique<Context>(Device::kGpu, 0, 5);
  }
  /// A blob of n values with the given seed, on the host (the device copy follows on first use).
  std::unique_ptr<Blob<Dtype>> Random(int n, uint64_t seed, Dtype low = -1, Dtype high = 1) {
    auto blob = std::make_unique<Blob<Dtype>>(std::vector<int>{n});
    FillUniform<Dtype>(blob.get(), low, high, seed);
    return blob;
  }
  std::unique_ptr<Context> context_;
};
TYPED_TEST_SUITE(GpuMath, TestDtypes);

TYPED_TEST(GpuMath, GemmAndGemvMatchTheCpu) {
  using Dtype = TypeParam;
  const int M = 3, N = 5, K = 7;
  GpuResources& gpu = this->context_->gpu();
  for (Trans ta : {Trans::kNo, Trans::kYes}) {
    for (Trans tb : {Trans::kNo, Trans::kYes}) {
      auto a = this->Random(M * K, 1);
      auto b = this->Random(K * N, 2);
      auto c = this->Random(M * N, 3);
      std::vector<Dtype> expected(c->cpu_data(), c->cpu_data() + M * N);
      cpu_gemm<Dtype>(ta, tb, M, N, K, Dtype(0.7), a->cpu_data(), b->cpu_data(), Dtype(0.3),
                      expected.data());
      gpu_gemm<Dtype>(gpu, ta, tb, M, N, K, Dtype(0.7), a->gpu_data(), b->gpu_data(), Dtype(0.3),
                      c->mutable_gpu_data());
      ExpectAllClose(expected, HostCopy(c->cpu_data(), M * N), "gemm");
    }
    auto a = this->Random(M * N, 4);
    const int x_size = ta == Trans::kNo ? N : M;
    const int y_size = ta == Trans::kNo ? M : N;
    auto x = this->Random(x_size, 5);
    auto y = this->Random(y_size, 6);
    std::vector<Dtype> expected(y->cpu_data(), y->cpu_data() + y_size);
    cpu_gemv<Dtype>(ta, M, N, Dtype(-1.5), a->cpu_data(), x->cpu_data(), Dtype(2), expected.data());
    gpu_gemv<Dtype>(gpu, ta, M, N, Dtype(-1.5), a->gpu_data(), x->gpu_data(), Dtype(2),
                    y->mutable_gpu_data());
    ExpectAllClose(expected, HostCopy(y->cpu_data(), y_size), "gemv");
  }
}

TYPED_TEST(GpuMath, VectorFunctionsMatchTheCpu) {
  using Dtype = TypeParam;
  const int n = 1000003;  // more than one grid-stride round
  auto a = this->Random(n, 11, Dtype(0.5), Dtype(2));
  auto b = this->Random(n, 12, Dtype(-2), Dtype(2));
  auto y = this->Random(n, 13);
  std::vector<Dtype> expected(n);
  auto check = [&](const char* what) {
    ExpectAllClose(expected, HostCopy(y->cpu_data(), n), what);
  };

  using Binary = void (*)(int, const Dtype*, const Dtype*, Dtype*);
  const std::vector<std::pair<Binary, Binary>> binaries = {
      {cpu_add<Dtype>, gpu_add<Dtype>}, {cpu_sub<Dtype>, gpu_sub<Dtype>},
      {cpu_mul<Dtype>, gpu_mul<Dtype>}, {cpu_div<Dtype>, gpu_div<Dtype>}};
  for (const auto& f : binaries) {
    f.first(n, b->cpu_data(), a->cpu_data(), expected.data());
    f.second(n, b->gpu_data(), a->gpu_data(), y->mutable_gpu_data());
    check("binary");
  }
  using Unary = void (*)(int, const Dtype*, Dtype*);
  const std::vector<std::pair<Unary, Unary>> unaries = {
      {cpu_sqr<Dtype>, gpu_sqr<Dtype>}, {cpu_sqrt<Dtype>, gpu_sqrt<Dtype>},
      {cpu_exp<Dtype>, gpu_exp<Dtype>}, {cpu_log<Dtype>, gpu_log<Dtype>},
      {cpu_abs<Dtype>, gpu_abs<Dtype>}, {cpu_sign<Dtype>, gpu_sign<Dtype>}};
  for (const auto& f : unaries) {
    const Blob<Dtype>& input = f.first == cpu_abs<Dtype> || f.first == cpu_sign<Dtype> ? *b : *a;
    f.first(n, input.cpu_data(), expected.data());
    f.second(n, input.gpu_data(), y->mutable_gpu_data());
    check("unary");
  }
  cpu_powx<Dtype>(n, a->cpu_data(), Dtype(-0.75), expected.data());
  gpu_powx<Dtype>(n, a->gpu_data(), Dtype(-0.75), y->mutable_gpu_data());
  check("powx");

  std::copy(b->cpu_data(), b->cpu_data() + n, expected.begin());
  gpu_copy<Dtype>(n, b->gpu_data(), y->mutable_gpu_data());
  check("copy");
  cpu_axpy<Dtype>(n, Dtype(0.5), a->cpu_data(), expected.data());
  gpu_axpy<Dtype>(n, Dtype(0.5), a->gpu_data(), y->mutable_gpu_data());
  check("axpy");
  cpu_axpby<Dtype>(n, Dtype(2), a->cpu_data(), Dtype(-0.25), expected.data());
  gpu_axpby<Dtype>(n, Dtype(2), a->gpu_data(), Dtype(-0.25), y->mutable_gpu_data());
  check("axpby");
  cpu_scal<Dtype>(n, Dtype(3), expected.data());
  gpu_scal<Dtype>(n, Dtype(3), y->mutable_gpu_data());
  check("scal");
  cpu_add_scalar<Dtype>(n, Dtype(-1), expected.data());
  gpu_add_scalar<Dtype>(n, Dtype(-1), y->mutable_gpu_data());
  check("add_scalar");
  cpu_scale<Dtype>(n, Dtype(-2), a->cpu_data(), expected.data());
  gpu_scale<Dtype>(n, Dtype(-2), a->gpu_data(), y->mutable_gpu_data());
  check("scale");
  cpu_set<Dtype>(n, Dtype(4), expected.data());
  gpu_set<Dtype>(n, Dtype(4), y->mutable_gpu_data());
  check("set");
  cpu_set<Dtype>(n, Dtype(0), expected.data());
  gpu_set<Dtype>(n, Dtype(0), y->mutable_gpu_data());
  check("set zero");

  const double rtol = std::is_same<Dtype, float>::value ? 1e-3 : 1e-10;
  const double dot = cpu_dot<Dtype>(n, a->cpu_data(), b->cpu_data());
  EXPECT_NEAR(gpu_dot<Dtype>(n, a->gpu_data(), b->gpu_data()), dot, rtol * n);
  const double asum = cpu_asum<Dtype>(n, b->cpu_data());
  EXPECT_NEAR(gpu_asum<Dtype>(n, b->gpu_data()), asum, rtol * asum);
  double sum = 0;
  for (int i = 0; i < n; ++i) sum += b->cpu_data()[i];
  EXPECT_NEAR(gpu_sum<Dtype>(n, b->gpu_data()), sum, 1e-9 * n);
  // The same call gives the same bits (fixed reduction order).
  EXPECT_EQ(gpu_dot<Dtype>(n, a->gpu_data(), b->gpu_data()),
            gpu_dot<Dtype>(n, a->gpu_data(), b->gpu_data()));
  EXPECT_EQ(gpu_dot<Dtype>(0, a->gpu_data(), b->gpu_data()), Dtype(0));
}

TYPED_TEST(GpuMath, BlobArithmeticRunsWhereTheDataIs) {
  using Dtype = TypeParam;
  Blob<Dtype> blob({3, 4});
  blob.set_data(Dtype(1));
  Dtype* diff = blob.mutable_gpu_diff();
  gpu_set<Dtype>(blob.count(), Dtype(0.5), diff);
  gpu_scal<Dtype>(blob.count(), Dtype(1), blob.mutable_gpu_data());  // data now lives on the GPU
  SyncedMemory::ResetTransferCounts();
  blob.Update();
  blob.scale_diff(Dtype(2));
  blob.scale_data(Dtype(-3));
  EXPECT_EQ(blob.asum_data(), Dtype(18));
  EXPECT_EQ(blob.asum_diff(), Dtype(12));
  EXPECT_EQ(blob.sumsq_data(), Dtype(27));
  EXPECT_EQ(blob.sumsq_diff(), Dtype(12));
  Blob<Dtype> copy({3, 4});
  copy.CopyFrom(blob);
  copy.CopyFrom(blob, true);
  blob.set_diff(Dtype(0));
  EXPECT_EQ(blob.asum_diff(), Dtype(0));
  const SyncedMemory::TransferCounts moved = SyncedMemory::transfers();
  EXPECT_EQ(moved.host_to_device, 0u);
  EXPECT_EQ(moved.device_to_host, 0u);
  EXPECT_EQ(blob.data()->head(), SyncedMemory::Head::kAtGpu);
  EXPECT_EQ(copy.data()->head(), SyncedMemory::Head::kAtGpu);
  EXPECT_EQ(copy.cpu_data()[7], Dtype(-1.5));
  EXPECT_EQ(copy.cpu_diff()[7], Dtype(1));
}

TEST(GpuSyncedMemory, CountsEveryCopy) {
  MOKA_REQUIRE_GPU();
  Context context(Device::kGpu);
  SyncedMemory memory(64);
  SyncedMemory::ResetTransferCounts();
  static_cast<char*>(memory.mutable_cpu_data())[3] = 9;
  memory.gpu_data();
  memory.gpu_data();
  EXPECT_EQ(memory.head(), SyncedMemory::Head::kSynced);
  memory.mutable_gpu_data();
  EXPECT_EQ(static_cast<const char*>(memory.cpu_data())[3], 9);
  const SyncedMemory::TransferCounts moved = SyncedMemory::transfers();
  EXPECT_EQ(moved.host_to_device, 1u);
  EXPECT_EQ(moved.device_to_host, 1u);
  EXPECT_EQ(moved.bytes, 128u);
  // Fresh device memory reads as zeros, as fresh host memory does.
  SyncedMemory fresh(16);
  fresh.gpu_data();
  for (int i = 0; i < 16; ++i) EXPECT_EQ(static_cast<const char*>(fresh.cpu_data())[i], 0);
}

#endif  // MOKA_CUDA

}  // namespace
}  // namespace moka::test
