#include "cuda_check.hpp"
#include "device_math.cuh"
#include "layers/sigmoid_cross_entropy_loss.hpp"
#include "math_functions_gpu.hpp"

namespace moka {
namespace {

template <typename Dtype>
__global__ void SigmoidCrossEntropyForwardKernel(int n, const Dtype* x, const Dtype* t,
                                                 bool has_ignore_label, int ignore_label,
                                                 Dtype* losses, Dtype* counts) {
  MOKA_CUDA_KERNEL_LOOP(i, n) {
    if (has_ignore_label && device::ToInt(t[i]) == ignore_label) {
      losses[i] = 0;
      counts[i] = 0;
    } else {
      const Dtype positive = x[i] >= 0 ? Dtype(1) : Dtype(0);
      const Dtype linear = x[i] * (t[i] - positive);
      // As on the CPU: exp of -|x| cannot overflow, and the log term is formed in double.
      const double softplus = log(1.0 + exp(static_cast<double>(x[i] - 2 * x[i] * positive)));
      losses[i] = static_cast<Dtype>(-(linear - softplus));
      counts[i] = 1;
    }
  }
}

template <typename Dtype>
__global__ void SigmoidCrossEntropyBackwardKernel(int n, const Dtype* x, const Dtype* t,
                                                  bool has_ignore_label, int ignore_label,
                                                  Dtype scale, Dtype* dx) {
  MOKA_CUDA_KERNEL_LOOP(i, n) {
    if (has_ignore_label && device::ToInt(t[i]) == ignore_label) {
      dx[i] = 0;
    } else {
      const Dtype s = static_cast<Dtype>(0.5 * tanh(0.5 * x[i]) + 0.5);
      dx[i] = (s - t[i]) * scale;
    }
  }
}

}  // namespace

template <typename Dtype>
void SigmoidCrossEntropyLossLayer<Dtype>::Forward_gpu(const BlobVec& bottom,
                                                      const BlobVec& top) {
  const int count = bottom[0]->count();
  gpu_losses_.Reshape({count});
  gpu_counts_.Reshape({count});
  double loss = 0;
  double valid = 0;
  if (count > 0) {
    SigmoidCrossEntropyForwardKernel<Dtype><<<CudaBlocks(count), kCudaThreads>>>(
        count, bottom[0]->gpu_data(), bottom[1]->gpu_data(), has_ignore_label_, ignore_label_,
        gpu_losses_.mutable_gpu_data(), gpu_counts_.mutable_gpu_data());
    MOKA_CUDA_LAUNCH_CHECK();
    loss = gpu_sum(count, gpu_losses_.gpu_data());
    valid = gpu_sum(count, gpu_counts_.gpu_data());
  }
  normalizer_ =
      LossNormalizer<Dtype>(normalization_, outer_num_, inner_num_, static_cast<int>(valid));
  top[0]->mutable_cpu_data()[0] = static_cast<Dtype>(loss) / normalizer_;
}

template <typename Dtype>
void SigmoidCrossEntropyLossLayer<Dtype>::Backward_gpu(const BlobVec& top,
                                                       const std::vector<bool>& propagate_down,
                                                       const BlobVec& bottom) {
  MOKA_CHECK(!propagate_down[1], ConfigError, "cannot backpropagate to the targets (bottom 1)");
  if (!propagate_down[0]) return;
  const int count = bottom[0]->count();
  const Dtype scale = top[0]->cpu_diff()[0] / normalizer_;
  Dtype* dx = bottom[0]->mutable_gpu_diff();
  if (count == 0) return;
  SigmoidCrossEntropyBackwardKernel<Dtype><<<CudaBlocks(count), kCudaThreads>>>(
      count, bottom[0]->gpu_data(), bottom[1]->gpu_data(), has_ignore_label_, ignore_label_, scale,
      dx);
  MOKA_CUDA_LAUNCH_CHECK();
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(SigmoidCrossEntropyLossLayer);

}  // namespace moka
