#include "cuda_check.hpp"
#include "device_math.cuh"
#include "layers/batch_reindex.hpp"
#include "math_functions_gpu.hpp"

namespace moka {
namespace {

// Raises the flag when an index lies outside the batch (a kernel cannot throw; the host then
// finds and reports the first one exactly as the CPU path does).
template <typename Dtype>
__global__ void BatchReindexCheckKernel(int n, const Dtype* index, int batch, Dtype* bad) {
  MOKA_CUDA_KERNEL_LOOP(i, n) {
    // NaN converts to 0 on the device but to an out-of-range value on the host.
    const int source = device::ToInt(index[i]);
    if (source < 0 || source >= batch || index[i] != index[i]) bad[0] = 1;
  }
}

template <typename Dtype>
__global__ void BatchReindexForwardKernel(int n, int dim, int batch, const Dtype* index,
                                          const Dtype* x, Dtype* y) {
  MOKA_CUDA_KERNEL_LOOP(i, n) {
    const int source = device::ToInt(index[i / dim]);
    y[i] = source >= 0 && source < batch ? x[static_cast<size_t>(source) * dim + i % dim]
                                         : static_cast<Dtype>(NAN);
  }
}

// Each bottom element gathers the diffs of the top items taken from it, in top order (the CPU
// code's order of accumulation), so no atomics are needed and the result is deterministic.
template <typename Dtype>
__global__ void BatchReindexBackwardKernel(int n, int dim, int num_top, const Dtype* index,
                                           const Dtype* dy, Dtype* dx) {
  MOKA_CUDA_KERNEL_LOOP(i, n) {
    const int item = i / dim;
    const int within = i % dim;
    Dtype sum = 0;
    for (int t = 0; t < num_top; ++t) {
      if (device::ToInt(index[t]) == item) sum += dy[static_cast<size_t>(t) * dim + within];
    }
    dx[i] = sum;
  }
}

}  // namespace

template <typename Dtype>
void BatchReindexLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  const int num_top = top[0]->shape(0);
  if (num_top == 0) return;
  const int batch = bottom[0]->shape(0);
  const Dtype* index = bottom[1]->gpu_data();
  // One flag value comes back to the host per pass, so that a bad index is an error here too.
  gpu_bad_index_.Reshape({1});
  Dtype* bad = gpu_bad_index_.mutable_gpu_data();
  gpu_set(1, Dtype(0), bad);
  BatchReindexCheckKernel<Dtype><<<CudaBlocks(num_top), kCudaThreads>>>(num_top, index, batch,
                                                                        bad);
  MOKA_CUDA_LAUNCH_CHECK();
  if (gpu_bad_index_.cpu_data()[0] != Dtype(0)) {
    for (int i = 0; i < num_top; ++i) Source(bottom, i);
  }
  const int n = top[0]->count();
  if (n == 0) return;
  BatchReindexForwardKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(
      n, bottom[0]->count(1), batch, index, bottom[0]->gpu_data(), top[0]->mutable_gpu_data());
  MOKA_CUDA_LAUNCH_CHECK();
}

template <typename Dtype>
void BatchReindexLayer<Dtype>::Backward_gpu(const BlobVec& top,
                                            const std::vector<bool>& propagate_down,
                                            const BlobVec& bottom) {
  MOKA_CHECK(!propagate_down[1], ConfigError,
             "cannot backpropagate to the index bottom; set propagate_down: false");
  if (!propagate_down[0]) return;
  const int n = bottom[0]->count();
  if (n == 0) return;
  BatchReindexBackwardKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(
      n, bottom[0]->count(1), top[0]->shape(0), bottom[1]->gpu_data(), top[0]->gpu_diff(),
      bottom[0]->mutable_gpu_diff());
  MOKA_CUDA_LAUNCH_CHECK();
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(BatchReindexLayer);

}  // namespace moka
