#include "cuda_check.hpp"
#include "device_math.cuh"
#include "layers/embed.hpp"
#include "math_functions_gpu.hpp"

namespace moka {
namespace {

// The same test as the CPU's Index(): an integer value in [0, input_dim).
template <typename Dtype>
__device__ __forceinline__ bool ValidIndex(Dtype value, int input_dim, int* index) {
  *index = device::ToInt(value);
  return *index >= 0 && *index < input_dim && static_cast<Dtype>(*index) == value;
}

// Raises the flag when any bottom value is not a valid row index (a kernel cannot throw; the
// host then finds and reports the first one exactly as the CPU path does).
template <typename Dtype>
__global__ void EmbedCheckKernel(int n, const Dtype* x, int input_dim, Dtype* bad) {
  MOKA_CUDA_KERNEL_LOOP(i, n) {
    int index;
    if (!ValidIndex(x[i], input_dim, &index)) bad[0] = 1;
  }
}

// y[m, j] = W[x[m], j] (+ b[j]); a bad index never reaches memory.
template <typename Dtype>
__global__ void EmbedForwardKernel(int n, int num_output, int input_dim, const Dtype* x,
                                   const Dtype* weight, const Dtype* bias, Dtype* y) {
  MOKA_CUDA_KERNEL_LOOP(i, n) {
    const int m = i / num_output;
    const int j = i % num_output;
    int index;
    if (!ValidIndex(x[m], input_dim, &index)) {
      y[i] = static_cast<Dtype>(NAN);
      continue;
    }
    const Dtype value = weight[static_cast<size_t>(index) * num_output + j];
    y[i] = bias != nullptr ? value + bias[j] : value;
  }
}

// dW[x[m], :] += dy[m, :]. Lookups may repeat an index, so rows are accumulated atomically (the
// order of the additions, unlike the CPU's, is not fixed).
template <typename Dtype>
__global__ void EmbedWeightBackwardKernel(int n, int num_output, int input_dim, const Dtype* x,
                                          const Dtype* dy, Dtype* dw) {
  MOKA_CUDA_KERNEL_LOOP(i, n) {
    const int m = i / num_output;
    const int j = i % num_output;
    int index;
    if (!ValidIndex(x[m], input_dim, &index)) continue;
    atomicAdd(dw + static_cast<size_t>(index) * num_output + j, dy[i]);
  }
}

}  // namespace

template <typename Dtype>
void EmbedLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  if (M_ == 0) return;
  const Dtype* x = bottom[0]->gpu_data();
  // One flag value comes back to the host per pass, so that a bad index is an error here too.
  gpu_bad_index_.Reshape({1});
  Dtype* bad = gpu_bad_index_.mutable_gpu_data();
  gpu_set(1, Dtype(0), bad);
  EmbedCheckKernel<Dtype><<<CudaBlocks(M_), kCudaThreads>>>(M_, x, K_, bad);
  MOKA_CUDA_LAUNCH_CHECK();
  if (gpu_bad_index_.cpu_data()[0] != Dtype(0)) {
    const Dtype* host_x = bottom[0]->cpu_data();
    for (int n = 0; n < M_; ++n) Index(host_x, n);
  }
  const int n = M_ * N_;
  const Dtype* bias = bias_term_ ? this->blobs_[1]->gpu_data() : nullptr;
  EmbedForwardKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(
      n, N_, K_, x, this->blobs_[0]->gpu_data(), bias, top[0]->mutable_gpu_data());
  MOKA_CUDA_LAUNCH_CHECK();
}

template <typename Dtype>
void EmbedLayer<Dtype>::Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                     const BlobVec& bottom) {
  MOKA_CHECK(!propagate_down[0], ConfigError,
             "cannot backpropagate to its input (indices); set propagate_down: false");
  if (M_ == 0) return;
  const Dtype* dy = top[0]->gpu_diff();
  if (this->param_propagate_down(0)) {
    const int n = M_ * N_;
    EmbedWeightBackwardKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(
        n, N_, K_, bottom[0]->gpu_data(), dy, this->blobs_[0]->mutable_gpu_diff());
    MOKA_CUDA_LAUNCH_CHECK();
  }
  if (bias_term_ && this->param_propagate_down(1)) {
    gpu_gemv(this->context().gpu(), Trans::kYes, M_, N_, Dtype(1), dy,
             bias_multiplier_.gpu_data(), Dtype(1), this->blobs_[1]->mutable_gpu_diff());
  }
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(EmbedLayer);

}  // namespace moka
