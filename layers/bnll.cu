#include "cuda_check.hpp"
#include "device_math.cuh"
#include "layers/bnll.hpp"

namespace moka {
namespace {

// The CPU code's clamp: exp() above this overflows float.
constexpr double kBnllThresholdGpu = 50.0;

// The same mixed precision as the CPU code: exp of the element type, the rest in double.
template <typename Dtype>
__global__ void BNLLForwardKernel(int n, const Dtype* x, Dtype* y) {
  MOKA_CUDA_KERNEL_LOOP(i, n) {
    const Dtype v = x[i];
    y[i] = static_cast<Dtype>(v > Dtype(0) ? v + log(1.0 + device::Exp(-v))
                                           : log(1.0 + device::Exp(v)));
  }
}

template <typename Dtype>
__global__ void BNLLBackwardKernel(int n, const Dtype* x, const Dtype* dy, Dtype* dx) {
  MOKA_CUDA_KERNEL_LOOP(i, n) {
    const Dtype v = x[i];
    const Dtype clamped = v < Dtype(kBnllThresholdGpu) ? v : Dtype(kBnllThresholdGpu);
    const Dtype e = device::Exp(clamped);
    const Dtype scaled = device::MulRn(dy[i], e);
    dx[i] = static_cast<Dtype>(scaled / (e + 1.0));
  }
}

}  // namespace

template <typename Dtype>
void BNLLLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  const int n = bottom[0]->count();
  if (n == 0) return;
  const Dtype* x = bottom[0]->gpu_data();
  Dtype* y = top[0]->mutable_gpu_data();
  BNLLForwardKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, x, y);
  MOKA_CUDA_LAUNCH_CHECK();
}

template <typename Dtype>
void BNLLLayer<Dtype>::Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                    const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const int n = bottom[0]->count();
  if (n == 0) return;
  const Dtype* x = bottom[0]->gpu_data();
  const Dtype* dy = top[0]->gpu_diff();
  Dtype* dx = bottom[0]->mutable_gpu_diff();
  BNLLBackwardKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, x, dy, dx);
  MOKA_CUDA_LAUNCH_CHECK();
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(BNLLLayer);

}  // namespace moka
