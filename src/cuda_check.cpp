#ifdef MOKA_CUDA

#include "cuda_check.hpp"

#include <glog/logging.h>

#include <algorithm>
#include <climits>
#include <sstream>

namespace moka {

const char* CublasStatusName(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    case CUBLAS_STATUS_LICENSE_ERROR: return "CUBLAS_STATUS_LICENSE_ERROR";
    default: return "unknown cuBLAS status";
  }
}

int CudaBlocks(int n) {
  // The grid-stride index must not overflow int on its last step.
  MOKA_ASSERT(n >= 0 && n <= INT_MAX - kCudaMaxBlocks * kCudaThreads);
  return std::max(1, std::min(kCudaMaxBlocks, (n + kCudaThreads - 1) / kCudaThreads));
}

void* AllocateDeviceMemory(size_t size) {
  // A zero-byte buffer still gets a distinct, valid pointer, as the host side does.
  const size_t bytes = size == 0 ? 256 : size;
  void* ptr = nullptr;
  const cudaError_t status = cudaMalloc(&ptr, bytes);
  if (status != cudaSuccess) {
    cudaGetLastError();  // clear it, so the next call does not report it again
    size_t free_bytes = 0, total_bytes = 0;
    cudaMemGetInfo(&free_bytes, &total_bytes);
    MOKA_THROW(DeviceError, "cannot allocate " << bytes << " bytes of GPU memory ("
                                               << free_bytes << " of " << total_bytes
                                               << " bytes free): " << cudaGetErrorString(status));
  }
  return ptr;
}

void FreeDeviceMemory(void* ptr) noexcept {
  if (ptr == nullptr) return;
  const cudaError_t status = cudaFree(ptr);
  // At process exit the runtime may already be unloaded; nothing is left to free then.
  if (status != cudaSuccess && status != cudaErrorCudartUnloading) {
    LOG(ERROR) << "cudaFree failed: " << cudaGetErrorString(status);
  }
}

void ZeroDeviceMemory(void* ptr, size_t size) {
  if (size == 0) return;
  MOKA_CUDA_CHECK(cudaMemset(ptr, 0, size));
}

void CopyHostToDevice(void* dst, const void* src, size_t size) {
  if (size == 0) return;
  MOKA_CUDA_CHECK(cudaMemcpy(dst, src, size, cudaMemcpyHostToDevice));
}

void CopyDeviceToHost(void* dst, const void* src, size_t size) {
  if (size == 0) return;
  MOKA_CUDA_CHECK(cudaMemcpy(dst, src, size, cudaMemcpyDeviceToHost));
}

void CopyDeviceToDevice(void* dst, const void* src, size_t size) {
  if (size == 0 || dst == src) return;
  MOKA_CUDA_CHECK(cudaMemcpy(dst, src, size, cudaMemcpyDeviceToDevice));
}

int CudaDeviceCount() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return count;
}

std::string CudaUnavailableReason() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    cudaGetLastError();
    return std::string(cudaGetErrorString(status)) + " (" + cudaGetErrorName(status) + ")";
  }
  if (count == 0) return "the CUDA runtime reports no device";
  return "";
}

std::string CudaDeviceDescription(int id) {
  cudaDeviceProp prop;
  MOKA_CUDA_CHECK(cudaGetDeviceProperties(&prop, id));
  std::ostringstream out;
  out << "GPU " << id << ": " << prop.name << ", compute capability " << prop.major << "."
      << prop.minor << ", " << (prop.totalGlobalMem >> 20) << " MiB, "
      << prop.multiProcessorCount << " multiprocessors";
  return out.str();
}

}  // namespace moka

#endif  // MOKA_CUDA
