#include <memory>

#include "cuda_check.hpp"
#include "layers/filter.hpp"

namespace moka {
namespace {

// top[k, :] = bottom[rows[k], :]
template <typename Dtype>
__global__ void FilterForwardKernel(int n, int dim, const int* rows, const Dtype* x, Dtype* y) {
  MOKA_CUDA_KERNEL_LOOP(i, n) {
    y[i] = x[static_cast<size_t>(rows[i / dim]) * dim + i % dim];
  }
}

// Every bottom row takes the diff of the top row it went to (top_row[n]), or zero when dropped.
template <typename Dtype>
__global__ void FilterBackwardKernel(int n, int dim, const int* top_row, const Dtype* dy,
                                     Dtype* dx) {
  MOKA_CUDA_KERNEL_LOOP(i, n) {
    const int row = top_row[i / dim];
    dx[i] = row >= 0 ? dy[static_cast<size_t>(row) * dim + i % dim] : Dtype(0);
  }
}

}  // namespace

// The output shape depends on the selector's values, so Reshape reads the (small) selector blob on
// the host, as the CPU path does; the selected rows, and for backward the top row of each bottom
// row, then go to the device in one small upload per pass.
template <typename Dtype>
void FilterLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  const int selected = static_cast<int>(indices_to_forward_.size());
  const int num = bottom.back()->shape(0);
  const size_t bytes = static_cast<size_t>(selected + num) * sizeof(int);
  if (bytes == 0) return;
  if (!gpu_rows_ || gpu_rows_->size() != bytes) gpu_rows_ = std::make_unique<SyncedMemory>(bytes);
  int* host = static_cast<int*>(gpu_rows_->mutable_cpu_data());
  int* top_row = host + selected;
  for (int n = 0; n < num; ++n) top_row[n] = -1;
  for (int k = 0; k < selected; ++k) {
    host[k] = indices_to_forward_[k];
    top_row[indices_to_forward_[k]] = k;
  }
  const int* rows = static_cast<const int*>(gpu_rows_->gpu_data());
  for (size_t t = 0; t < top.size(); ++t) {
    const int dim = bottom[t]->count(1);
    const int n = selected * dim;
    if (n == 0) continue;
    FilterForwardKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, dim, rows, bottom[t]->gpu_data(),
                                                                top[t]->mutable_gpu_data());
    MOKA_CUDA_LAUNCH_CHECK();
  }
}

template <typename Dtype>
void FilterLayer<Dtype>::Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                      const BlobVec& bottom) {
  MOKA_CHECK(!propagate_down.back(), ConfigError,
             "cannot backpropagate to the selector (its last bottom); set propagate_down: false");
  const int selected = static_cast<int>(indices_to_forward_.size());
  const int num = bottom.back()->shape(0);
  const size_t bytes = static_cast<size_t>(selected + num) * sizeof(int);
  for (size_t i = 0; i < top.size(); ++i) {
    if (!propagate_down[i]) continue;
    const int n = bottom[i]->count();
    if (n == 0) continue;
    MOKA_CHECK(gpu_rows_ && gpu_rows_->size() == bytes, InternalError,
               "Backward without a GPU Forward of the same selection");
    const int* top_row = static_cast<const int*>(gpu_rows_->gpu_data()) + selected;
    FilterBackwardKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(
        n, bottom[i]->count(1), top_row, top[i]->gpu_diff(), bottom[i]->mutable_gpu_diff());
    MOKA_CUDA_LAUNCH_CHECK();
  }
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(FilterLayer);

}  // namespace moka
