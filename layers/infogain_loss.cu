#include <cmath>

#include "cuda_check.hpp"
#include "device_math.cuh"
#include "layers/infogain_loss.hpp"
#include "layers/multinomial_logistic_loss.hpp"
#include "math_functions_gpu.hpp"

namespace moka {
namespace {

// Per position: -sum_k H[l, k] log(max(p_k, threshold)), and 1 when the label counts. A label
// outside [0, channels) yields a NaN term, which sends the host to find and report it (a kernel
// cannot throw); it is never used as an index.
template <typename Dtype>
__global__ void InfogainForwardKernel(int positions, int channels, int inner_num, const Dtype* prob,
                                      const Dtype* labels, const Dtype* h, bool has_ignore_label,
                                      int ignore_label, Dtype threshold, Dtype* losses,
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
      const Dtype* p = prob + static_cast<size_t>(outer) * channels * inner_num + inner;
      const Dtype* row = h + static_cast<size_t>(label) * channels;
      Dtype loss = 0;
      for (int k = 0; k < channels; ++k) {
        const Dtype v = p[static_cast<size_t>(k) * inner_num];
        loss -= row[k] * device::Log(v < threshold ? threshold : v);
      }
      losses[index] = loss;
      counts[index] = 1;
    }
  }
}

// sums[r] = sum_c H[r, c], added left to right as the CPU does.
template <typename Dtype>
__global__ void InfogainRowSumKernel(int channels, const Dtype* h, Dtype* sums) {
  MOKA_CUDA_KERNEL_LOOP(row, channels) {
    Dtype sum = 0;
    for (int c = 0; c < channels; ++c) sum += h[static_cast<size_t>(row) * channels + c];
    sums[row] = sum;
  }
}

// dx_k = p_k * sum_j H[l, j] - H[l, k] along each position's column (before normalisation);
// ignored positions get zero.
template <typename Dtype>
__global__ void InfogainBackwardKernel(int positions, int channels, int inner_num,
                                       const Dtype* prob, const Dtype* labels, const Dtype* h,
                                       const Dtype* sums, bool has_ignore_label, int ignore_label,
                                       Dtype* dx) {
  MOKA_CUDA_KERNEL_LOOP(index, positions) {
    const int outer = index / inner_num;
    const int inner = index % inner_num;
    const int label = device::ToInt(labels[index]);
    const size_t first = static_cast<size_t>(outer) * channels * inner_num + inner;
    const bool valid =
        !(has_ignore_label && label == ignore_label) && label >= 0 && label < channels;
    for (int k = 0; k < channels; ++k) {
      const size_t at = first + static_cast<size_t>(k) * inner_num;
      dx[at] = valid ? prob[at] * sums[label] - h[static_cast<size_t>(label) * channels + k]
                     : Dtype(0);
    }
  }
}

}  // namespace

template <typename Dtype>
void InfogainLossLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  softmax_layer_->Forward(softmax_bottom_, softmax_top_);
  const int positions = outer_num_ * inner_num_;
  double loss = 0;
  double valid = 0;
  if (positions > 0) {
    gpu_losses_.Reshape({positions});
    gpu_counts_.Reshape({positions});
    InfogainForwardKernel<Dtype><<<CudaBlocks(positions), kCudaThreads>>>(
        positions, num_labels_, inner_num_, prob_.gpu_data(), bottom[1]->gpu_data(),
        Infogain(bottom).gpu_data(), has_ignore_label_, ignore_label_, Dtype(kLogThreshold),
        gpu_losses_.mutable_gpu_data(), gpu_counts_.mutable_gpu_data());
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
  if (top.size() == 2) top[1]->ShareData(prob_);
}

template <typename Dtype>
void InfogainLossLayer<Dtype>::Backward_gpu(const BlobVec& top,
                                            const std::vector<bool>& propagate_down,
                                            const BlobVec& bottom) {
  MOKA_CHECK(!propagate_down[1], ConfigError, "cannot backpropagate to the labels (bottom 1)");
  MOKA_CHECK(propagate_down.size() < 3 || !propagate_down[2], ConfigError,
             "cannot backpropagate to the infogain matrix (bottom 2)");
  if (!propagate_down[0]) return;
  const Dtype* h = Infogain(bottom).gpu_data();
  // A matrix given as a bottom may change between passes; one from `source` was summed in Reshape.
  if (bottom.size() > 2 && num_labels_ > 0) {
    InfogainRowSumKernel<Dtype><<<CudaBlocks(num_labels_), kCudaThreads>>>(
        num_labels_, h, sum_rows_h_.mutable_gpu_data());
    MOKA_CUDA_LAUNCH_CHECK();
  }
  const int positions = outer_num_ * inner_num_;
  Dtype* dx = bottom[0]->mutable_gpu_diff();
  if (positions > 0) {
    InfogainBackwardKernel<Dtype><<<CudaBlocks(positions), kCudaThreads>>>(
        positions, num_labels_, inner_num_, prob_.gpu_data(), bottom[1]->gpu_data(), h,
        sum_rows_h_.gpu_data(), has_ignore_label_, ignore_label_, dx);
    MOKA_CUDA_LAUNCH_CHECK();
  }
  const Dtype scale = top[0]->cpu_diff()[0] /
      LossNormalizer<Dtype>(normalization_, outer_num_, inner_num_, gpu_valid_count_);
  gpu_scal(bottom[0]->count(), scale, dx);
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(InfogainLossLayer);

}  // namespace moka
