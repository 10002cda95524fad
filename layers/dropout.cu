#include "cuda_check.hpp"
#include "layers/dropout.hpp"
#include "math_functions_gpu.hpp"

namespace moka {
namespace {

template <typename Dtype>
__global__ void DropoutKernel(int n, const Dtype* in, const unsigned int* mask, Dtype scale,
                              Dtype* out) {
  MOKA_CUDA_KERNEL_LOOP(i, n) out[i] = in[i] * static_cast<Dtype>(mask[i]) * scale;
}

}  // namespace

// The mask is drawn on the host from the context's stream, exactly as Forward_cpu draws it, so a
// seed gives the same mask on both devices; its copy to the device is one counted transfer.
template <typename Dtype>
void DropoutLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  const int n = bottom[0]->count();
  const Dtype* x = bottom[0]->gpu_data();
  Dtype* y = top[0]->mutable_gpu_data();
  if (this->phase() != TRAIN) {
    gpu_copy(n, x, y);
    return;
  }
  const size_t bytes = static_cast<size_t>(n) * sizeof(unsigned int);
  if (!gpu_mask_ || gpu_mask_->size() != bytes) gpu_mask_ = std::make_unique<SyncedMemory>(bytes);
  unsigned int* host_mask = static_cast<unsigned int*>(gpu_mask_->mutable_cpu_data());
  rng_bernoulli(n, static_cast<Dtype>(1.0 - static_cast<double>(ratio_)), this->context().rng(),
                host_mask);
  if (n == 0) return;
  const unsigned int* mask = static_cast<const unsigned int*>(gpu_mask_->gpu_data());
  DropoutKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, x, mask, scale_, y);
  MOKA_CUDA_LAUNCH_CHECK();
}

template <typename Dtype>
void DropoutLayer<Dtype>::Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                       const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const int n = bottom[0]->count();
  const Dtype* dy = top[0]->gpu_diff();
  Dtype* dx = bottom[0]->mutable_gpu_diff();
  if (this->phase() != TRAIN) {
    gpu_copy(n, dy, dx);
    return;
  }
  MOKA_CHECK(gpu_mask_ && gpu_mask_->size() == static_cast<size_t>(n) * sizeof(unsigned int),
             InternalError, "Backward without a TRAIN Forward of the same shape");
  if (n == 0) return;
  const unsigned int* mask = static_cast<const unsigned int*>(gpu_mask_->gpu_data());
  DropoutKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, dy, mask, scale_, dx);
  MOKA_CUDA_LAUNCH_CHECK();
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(DropoutLayer);

}  // namespace moka
