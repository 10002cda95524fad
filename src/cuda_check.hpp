#pragma once
// Checked CUDA, cuBLAS and cuDNN calls: a failing call throws DeviceError naming the call and the
// library's own description of the error. Also the device-memory primitives SyncedMemory uses, and
// the launch geometry shared by moka's kernels (grid-stride loops).
#ifdef MOKA_CUDA

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#ifdef MOKA_CUDNN
#include <cudnn.h>
#endif

#include <cstddef>
#include <string>

#include "error.hpp"

namespace moka {

/// cuBLAS's name for a status ("CUBLAS_STATUS_NOT_INITIALIZED", ...).
const char* CublasStatusName(cublasStatus_t status);

}  // namespace moka

#define MOKA_CUDA_CHECK(call)                                                               \
  do {                                                                                      \
    const cudaError_t moka_cuda_status_ = (call);                                           \
    if (moka_cuda_status_ != cudaSuccess)                                                   \
      MOKA_THROW(::moka::DeviceError,                                                       \
                 #call << " failed: " << cudaGetErrorString(moka_cuda_status_) << " ("      \
                       << cudaGetErrorName(moka_cuda_status_) << ")");                      \
  } while (0)

#define MOKA_CUBLAS_CHECK(call)                                                             \
  do {                                                                                      \
    const cublasStatus_t moka_cublas_status_ = (call);                                      \
    if (moka_cublas_status_ != CUBLAS_STATUS_SUCCESS)                                       \
      MOKA_THROW(::moka::DeviceError,                                                       \
                 #call << " failed: " << ::moka::CublasStatusName(moka_cublas_status_));    \
  } while (0)

#ifdef MOKA_CUDNN
#define MOKA_CUDNN_CHECK(call)                                                              \
  do {                                                                                      \
    const cudnnStatus_t moka_cudnn_status_ = (call);                                        \
    if (moka_cudnn_status_ != CUDNN_STATUS_SUCCESS)                                         \
      MOKA_THROW(::moka::DeviceError,                                                       \
                 #call << " failed: " << cudnnGetErrorString(moka_cudnn_status_));          \
  } while (0)
#endif

/// After every kernel launch: reports a bad launch configuration at once. Faults inside a kernel
/// surface at the next checked call (or here, under CUDA_LAUNCH_BLOCKING=1).
#define MOKA_CUDA_LAUNCH_CHECK() MOKA_CUDA_CHECK(cudaGetLastError())

/// for (int i = first index of this thread; i < n; i += all threads of the grid).
#define MOKA_CUDA_KERNEL_LOOP(i, n)                                                  \
  for (int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x); i < (n); \
       i += static_cast<int>(blockDim.x * gridDim.x))

namespace moka {

constexpr int kCudaThreads = 256;
constexpr int kCudaMaxBlocks = 4096;

/// Blocks for a grid-stride loop over n elements (at least one, so n == 0 still launches).
int CudaBlocks(int n);

/// cudaMalloc; throws DeviceError (with the size and the free memory) when it fails.
void* AllocateDeviceMemory(size_t size);
/// cudaFree; called from destructors, so it logs a failure instead of throwing.
void FreeDeviceMemory(void* ptr) noexcept;
void ZeroDeviceMemory(void* ptr, size_t size);
void CopyHostToDevice(void* dst, const void* src, size_t size);
void CopyDeviceToHost(void* dst, const void* src, size_t size);
void CopyDeviceToDevice(void* dst, const void* src, size_t size);

/// Number of CUDA devices; 0 when there is no driver or no device. Never throws.
int CudaDeviceCount();
/// Why no CUDA device can be used ("" when one can): the runtime's own words, for skip messages.
std::string CudaUnavailableReason();
/// One line: name, compute capability, memory and multiprocessors of device `id`.
std::string CudaDeviceDescription(int id);

}  // namespace moka

#endif  // MOKA_CUDA
