#include "cuda_check.hpp"
#include "device_math.cuh"
#include "layers/swish.hpp"

namespace moka {
namespace {

// The CPU code's expressions, rounded step by step (no fused multiply-adds), with the sigmoid in
// its tanh form evaluated in double.
template <typename Dtype>
__global__ void SwishForwardKernel(int n, const Dtype* x, Dtype beta, Dtype* s, Dtype* y) {
  MOKA_CUDA_KERNEL_LOOP(i, n) {
    const Dtype v = x[i];
    const Dtype z = device::MulRn(beta, v);
    const double t = tanh(device::MulRn(0.5, static_cast<double>(z)));
    const Dtype sig = static_cast<Dtype>(device::AddRn(device::MulRn(0.5, t), 0.5));
    s[i] = sig;
    y[i] = device::MulRn(v, sig);
  }
}

template <typename Dtype>
__global__ void SwishBackwardKernel(int n, const Dtype* y, const Dtype* s, const Dtype* dy,
                                    Dtype beta, Dtype* dx) {
  MOKA_CUDA_KERNEL_LOOP(i, n) {
    const Dtype by = device::MulRn(beta, y[i]);
    const double bracket = device::AddRn(
        static_cast<double>(by),
        device::MulRn(static_cast<double>(s[i]), device::AddRn(1.0, -static_cast<double>(by))));
    dx[i] = static_cast<Dtype>(device::MulRn(static_cast<double>(dy[i]), bracket));
  }
}

}  // namespace

template <typename Dtype>
void SwishLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  const Dtype beta = this->layer_param_.swish_param().beta();
  const int n = bottom[0]->count();
  if (n == 0) return;
  const Dtype* x = bottom[0]->gpu_data();
  Dtype* s = sigmoid_.mutable_gpu_data();
  Dtype* y = top[0]->mutable_gpu_data();
  SwishForwardKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, x, beta, s, y);
  MOKA_CUDA_LAUNCH_CHECK();
}

template <typename Dtype>
void SwishLayer<Dtype>::Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                     const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const Dtype beta = this->layer_param_.swish_param().beta();
  const int n = bottom[0]->count();
  if (n == 0) return;
  const Dtype* y = top[0]->gpu_data();
  const Dtype* s = sigmoid_.gpu_data();
  const Dtype* dy = top[0]->gpu_diff();
  Dtype* dx = bottom[0]->mutable_gpu_diff();
  SwishBackwardKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, y, s, dy, beta, dx);
  MOKA_CUDA_LAUNCH_CHECK();
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(SwishLayer);

}  // namespace moka
