#include "cuda_check.hpp"
#include "layers/threshold.hpp"

namespace moka {
namespace {

template <typename Dtype>
__global__ void ThresholdForwardKernel(int n, const Dtype* x, Dtype threshold, Dtype* y) {
  MOKA_CUDA_KERNEL_LOOP(i, n) y[i] = x[i] > threshold ? Dtype(1) : Dtype(0);
}

}  // namespace

template <typename Dtype>
void ThresholdLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  const Dtype threshold = this->layer_param_.threshold_param().threshold();
  const int n = bottom[0]->count();
  if (n == 0) return;
  const Dtype* x = bottom[0]->gpu_data();
  Dtype* y = top[0]->mutable_gpu_data();
  ThresholdForwardKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, x, threshold, y);
  MOKA_CUDA_LAUNCH_CHECK();
}

// As on the CPU: no gradient, and a request for one is a configuration error, not a device one.
template <typename Dtype>
void ThresholdLayer<Dtype>::Backward_gpu(const BlobVec& top,
                                         const std::vector<bool>& propagate_down,
                                         const BlobVec& bottom) {
  MOKA_CHECK(!propagate_down[0], ConfigError,
             "has no backward pass (a step function has no useful gradient); set "
             "propagate_down: false on its bottom");
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(ThresholdLayer);

}  // namespace moka
