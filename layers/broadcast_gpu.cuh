#pragma once
// Kernels shared by the layers that broadcast a per-slice parameter over a blob viewed as
// [outer, dim, inner] (Bias, Scale, BatchNorm): the reduction of a gradient back to one value per
// slice d.
#include "cuda_check.hpp"

namespace moka {
namespace broadcast {

/// out[d] = beta * out[d] + sum over o, i of a[o, d, i] (* b[o, d, i] when b is not null), one
/// block per slice. beta == 0 overwrites out (whatever it held). The sum runs in double, in a
/// fixed order, so it is deterministic.
template <typename Dtype>
__global__ void SliceSumKernel(int outer, int dim, int inner, const Dtype* a, const Dtype* b,
                               Dtype beta, Dtype* out) {
  __shared__ double cache[kCudaThreads];
  const int per_slice = outer * inner;
  for (int d = blockIdx.x; d < dim; d += gridDim.x) {
    double sum = 0;
    for (int j = threadIdx.x; j < per_slice; j += blockDim.x) {
      const int o = j / inner;
      const size_t index = (static_cast<size_t>(o) * dim + d) * inner + (j - o * inner);
      const double v = static_cast<double>(a[index]);
      sum += b == nullptr ? v : v * static_cast<double>(b[index]);
    }
    cache[threadIdx.x] = sum;
    __syncthreads();
    for (int half = blockDim.x / 2; half > 0; half /= 2) {
      if (threadIdx.x < half) cache[threadIdx.x] += cache[threadIdx.x + half];
      __syncthreads();
    }
    if (threadIdx.x == 0) {
      const Dtype total = static_cast<Dtype>(cache[0]);
      out[d] = beta == Dtype(0) ? total : beta * out[d] + total;
    }
    __syncthreads();
  }
}

/// Launches SliceSumKernel (nothing to do when dim is 0).
template <typename Dtype>
void SliceSum(int outer, int dim, int inner, const Dtype* a, const Dtype* b, Dtype beta,
              Dtype* out) {
  if (dim == 0) return;
  const int blocks = dim < kCudaMaxBlocks ? dim : kCudaMaxBlocks;
  SliceSumKernel<Dtype><<<blocks, kCudaThreads>>>(outer, dim, inner, a, b, beta, out);
  MOKA_CUDA_LAUNCH_CHECK();
}

}  // namespace broadcast
}  // namespace moka
