#include "solvers/sgd_update.hpp"

#include "cuda_check.hpp"
#include "device_math.cuh"

namespace moka {
namespace {

using device::AddRn;
using device::DivRn;
using device::MulRn;

/// alpha * x + beta * y, as cpu_axpby computes it.
template <typename Dtype>
__device__ __forceinline__ Dtype Axpby(Dtype alpha, Dtype x, Dtype beta, Dtype y) {
  return AddRn(MulRn(alpha, x), MulRn(beta, y));
}

template <typename Dtype>
__global__ void SgdKernel(int n, Dtype* diff, Dtype* velocity, Dtype momentum, Dtype local_rate) {
  MOKA_CUDA_KERNEL_LOOP(i, n) {
    const Dtype v = Axpby(local_rate, diff[i], momentum, velocity[i]);
    velocity[i] = v;
    diff[i] = v;
  }
}

template <typename Dtype>
__global__ void NesterovKernel(int n, Dtype* diff, Dtype* velocity, Dtype momentum,
                               Dtype local_rate) {
  const Dtype one_plus_momentum = Dtype(1) + momentum;
  MOKA_CUDA_KERNEL_LOOP(i, n) {
    const Dtype previous = velocity[i];
    const Dtype v = Axpby(local_rate, diff[i], momentum, previous);
    velocity[i] = v;
    diff[i] = Axpby(one_plus_momentum, v, -momentum, previous);
  }
}

template <typename Dtype>
__global__ void AdaGradKernel(int n, Dtype* diff, Dtype* history, Dtype delta, Dtype local_rate) {
  MOKA_CUDA_KERNEL_LOOP(i, n) {
    const Dtype g = diff[i];
    const Dtype h = AddRn(device::Pow(g, Dtype(2)), history[i]);
    history[i] = h;
    const Dtype denominator = AddRn(device::Pow(h, Dtype(0.5)), delta);
    diff[i] = MulRn(local_rate, DivRn(g, denominator));
  }
}

template <typename Dtype>
__global__ void RmsPropKernel(int n, Dtype* diff, Dtype* history, Dtype rms_decay,
                              Dtype one_minus_decay, Dtype delta, Dtype local_rate) {
  MOKA_CUDA_KERNEL_LOOP(i, n) {
    const Dtype g = diff[i];
    const Dtype h = Axpby(one_minus_decay, device::Pow(g, Dtype(2)), rms_decay, history[i]);
    history[i] = h;
    const Dtype denominator = AddRn(device::Pow(h, Dtype(0.5)), delta);
    diff[i] = MulRn(local_rate, DivRn(g, denominator));
  }
}

template <typename Dtype>
__global__ void AdaDeltaKernel(int n, Dtype* diff, Dtype* history, Dtype* update_history, Dtype rho,
                               Dtype one_minus_rho, Dtype delta, Dtype local_rate) {
  MOKA_CUDA_KERNEL_LOOP(i, n) {
    const Dtype g = diff[i];
    const Dtype h = Axpby(one_minus_rho, device::Pow(g, Dtype(2)), rho, history[i]);
    history[i] = h;
    const Dtype ratio =
        device::Pow(DivRn(AddRn(delta, update_history[i]), AddRn(delta, h)), Dtype(0.5));
    const Dtype u = MulRn(g, ratio);
    update_history[i] = Axpby(one_minus_rho, device::Pow(u, Dtype(2)), rho, update_history[i]);
    diff[i] = MulRn(local_rate, u);
  }
}

template <typename Dtype>
__global__ void AdamKernel(int n, Dtype* diff, Dtype* m, Dtype* v, Dtype beta1,
                           Dtype one_minus_beta1, Dtype beta2, Dtype one_minus_beta2, Dtype epsilon,
                           Dtype corrected_rate) {
  MOKA_CUDA_KERNEL_LOOP(i, n) {
    const Dtype g = diff[i];
    const Dtype mi = Axpby(one_minus_beta1, g, beta1, m[i]);
    const Dtype vi = Axpby(one_minus_beta2, MulRn(g, g), beta2, v[i]);
    m[i] = mi;
    v[i] = vi;
    const Dtype denominator = AddRn(device::Pow(vi, Dtype(0.5)), epsilon);
    diff[i] = MulRn(corrected_rate, DivRn(mi, denominator));
  }
}

}  // namespace

template <typename Dtype>
void SgdUpdateGpu(int n, Dtype* diff, Dtype* velocity, Dtype momentum, Dtype local_rate) {
  if (n == 0) return;
  SgdKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, diff, velocity, momentum, local_rate);
  MOKA_CUDA_LAUNCH_CHECK();
}

template <typename Dtype>
void NesterovUpdateGpu(int n, Dtype* diff, Dtype* velocity, Dtype momentum, Dtype local_rate) {
  if (n == 0) return;
  NesterovKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, diff, velocity, momentum, local_rate);
  MOKA_CUDA_LAUNCH_CHECK();
}

template <typename Dtype>
void AdaGradUpdateGpu(int n, Dtype* diff, Dtype* history, Dtype delta, Dtype local_rate) {
  if (n == 0) return;
  AdaGradKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, diff, history, delta, local_rate);
  MOKA_CUDA_LAUNCH_CHECK();
}

template <typename Dtype>
void RmsPropUpdateGpu(int n, Dtype* diff, Dtype* history, Dtype rms_decay, Dtype delta,
                      Dtype local_rate) {
  if (n == 0) return;
  RmsPropKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, diff, history, rms_decay,
                                                        Dtype(1) - rms_decay, delta, local_rate);
  MOKA_CUDA_LAUNCH_CHECK();
}

template <typename Dtype>
void AdaDeltaUpdateGpu(int n, Dtype* diff, Dtype* history, Dtype* update_history, Dtype rho,
                       Dtype delta, Dtype local_rate) {
  if (n == 0) return;
  AdaDeltaKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, diff, history, update_history, rho,
                                                         Dtype(1) - rho, delta, local_rate);
  MOKA_CUDA_LAUNCH_CHECK();
}

template <typename Dtype>
void AdamUpdateGpu(int n, Dtype* diff, Dtype* m, Dtype* v, Dtype beta1, Dtype beta2, Dtype epsilon,
                   Dtype corrected_rate) {
  if (n == 0) return;
  AdamKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, diff, m, v, beta1, Dtype(1) - beta1, beta2,
                                                     Dtype(1) - beta2, epsilon, corrected_rate);
  MOKA_CUDA_LAUNCH_CHECK();
}

#define MOKA_INSTANTIATE_SGD_UPDATES(Dtype)                                                 \
  template void SgdUpdateGpu<Dtype>(int, Dtype*, Dtype*, Dtype, Dtype);                     \
  template void NesterovUpdateGpu<Dtype>(int, Dtype*, Dtype*, Dtype, Dtype);                \
  template void AdaGradUpdateGpu<Dtype>(int, Dtype*, Dtype*, Dtype, Dtype);                 \
  template void RmsPropUpdateGpu<Dtype>(int, Dtype*, Dtype*, Dtype, Dtype, Dtype);          \
  template void AdaDeltaUpdateGpu<Dtype>(int, Dtype*, Dtype*, Dtype*, Dtype, Dtype, Dtype); \
  template void AdamUpdateGpu<Dtype>(int, Dtype*, Dtype*, Dtype*, Dtype, Dtype, Dtype, Dtype)
MOKA_INSTANTIATE_SGD_UPDATES(float);
MOKA_INSTANTIATE_SGD_UPDATES(double);
#undef MOKA_INSTANTIATE_SGD_UPDATES

}  // namespace moka
