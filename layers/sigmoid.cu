#include "cuda_check.hpp"
#include "layers/sigmoid.hpp"

namespace moka {
namespace {

// In double, as the CPU code (and Caffe) evaluate it.
template <typename Dtype>
__global__ void SigmoidForwardKernel(int n, const Dtype* x, Dtype* y) {
  MOKA_CUDA_KERNEL_LOOP(i, n) y[i] = static_cast<Dtype>(0.5 * tanh(0.5 * x[i]) + 0.5);
}

template <typename Dtype>
__global__ void SigmoidBackwardKernel(int n, const Dtype* y, const Dtype* dy, Dtype* dx) {
  MOKA_CUDA_KERNEL_LOOP(i, n) dx[i] = static_cast<Dtype>(dy[i] * y[i] * (1.0 - y[i]));
}

}  // namespace

template <typename Dtype>
void SigmoidLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  const int n = bottom[0]->count();
  if (n == 0) return;
  const Dtype* x = bottom[0]->gpu_data();
  Dtype* y = top[0]->mutable_gpu_data();
  SigmoidForwardKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, x, y);
  MOKA_CUDA_LAUNCH_CHECK();
}

template <typename Dtype>
void SigmoidLayer<Dtype>::Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                       const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const int n = bottom[0]->count();
  if (n == 0) return;
  const Dtype* y = top[0]->gpu_data();
  const Dtype* dy = top[0]->gpu_diff();
  Dtype* dx = bottom[0]->mutable_gpu_diff();
  SigmoidBackwardKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, y, dy, dx);
  MOKA_CUDA_LAUNCH_CHECK();
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(SigmoidLayer);

}  // namespace moka
