#include "cuda_check.hpp"
#include "layers/relu.hpp"

namespace moka {
namespace {

template <typename Dtype>
__global__ void ReLUForwardKernel(int n, const Dtype* x, Dtype slope, Dtype* y) {
  MOKA_CUDA_KERNEL_LOOP(i, n) {
    // std::max(v, 0) + slope * std::min(v, 0), comparisons in the same order (NaN stays NaN).
    const Dtype v = x[i];
    y[i] = (v < Dtype(0) ? Dtype(0) : v) + slope * (Dtype(0) < v ? Dtype(0) : v);
  }
}

template <typename Dtype>
__global__ void ReLUBackwardKernel(int n, const Dtype* x, const Dtype* dy, Dtype slope, Dtype* dx) {
  MOKA_CUDA_KERNEL_LOOP(i, n) dx[i] = dy[i] * (x[i] > Dtype(0) ? Dtype(1) : slope);
}

}  // namespace

template <typename Dtype>
void ReLULayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  const Dtype slope = this->layer_param_.relu_param().negative_slope();
  const int n = bottom[0]->count();
  if (n == 0) return;
  const Dtype* x = bottom[0]->gpu_data();
  Dtype* y = top[0]->mutable_gpu_data();
  ReLUForwardKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, x, slope, y);
  MOKA_CUDA_LAUNCH_CHECK();
}

template <typename Dtype>
void ReLULayer<Dtype>::Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                    const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const Dtype slope = this->layer_param_.relu_param().negative_slope();
  const int n = bottom[0]->count();
  if (n == 0) return;
  const Dtype* x = bottom[0]->gpu_data();
  const Dtype* dy = top[0]->gpu_diff();
  Dtype* dx = bottom[0]->mutable_gpu_diff();
  ReLUBackwardKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, x, dy, slope, dx);
  MOKA_CUDA_LAUNCH_CHECK();
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(ReLULayer);

}  // namespace moka
