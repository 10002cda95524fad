#include "cuda_check.hpp"
#include "layers/tile.hpp"

namespace moka {
namespace {

// The top is (outer, tiles, inner): every top element reads the bottom element of its
// (outer, inner) position.
template <typename Dtype>
__global__ void TileForwardKernel(int n, int tiles, int inner, const Dtype* x, Dtype* y) {
  MOKA_CUDA_KERNEL_LOOP(index, n) {
    const int outer = index / (tiles * inner);
    y[index] = x[outer * inner + index % inner];
  }
}

// One thread per bottom element sums its copies in tile order, as the CPU code does.
template <typename Dtype>
__global__ void TileBackwardKernel(int n, int tiles, int inner, const Dtype* dy, Dtype* dx) {
  MOKA_CUDA_KERNEL_LOOP(index, n) {
    const int outer = index / inner;
    const int within = index % inner;
    const Dtype* copies = dy + static_cast<size_t>(outer) * tiles * inner + within;
    Dtype sum = copies[0];
    for (int t = 1; t < tiles; ++t) sum += copies[static_cast<size_t>(t) * inner];
    dx[index] = sum;
  }
}

}  // namespace

template <typename Dtype>
void TileLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  const int n = top[0]->count();
  if (n == 0) return;
  TileForwardKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, tiles_, inner_dim_,
                                                            bottom[0]->gpu_data(),
                                                            top[0]->mutable_gpu_data());
  MOKA_CUDA_LAUNCH_CHECK();
}

template <typename Dtype>
void TileLayer<Dtype>::Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                    const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const int n = bottom[0]->count();
  if (n == 0) return;
  TileBackwardKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, tiles_, inner_dim_,
                                                             top[0]->gpu_diff(),
                                                             bottom[0]->mutable_gpu_diff());
  MOKA_CUDA_LAUNCH_CHECK();
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(TileLayer);

}  // namespace moka
