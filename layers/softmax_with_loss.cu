#include <cfloat>
#include <cmath>

#include "cuda_check.hpp"
#include "device_math.cuh"
#include "layers/softmax.hpp"
#include "layers/softmax_with_loss.hpp"
#include "math_functions_gpu.hpp"

namespace moka {
namespace {

// A label outside [0, channels) yields a NaN loss term, which sends the host to find and report it
// (a kernel cannot throw); it is never used as an index.
template <typename Dtype>
__global__ void SoftmaxLossForwardKernel(int positions, int channels, int inner_num,
                                         const Dtype* prob, const Dtype* labels,
                                         bool has_ignore_label, int ignore_label, Dtype* losses,
                                         Dtype* counts) {
  MOKA_CUDA_KERNEL_LOOP(index, positions) {
    const int outer = index / inner_num;
    const int inner = index % inner_num;
    const int label = device::ToInt(labels[index]);
    if (has_ignore_label && label == ignore_label) {
      losses[index] = 0;
      counts[index] = 0;
    } else if (label < 0 || label >= channels) {
      losses[index] = static_cast<Dtype>(NAN);
      counts[index] = 0;
    } else {
      const Dtype p = prob[(outer * channels + label) * inner_num + inner];
      losses[index] = -device::Log(p < Dtype(FLT_MIN) ? Dtype(FLT_MIN) : p);
      counts[index] = 1;
    }
  }
}

template <typename Dtype>
__global__ void SoftmaxLossBackwardKernel(int positions, int channels, int inner_num,
                                          const Dtype* labels, bool has_ignore_label,
                                          int ignore_label, Dtype* dx) {
  MOKA_CUDA_KERNEL_LOOP(index, positions) {
    const int outer = index / inner_num;
    const int inner = index % inner_num;
    const int label = device::ToInt(labels[index]);
    if (has_ignore_label && label == ignore_label) {
      for (int c = 0; c < channels; ++c) dx[(outer * channels + c) * inner_num + inner] = 0;
    } else if (label >= 0 && label < channels) {
      dx[(outer * channels + label) * inner_num + inner] -= 1;
    }
  }
}

}  // namespace

template <typename Dtype>
void SoftmaxWithLossLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  const int channels = bottom[0]->shape(softmax_axis_);
  const int positions = outer_num_ * inner_num_;
  Dtype* prob = prob_.mutable_gpu_data();
  SoftmaxGpu(outer_num_, channels, inner_num_, bottom[0]->gpu_data(), prob);

  gpu_losses_.Reshape({positions});
  gpu_counts_.Reshape({positions});
  double loss = 0;
  double valid = 0;
  if (positions > 0) {
    SoftmaxLossForwardKernel<Dtype><<<CudaBlocks(positions), kCudaThreads>>>(
        positions, channels, inner_num_, prob_.gpu_data(), bottom[1]->gpu_data(),
        has_ignore_label_, ignore_label_, gpu_losses_.mutable_gpu_data(),
        gpu_counts_.mutable_gpu_data());
    MOKA_CUDA_LAUNCH_CHECK();
    loss = gpu_sum(positions, gpu_losses_.gpu_data());
    valid = gpu_sum(positions, gpu_counts_.gpu_data());
  }
  if (std::isnan(loss)) {
    // Either a bad label (reported exactly as the CPU path does) or NaN scores (kept, as there).
    const Dtype* labels = bottom[1]->cpu_data();
    for (int index = 0; index < positions; ++index) {
      if (has_ignore_label_ && static_cast<int>(labels[index]) == ignore_label_) continue;
      LabelAt(labels, index);
    }
  }
  gpu_valid_count_ = static_cast<int>(valid);
  top[0]->mutable_cpu_data()[0] = static_cast<Dtype>(loss) /
      LossNormalizer<Dtype>(normalization_, outer_num_, inner_num_, gpu_valid_count_);
  if (top.size() == 2) gpu_copy(prob_.count(), prob_.gpu_data(), top[1]->mutable_gpu_data());
}

template <typename Dtype>
void SoftmaxWithLossLayer<Dtype>::Backward_gpu(const BlobVec& top,
                                               const std::vector<bool>& propagate_down,
                                               const BlobVec& bottom) {
  MOKA_CHECK(!propagate_down[1], ConfigError, "cannot backpropagate to the labels (bottom 1)");
  if (!propagate_down[0]) return;
  const int channels = prob_.shape(softmax_axis_);
  const int positions = outer_num_ * inner_num_;
  Dtype* dx = bottom[0]->mutable_gpu_diff();
  gpu_copy(prob_.count(), prob_.gpu_data(), dx);
  if (positions > 0) {
    SoftmaxLossBackwardKernel<Dtype><<<CudaBlocks(positions), kCudaThreads>>>(
        positions, channels, inner_num_, bottom[1]->gpu_data(), has_ignore_label_, ignore_label_,
        dx);
    MOKA_CUDA_LAUNCH_CHECK();
  }
  const Dtype scale = top[0]->cpu_diff()[0] /
      LossNormalizer<Dtype>(normalization_, outer_num_, inner_num_, gpu_valid_count_);
  gpu_scal(prob_.count(), scale, dx);
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(SoftmaxWithLossLayer);

}  // namespace moka
