#include <cmath>
#include <memory>

#include "cuda_check.hpp"
#include "device_math.cuh"
#include "layers/accuracy.hpp"
#include "math_functions_gpu.hpp"

namespace moka {
namespace {

// One thread per (outer, inner) position. A label outside [0, classes) marks the position NaN,
// which sends the host to find and report it (a kernel cannot throw); it is never used as an
// index. With per-class tallies (class_counts non-null), occurrences and hits are added
// atomically as integers, so they are exact.
template <typename Dtype>
__global__ void AccuracyKernel(int positions, int classes, int inner_num, const Dtype* scores,
                               const Dtype* labels, int top_k, bool has_ignore_label,
                               int ignore_label, Dtype* correct, Dtype* counted,
                               int* class_counts, int* class_hits) {
  MOKA_CUDA_KERNEL_LOOP(index, positions) {
    const int outer = index / inner_num;
    const int inner = index % inner_num;
    const int label = device::ToInt(labels[index]);
    correct[index] = 0;
    if (has_ignore_label && label == ignore_label) {
      counted[index] = 0;
      continue;
    }
    if (label < 0 || label >= classes) {
      counted[index] = static_cast<Dtype>(NAN);
      continue;
    }
    const Dtype* column = scores + static_cast<size_t>(outer) * classes * inner_num + inner;
    const Dtype label_score = column[static_cast<size_t>(label) * inner_num];
    // As on the CPU: classes scoring at least as high as the label's, the label itself excluded
    // by starting at -1 (a NaN label score meets no class), counted until top_k is reached.
    int rivals = -1;
    for (int k = 0; k < classes && rivals < top_k; ++k)
      rivals += column[static_cast<size_t>(k) * inner_num] >= label_score ? 1 : 0;
    const bool hit = rivals < top_k;
    correct[index] = hit ? Dtype(1) : Dtype(0);
    counted[index] = 1;
    if (class_counts != nullptr) {
      atomicAdd(class_counts + label, 1);
      if (hit) atomicAdd(class_hits + label, 1);
    }
  }
}

template <typename Dtype>
__global__ void ClassAccuracyKernel(int classes, const int* class_counts, const int* class_hits,
                                    Dtype* accuracy) {
  MOKA_CUDA_KERNEL_LOOP(c, classes) {
    accuracy[c] = class_counts[c] == 0 ? Dtype(0) : Dtype(class_hits[c]) / class_counts[c];
  }
}

}  // namespace

template <typename Dtype>
void AccuracyLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  const int classes = bottom[0]->shape(label_axis_);
  const int positions = outer_num_ * inner_num_;
  const bool per_class = top.size() > 1;
  int* class_counts = nullptr;
  int* class_hits = nullptr;
  if (per_class && classes > 0) {
    const size_t bytes = 2 * static_cast<size_t>(classes) * sizeof(int);
    if (!gpu_class_tallies_ || gpu_class_tallies_->size() != bytes) {
      gpu_class_tallies_ = std::make_unique<SyncedMemory>(bytes);
    }
    class_counts = static_cast<int*>(gpu_class_tallies_->mutable_gpu_data());
    class_hits = class_counts + classes;
    ZeroDeviceMemory(class_counts, bytes);
  }
  double correct = 0;
  double count = 0;
  if (positions > 0) {
    gpu_correct_.Reshape({positions});
    gpu_counted_.Reshape({positions});
    AccuracyKernel<Dtype><<<CudaBlocks(positions), kCudaThreads>>>(
        positions, classes, inner_num_, bottom[0]->gpu_data(), bottom[1]->gpu_data(), top_k_,
        has_ignore_label_, ignore_label_, gpu_correct_.mutable_gpu_data(),
        gpu_counted_.mutable_gpu_data(), class_counts, class_hits);
    MOKA_CUDA_LAUNCH_CHECK();
    correct = gpu_sum(positions, gpu_correct_.gpu_data());
    count = gpu_sum(positions, gpu_counted_.gpu_data());
  }
  if (std::isnan(count)) {
    // Only the labels come to the host, to report the first bad one in the CPU path's words.
    const Dtype* labels = bottom[1]->cpu_data();
    for (int index = 0; index < positions; ++index) {
      const Dtype raw_label = labels[index];
      const int label = static_cast<int>(raw_label);
      if (has_ignore_label_ && label == ignore_label_) continue;
      MOKA_CHECK(label >= 0 && label < classes, ShapeError,
                 "label " << raw_label << " at position " << index << " is outside [0, "
                          << classes << "), the classes on axis " << label_axis_
                          << " of predictions " << bottom[0]->shape_string());
    }
  }
  // The sums are of zeros and ones, so exact; the quotient is formed as on the CPU.
  const int num_correct = static_cast<int>(correct);
  const int num_counted = static_cast<int>(count);
  top[0]->mutable_cpu_data()[0] =
      num_counted == 0 ? Dtype(0) : Dtype(num_correct) / Dtype(num_counted);
  if (per_class && classes > 0) {
    ClassAccuracyKernel<Dtype><<<CudaBlocks(classes), kCudaThreads>>>(
        classes, class_counts, class_hits, top[1]->mutable_gpu_data());
    MOKA_CUDA_LAUNCH_CHECK();
  }
}

template <typename Dtype>
void AccuracyLayer<Dtype>::Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                        const BlobVec& bottom) {
  for (size_t i = 0; i < propagate_down.size(); ++i)
    MOKA_CHECK(!propagate_down[i], ConfigError,
               "accuracy is not differentiable; bottom " << i << " cannot receive a gradient");
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(AccuracyLayer);

}  // namespace moka
