#include "cuda_check.hpp"
#include "device_math.cuh"
#include "layers/broadcast_gpu.cuh"
#include "layers/scale.hpp"
#include "math_functions_gpu.hpp"

namespace moka {
namespace {

// y = s[d] * x (+ b[d]): the product is rounded before the bias is added, as the CPU's two passes
// do.
template <typename Dtype>
__global__ void ScaleForwardKernel(int n, int dim, int inner, const Dtype* x, const Dtype* s,
                                   const Dtype* b, Dtype* y) {
  MOKA_CUDA_KERNEL_LOOP(i, n) {
    const int d = (i / inner) % dim;
    const Dtype scaled = device::MulRn(s[d], x[i]);
    y[i] = b == nullptr ? scaled : device::AddRn(scaled, b[d]);
  }
}

template <typename Dtype>
__global__ void ScaleBackwardKernel(int n, int dim, int inner, const Dtype* dy, const Dtype* s,
                                    Dtype* dx) {
  MOKA_CUDA_KERNEL_LOOP(i, n) dx[i] = s[(i / inner) % dim] * dy[i];
}

}  // namespace

template <typename Dtype>
void ScaleLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  const int n = bottom[0]->count();
  if (n == 0) return;
  // In place, the input is kept for the scale's gradient.
  if (top[0] == bottom[0]) gpu_copy(n, bottom[0]->gpu_data(), temp_.mutable_gpu_data());
  const Dtype* s = ScaleBlob(bottom).gpu_data();
  const Dtype* b = bias_param_id_ >= 0 ? this->blobs_[bias_param_id_]->gpu_data() : nullptr;
  const Dtype* x = bottom[0]->gpu_data();
  Dtype* y = top[0]->mutable_gpu_data();
  ScaleForwardKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, scale_dim_, inner_dim_, x, s, b, y);
  MOKA_CUDA_LAUNCH_CHECK();
}

template <typename Dtype>
void ScaleLayer<Dtype>::Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                     const BlobVec& bottom) {
  const int n = bottom[0]->count();
  const Dtype* dy = n > 0 ? top[0]->gpu_diff() : nullptr;
  if (bias_param_id_ >= 0 && this->param_propagate_down(bias_param_id_) && scale_dim_ > 0) {
    broadcast::SliceSum<Dtype>(outer_dim_, scale_dim_, inner_dim_, dy, nullptr, Dtype(1),
                               this->blobs_[bias_param_id_]->mutable_gpu_diff());
  }
  const bool learned = bottom.size() == 1;
  Blob<Dtype>& scale = ScaleBlob(bottom);
  if ((learned ? this->param_propagate_down(0) : propagate_down[1]) && scale_dim_ > 0) {
    // A learned scale accumulates its gradient; a bottom's diff is overwritten.
    const Dtype* x = n > 0 ? (top[0] == bottom[0] ? temp_ : *bottom[0]).gpu_data() : nullptr;
    broadcast::SliceSum<Dtype>(outer_dim_, scale_dim_, inner_dim_, dy, x,
                               learned ? Dtype(1) : Dtype(0), scale.mutable_gpu_diff());
  }
  if (propagate_down[0] && n > 0) {
    ScaleBackwardKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(
        n, scale_dim_, inner_dim_, dy, scale.gpu_data(), bottom[0]->mutable_gpu_diff());
    MOKA_CUDA_LAUNCH_CHECK();
  }
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(ScaleLayer);

}  // namespace moka
