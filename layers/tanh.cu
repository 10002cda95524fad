#include "cuda_check.hpp"
#include "device_math.cuh"
#include "layers/tanh.hpp"

namespace moka {
namespace {

template <typename Dtype>
__global__ void TanHForwardKernel(int n, const Dtype* x, Dtype* y) {
  MOKA_CUDA_KERNEL_LOOP(i, n) y[i] = device::Tanh(x[i]);
}

template <typename Dtype>
__global__ void TanHBackwardKernel(int n, const Dtype* y, const Dtype* dy, Dtype* dx) {
  MOKA_CUDA_KERNEL_LOOP(i, n) dx[i] = dy[i] * (Dtype(1) - y[i] * y[i]);
}

}  // namespace

template <typename Dtype>
void TanHLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  const int n = bottom[0]->count();
  if (n == 0) return;
  const Dtype* x = bottom[0]->gpu_data();
  Dtype* y = top[0]->mutable_gpu_data();
  TanHForwardKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, x, y);
  MOKA_CUDA_LAUNCH_CHECK();
}

template <typename Dtype>
void TanHLayer<Dtype>::Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                    const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const int n = bottom[0]->count();
  if (n == 0) return;
  const Dtype* y = top[0]->gpu_data();
  const Dtype* dy = top[0]->gpu_diff();
  Dtype* dx = bottom[0]->mutable_gpu_diff();
  TanHBackwardKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, y, dy, dx);
  MOKA_CUDA_LAUNCH_CHECK();
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(TanHLayer);

}  // namespace moka
