#include "cuda_check.hpp"
#include "layers/clip.hpp"

namespace moka {
namespace {

// std::max(lo, std::min(x, hi)) with the same comparisons, so a NaN input gives lo as on the CPU.
template <typename Dtype>
__global__ void ClipForwardKernel(int n, const Dtype* x, Dtype lo, Dtype hi, Dtype* y) {
  MOKA_CUDA_KERNEL_LOOP(i, n) {
    const Dtype v = x[i];
    const Dtype upper = hi < v ? hi : v;
    y[i] = lo < upper ? upper : lo;
  }
}

template <typename Dtype>
__global__ void ClipBackwardKernel(int n, const Dtype* x, const Dtype* dy, Dtype lo, Dtype hi,
                                   Dtype* dx) {
  MOKA_CUDA_KERNEL_LOOP(i, n) dx[i] = (x[i] >= lo && x[i] <= hi) ? dy[i] : Dtype(0);
}

}  // namespace

template <typename Dtype>
void ClipLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  const Dtype lo = this->layer_param_.clip_param().min();
  const Dtype hi = this->layer_param_.clip_param().max();
  const int n = bottom[0]->count();
  if (n == 0) return;
  const Dtype* x = bottom[0]->gpu_data();
  Dtype* y = top[0]->mutable_gpu_data();
  ClipForwardKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, x, lo, hi, y);
  MOKA_CUDA_LAUNCH_CHECK();
}

template <typename Dtype>
void ClipLayer<Dtype>::Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                    const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const Dtype lo = this->layer_param_.clip_param().min();
  const Dtype hi = this->layer_param_.clip_param().max();
  const int n = bottom[0]->count();
  if (n == 0) return;
  const Dtype* x = bottom[0]->gpu_data();
  const Dtype* dy = top[0]->gpu_diff();
  Dtype* dx = bottom[0]->mutable_gpu_diff();
  ClipBackwardKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, x, dy, lo, hi, dx);
  MOKA_CUDA_LAUNCH_CHECK();
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(ClipLayer);

}  // namespace moka
