#include "context.hpp"

#include <chrono>

#ifdef MOKA_CUDA
#include <glog/logging.h>

#include "gpu_resources.hpp"
#endif

namespace moka {

#ifdef MOKA_CUDA

GpuResources::GpuResources(int device_id) : device_id_(device_id) {
  try {
    MOKA_CUDA_CHECK(cudaSetDevice(device_id));
    MOKA_CUBLAS_CHECK(cublasCreate(&cublas_));
    // Host pointer mode: dot and asum results come back as host scalars.
    MOKA_CUBLAS_CHECK(cublasSetPointerMode(cublas_, CUBLAS_POINTER_MODE_HOST));
#ifdef MOKA_CUDNN
    MOKA_CUDNN_CHECK(cudnnCreate(&cudnn_));
#endif
  } catch (...) {
    Release();
    throw;
  }
}

GpuResources::~GpuResources() { Release(); }

void GpuResources::Release() noexcept {
  FreeDeviceMemory(workspace_);
  workspace_ = nullptr;
  workspace_size_ = 0;
#ifdef MOKA_CUDNN
  if (cudnn_ != nullptr && cudnnDestroy(cudnn_) != CUDNN_STATUS_SUCCESS) {
    LOG(ERROR) << "cudnnDestroy failed";
  }
  cudnn_ = nullptr;
#endif
  if (cublas_ != nullptr && cublasDestroy(cublas_) != CUBLAS_STATUS_SUCCESS) {
    LOG(ERROR) << "cublasDestroy failed";
  }
  cublas_ = nullptr;
}

void* GpuResources::Workspace(size_t bytes) {
  if (bytes > workspace_size_ || workspace_ == nullptr) {
    FreeDeviceMemory(workspace_);
    workspace_ = nullptr;
    workspace_size_ = 0;
    workspace_ = AllocateDeviceMemory(bytes);
    workspace_size_ = bytes;
  }
  return workspace_;
}

Context::Context(Device device, int device_id, uint64_t seed)
    : device_(device), device_id_(device_id), rng_(seed) {
  if (device != Device::kGpu) return;
  const int count = CudaDeviceCount();
  MOKA_CHECK(count > 0, DeviceError, "no usable GPU: " << CudaUnavailableReason());
  MOKA_CHECK(device_id >= 0 && device_id < count, DeviceError,
             "no usable GPU: device " << device_id << " was requested, but " << count
                                      << " device(s) are visible (ids 0 to " << count - 1
                                      << ")");
  gpu_ = std::make_unique<GpuResources>(device_id);
}

Context::~Context() = default;

GpuResources& Context::gpu() {
  MOKA_CHECK(gpu_ != nullptr, DeviceError, "GPU resources requested from a CPU context");
  return *gpu_;
}

#else

class GpuResources {};

Context::Context(Device device, int device_id, uint64_t seed)
    : device_(device), device_id_(device_id), rng_(seed) {
  MOKA_CHECK(device == Device::kCpu, DeviceError,
             "GPU mode requested, but this moka was built without CUDA support");
}

Context::~Context() = default;

GpuResources& Context::gpu() {
  MOKA_THROW(DeviceError, "GPU mode requested, but this moka was built without CUDA support");
}

#endif  // MOKA_CUDA

uint64_t Context::ClockSeed() {
  return static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) *
         0x9E3779B97F4A7C15ull;
}

}  // namespace moka
