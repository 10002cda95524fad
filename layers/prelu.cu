#include <algorithm>

#include "cuda_check.hpp"
#include "device_math.cuh"
#include "layers/prelu.hpp"
#include "math_functions_gpu.hpp"

namespace moka {
namespace {

// Threads of the slope-gradient reduction; a power of two for the tree in shared memory.
constexpr int kSlopeThreads = 256;
// At most this many slices per channel (each slice one block), and at least this many elements
// per thread before a channel is cut into more than one slice.
constexpr int kMaxSlopeSlices = 64;
constexpr int kSlopeElementsPerThread = 8;
constexpr int kMaxGridY = 65535;

// `channels` slopes, each governing `dim` consecutive elements of every block of channels * dim
// (channel_shared passes channels 1 and dim n).
template <typename Dtype>
__global__ void PReLUForwardKernel(int n, int channels, int dim, const Dtype* x,
                                   const Dtype* slope, Dtype* y) {
  MOKA_CUDA_KERNEL_LOOP(i, n) {
    const int c = (i / dim) % channels;
    const Dtype v = x[i];
    // std::max(v, 0) + slope * std::min(v, 0), with the same comparisons.
    const Dtype positive = v < Dtype(0) ? Dtype(0) : v;
    const Dtype negative = Dtype(0) < v ? Dtype(0) : v;
    y[i] = positive + device::MulRn(slope[c], negative);
  }
}

template <typename Dtype>
__global__ void PReLUBackwardKernel(int n, int channels, int dim, const Dtype* x, const Dtype* dy,
                                    const Dtype* slope, Dtype* dx) {
  MOKA_CUDA_KERNEL_LOOP(i, n) {
    const int c = (i / dim) % channels;
    dx[i] = dy[i] * (x[i] > Dtype(0) ? Dtype(1) : slope[c]);
  }
}

// Block (s, c) sums dy * x over the non-positive inputs of slice s of channel c's `length`
// elements (element j of a channel lies at (j / dim) * channels * dim + c * dim + j % dim).
template <typename Dtype>
__global__ void PReLUSlopePartialKernel(int length, int channels, int dim, int slices,
                                        const Dtype* x, const Dtype* dy, double* partials) {
  __shared__ double cache[kSlopeThreads];
  for (int c = blockIdx.y; c < channels; c += gridDim.y) {
    double sum = 0;
    for (int j = blockIdx.x * kSlopeThreads + threadIdx.x; j < length;
         j += slices * kSlopeThreads) {
      const int i = (j / dim) * channels * dim + c * dim + j % dim;
      const Dtype v = x[i];
      if (v <= Dtype(0)) sum += static_cast<double>(device::MulRn(dy[i], v));
    }
    cache[threadIdx.x] = sum;
    __syncthreads();
    for (int half = kSlopeThreads / 2; half > 0; half /= 2) {
      if (threadIdx.x < half) cache[threadIdx.x] += cache[threadIdx.x + half];
      __syncthreads();
    }
    if (threadIdx.x == 0) partials[c * slices + blockIdx.x] = cache[0];
    __syncthreads();
  }
}

template <typename Dtype>
__global__ void PReLUSlopeAccumulateKernel(int channels, int slices, const double* partials,
                                           Dtype* slope_diff) {
  MOKA_CUDA_KERNEL_LOOP(c, channels) {
    double sum = 0;
    for (int s = 0; s < slices; ++s) sum += partials[c * slices + s];
    slope_diff[c] += static_cast<Dtype>(sum);
  }
}

}  // namespace

template <typename Dtype>
void PReLULayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  const int n = bottom[0]->count();
  if (n == 0) return;
  const int channels = channel_shared_ ? 1 : bottom[0]->shape(1);
  const int dim = channel_shared_ ? n : bottom[0]->count(2);
  const Dtype* x = bottom[0]->gpu_data();
  if (bottom[0] == top[0]) gpu_copy(n, x, bottom_memory_.mutable_gpu_data());
  Dtype* y = top[0]->mutable_gpu_data();
  const Dtype* slope = this->blobs_[0]->gpu_data();
  PReLUForwardKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, channels, dim, x, slope, y);
  MOKA_CUDA_LAUNCH_CHECK();
}

template <typename Dtype>
void PReLULayer<Dtype>::Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                     const BlobVec& bottom) {
  const int n = bottom[0]->count();
  if (n == 0) return;
  const int channels = channel_shared_ ? 1 : bottom[0]->shape(1);
  const int dim = channel_shared_ ? n : bottom[0]->count(2);
  const Dtype* x = bottom[0] == top[0] ? bottom_memory_.gpu_data() : bottom[0]->gpu_data();
  const Dtype* dy = top[0]->gpu_diff();
  // The slope gradient first: in place, the bottom diff overwrites the top diff.
  if (this->param_propagate_down(0)) {
    const int length = n / channels;
    const int wanted = (length + kSlopeThreads * kSlopeElementsPerThread - 1) /
                       (kSlopeThreads * kSlopeElementsPerThread);
    const int slices = std::max(1, std::min(kMaxSlopeSlices, wanted));
    // Sized on first use and kept: later passes of the same shape reuse the memory.
    if (slope_partials_.count() != channels * slices) slope_partials_.Reshape({channels * slices});
    double* partials = slope_partials_.mutable_gpu_data();
    const dim3 grid(slices, std::min(channels, kMaxGridY));
    PReLUSlopePartialKernel<Dtype>
        <<<grid, kSlopeThreads>>>(length, channels, dim, slices, x, dy, partials);
    MOKA_CUDA_LAUNCH_CHECK();
    PReLUSlopeAccumulateKernel<Dtype><<<CudaBlocks(channels), kCudaThreads>>>(
        channels, slices, partials, this->blobs_[0]->mutable_gpu_diff());
    MOKA_CUDA_LAUNCH_CHECK();
  }
  if (propagate_down[0]) {
    const Dtype* slope = this->blobs_[0]->gpu_data();
    Dtype* dx = bottom[0]->mutable_gpu_diff();
    PReLUBackwardKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, channels, dim, x, dy, slope,
                                                                 dx);
    MOKA_CUDA_LAUNCH_CHECK();
  }
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(PReLULayer);

}  // namespace moka
