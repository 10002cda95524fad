#include "cuda_check.hpp"
#include "layers/slice.hpp"

namespace moka {
namespace {

// Moves one top's part of the bottom: `run` values per slice, at `offset` within the bottom's
// `bottom_run`; `to_top` picks the direction (data forward, diff backward).
template <typename Dtype>
__global__ void SliceCopyKernel(int n, bool to_top, int run, int bottom_run, int offset,
                                const Dtype* from, Dtype* to) {
  MOKA_CUDA_KERNEL_LOOP(index, n) {
    const int slice = index / run;
    const size_t bottom_index = static_cast<size_t>(slice) * bottom_run + offset + index % run;
    if (to_top) {
      to[index] = from[bottom_index];
    } else {
      to[bottom_index] = from[index];
    }
  }
}

}  // namespace

template <typename Dtype>
void SliceLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  // A single top shares the bottom's memory (see Reshape).
  if (top.size() == 1) return;
  const Dtype* x = bottom[0]->gpu_data();
  const int bottom_run = bottom[0]->shape(slice_axis_) * slice_size_;
  int offset = 0;
  for (auto* t : top) {
    const int run = t->shape(slice_axis_) * slice_size_;
    const int n = run * num_slices_;
    if (n > 0) {
      SliceCopyKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, true, run, bottom_run, offset, x,
                                                              t->mutable_gpu_data());
      MOKA_CUDA_LAUNCH_CHECK();
    }
    offset += run;
  }
}

template <typename Dtype>
void SliceLayer<Dtype>::Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                     const BlobVec& bottom) {
  if (!propagate_down[0] || top.size() == 1) return;
  Dtype* dx = bottom[0]->mutable_gpu_diff();
  const int bottom_run = bottom[0]->shape(slice_axis_) * slice_size_;
  int offset = 0;
  for (auto* t : top) {
    const int run = t->shape(slice_axis_) * slice_size_;
    const int n = run * num_slices_;
    if (n > 0) {
      SliceCopyKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, false, run, bottom_run, offset,
                                                              t->gpu_diff(), dx);
      MOKA_CUDA_LAUNCH_CHECK();
    }
    offset += run;
  }
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(SliceLayer);

}  // namespace moka
