#include "cuda_check.hpp"
#include "layers/concat.hpp"

namespace moka {
namespace {

// Moves one bottom's part of the top: `slice` values per concatenation, `to_top` picking the
// direction (data forward, diff backward).
template <typename Dtype>
__global__ void ConcatCopyKernel(int n, bool to_top, int slice, int top_slice, int offset,
                                 const Dtype* from, Dtype* to) {
  MOKA_CUDA_KERNEL_LOOP(index, n) {
    const int concat = index / slice;
    const int within = index % slice;
    const int top_index = concat * top_slice + offset + within;
    if (to_top) {
      to[top_index] = from[index];
    } else {
      to[index] = from[top_index];
    }
  }
}

}  // namespace

template <typename Dtype>
void ConcatLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  if (bottom.size() == 1) return;
  Dtype* y = top[0]->mutable_gpu_data();
  const int top_slice = top[0]->shape(axis_) * inner_size_;
  int offset = 0;
  for (auto* b : bottom) {
    const int slice = b->shape(axis_) * inner_size_;
    const int n = slice * num_concats_;
    if (n > 0) {
      ConcatCopyKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, true, slice, top_slice, offset,
                                                              b->gpu_data(), y);
      MOKA_CUDA_LAUNCH_CHECK();
    }
    offset += slice;
  }
}

template <typename Dtype>
void ConcatLayer<Dtype>::Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                      const BlobVec& bottom) {
  if (bottom.size() == 1) return;
  const Dtype* dy = top[0]->gpu_diff();
  const int top_slice = top[0]->shape(axis_) * inner_size_;
  int offset = 0;
  for (size_t i = 0; i < bottom.size(); ++i) {
    Blob<Dtype>* b = bottom[i];
    const int slice = b->shape(axis_) * inner_size_;
    const int n = slice * num_concats_;
    if (propagate_down[i] && n > 0) {
      ConcatCopyKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, false, slice, top_slice, offset,
                                                              dy, b->mutable_gpu_diff());
      MOKA_CUDA_LAUNCH_CHECK();
    }
    offset += slice;
  }
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(ConcatLayer);

}  // namespace moka
