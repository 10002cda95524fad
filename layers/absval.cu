#include "cuda_check.hpp"
#include "layers/absval.hpp"
#include "math_functions_gpu.hpp"

namespace moka {
namespace {

template <typename Dtype>
__global__ void AbsValBackwardKernel(int n, const Dtype* x, const Dtype* dy, Dtype* dx) {
  MOKA_CUDA_KERNEL_LOOP(i, n) {
    const Dtype sign = Dtype(x[i] > Dtype(0)) - Dtype(x[i] < Dtype(0));
    dx[i] = sign * dy[i];
  }
}

}  // namespace

template <typename Dtype>
void AbsValLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  const int n = bottom[0]->count();
  if (n == 0) return;
  gpu_abs(n, bottom[0]->gpu_data(), top[0]->mutable_gpu_data());
}

template <typename Dtype>
void AbsValLayer<Dtype>::Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                      const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const int n = bottom[0]->count();
  if (n == 0) return;
  const Dtype* x = bottom[0]->gpu_data();
  const Dtype* dy = top[0]->gpu_diff();
  Dtype* dx = bottom[0]->mutable_gpu_diff();
  AbsValBackwardKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, x, dy, dx);
  MOKA_CUDA_LAUNCH_CHECK();
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(AbsValLayer);

}  // namespace moka
