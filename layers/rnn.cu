#include "cuda_check.hpp"
#include "device_math.cuh"
#include "layers/rnn.hpp"

namespace moka {
namespace rnn_gpu {
namespace {

template <typename Dtype>
__global__ void TanhKernel(int count, const Dtype* x, const Dtype* extra, Dtype* y) {
  MOKA_CUDA_KERNEL_LOOP(i, count) {
    y[i] = device::Tanh(extra == nullptr ? x[i] : x[i] + extra[i]);
  }
}

template <typename Dtype>
__global__ void TanhBackwardKernel(int count, int width, const Dtype* y, const Dtype* dy,
                                   const Dtype* dy_next, const Dtype* cont, Dtype* dx) {
  MOKA_CUDA_KERNEL_LOOP(i, count) {
    const Dtype grad = dy_next == nullptr ? dy[i] : dy[i] + cont[i / width] * dy_next[i];
    dx[i] = grad * (Dtype(1) - y[i] * y[i]);
  }
}

}  // namespace

template <typename Dtype>
void Tanh(int count, const Dtype* x, const Dtype* extra, Dtype* y) {
  if (count == 0) return;
  TanhKernel<Dtype><<<CudaBlocks(count), kCudaThreads>>>(count, x, extra, y);
  MOKA_CUDA_LAUNCH_CHECK();
}

template <typename Dtype>
void TanhBackward(int count, int width, const Dtype* y, const Dtype* dy, const Dtype* dy_next,
                  const Dtype* cont, Dtype* dx) {
  if (count == 0) return;
  TanhBackwardKernel<Dtype>
      <<<CudaBlocks(count), kCudaThreads>>>(count, width, y, dy, dy_next, cont, dx);
  MOKA_CUDA_LAUNCH_CHECK();
}

template void Tanh<float>(int, const float*, const float*, float*);
template void Tanh<double>(int, const double*, const double*, double*);
template void TanhBackward<float>(int, int, const float*, const float*, const float*, const float*,
                                  float*);
template void TanhBackward<double>(int, int, const double*, const double*, const double*,
                                   const double*, double*);

}  // namespace rnn_gpu

template <typename Dtype>
void RNNLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  Run(bottom, top);
}

template <typename Dtype>
void RNNLayer<Dtype>::Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                   const BlobVec& bottom) {
  RunBackward(top, propagate_down, bottom);
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(RNNLayer);

}  // namespace moka
