#include "cuda_check.hpp"
#include "device_math.cuh"
#include "layers/elu.hpp"

namespace moka {
namespace {

template <typename Dtype>
__global__ void ELUForwardKernel(int n, const Dtype* x, Dtype alpha, Dtype* y) {
  MOKA_CUDA_KERNEL_LOOP(i, n) {
    const Dtype v = x[i];
    y[i] = v > Dtype(0) ? v : alpha * (device::Exp(v) - Dtype(1));
  }
}

// In place x is y; the sign test then reads y, positive exactly where x was (see the CPU code).
template <typename Dtype>
__global__ void ELUBackwardKernel(int n, const Dtype* x, const Dtype* y, const Dtype* dy,
                                  Dtype alpha, Dtype* dx) {
  MOKA_CUDA_KERNEL_LOOP(i, n) dx[i] = dy[i] * (x[i] > Dtype(0) ? Dtype(1) : y[i] + alpha);
}

}  // namespace

template <typename Dtype>
void ELULayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  const Dtype alpha = this->layer_param_.elu_param().alpha();
  const int n = bottom[0]->count();
  if (n == 0) return;
  const Dtype* x = bottom[0]->gpu_data();
  Dtype* y = top[0]->mutable_gpu_data();
  ELUForwardKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, x, alpha, y);
  MOKA_CUDA_LAUNCH_CHECK();
}

template <typename Dtype>
void ELULayer<Dtype>::Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                   const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const Dtype alpha = this->layer_param_.elu_param().alpha();
  const int n = bottom[0]->count();
  if (n == 0) return;
  const Dtype* x = bottom[0]->gpu_data();
  const Dtype* y = top[0]->gpu_data();
  const Dtype* dy = top[0]->gpu_diff();
  Dtype* dx = bottom[0]->mutable_gpu_diff();
  ELUBackwardKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, x, y, dy, alpha, dx);
  MOKA_CUDA_LAUNCH_CHECK();
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(ELULayer);

}  // namespace moka
