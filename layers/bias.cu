#include "cuda_check.hpp"
#include "layers/bias.hpp"
#include "layers/broadcast_gpu.cuh"
#include "math_functions_gpu.hpp"

namespace moka {
namespace {

template <typename Dtype>
__global__ void BiasForwardKernel(int n, int dim, int inner, const Dtype* x, const Dtype* b,
                                  Dtype* y) {
  MOKA_CUDA_KERNEL_LOOP(i, n) y[i] = x[i] + b[(i / inner) % dim];
}

}  // namespace

template <typename Dtype>
void BiasLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  const int n = bottom[0]->count();
  if (n == 0) return;
  const Dtype* b = (bottom.size() > 1 ? bottom[1] : this->blobs_[0].get())->gpu_data();
  const Dtype* x = bottom[0]->gpu_data();
  Dtype* y = top[0]->mutable_gpu_data();
  BiasForwardKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, bias_dim_, inner_dim_, x, b, y);
  MOKA_CUDA_LAUNCH_CHECK();
}

template <typename Dtype>
void BiasLayer<Dtype>::Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                    const BlobVec& bottom) {
  const int n = bottom[0]->count();
  if (propagate_down[0] && bottom[0] != top[0] && n > 0) {
    gpu_copy(n, top[0]->gpu_diff(), bottom[0]->mutable_gpu_diff());
  }
  const bool learned = bottom.size() == 1;
  if (learned ? !this->param_propagate_down(0) : !propagate_down[1]) return;
  if (bias_dim_ == 0) return;
  // A learned bias accumulates its gradient; a bottom's diff is overwritten.
  Dtype* db = (learned ? this->blobs_[0].get() : bottom[1])->mutable_gpu_diff();
  const Dtype* dy = n > 0 ? top[0]->gpu_diff() : nullptr;
  broadcast::SliceSum<Dtype>(outer_dim_, bias_dim_, inner_dim_, dy, nullptr,
                             learned ? Dtype(1) : Dtype(0), db);
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(BiasLayer);

}  // namespace moka
