#pragma once
// What a GPU Context owns: the device it runs on, a cuBLAS handle, a cuDNN handle (when built with
// cuDNN) and one grow-only workspace that the layers of a net share (they run one after another
// on one stream). Everything runs on the legacy default stream, so kernels, library calls and the
// synchronous copies of SyncedMemory are ordered without explicit synchronisation.
#ifdef MOKA_CUDA

#include <cstddef>

#include "common.hpp"
#include "cuda_check.hpp"

namespace moka {

class GpuResources {
 public:
  /// Makes `device_id` current and creates the library handles on it.
  explicit GpuResources(int device_id);
  ~GpuResources();
  MOKA_DISABLE_COPY(GpuResources);

  int device_id() const { return device_id_; }
  cublasHandle_t cublas() const { return cublas_; }
#ifdef MOKA_CUDNN
  cudnnHandle_t cudnn() const { return cudnn_; }
#endif
  /// The stream all work is issued on: the legacy default stream.
  cudaStream_t stream() const { return nullptr; }

  /// Scratch device memory of at least `bytes`, valid until the next call (it may move when it
  /// grows; it never shrinks).
  void* Workspace(size_t bytes);
  size_t workspace_size() const { return workspace_size_; }

 private:
  void Release() noexcept;

  int device_id_;
  cublasHandle_t cublas_ = nullptr;
#ifdef MOKA_CUDNN
  cudnnHandle_t cudnn_ = nullptr;
#endif
  void* workspace_ = nullptr;
  size_t workspace_size_ = 0;
};

}  // namespace moka

#endif  // MOKA_CUDA
