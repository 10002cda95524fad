#include "cuda_check.hpp"
#include "layers/crop.hpp"
#include "math_functions_gpu.hpp"

namespace moka {
namespace {

// Passed by value to the kernels: the top's shape and, per axis, the bottom's stride and the
// window's offset.
struct CropGeometry {
  int num_axes;
  int top_shape[kMaxBlobAxes];
  int bottom_stride[kMaxBlobAxes];
  int offset[kMaxBlobAxes];
};

// One thread per top element; `to_top` picks the direction (data forward, diff backward).
template <typename Dtype>
__global__ void CropCopyKernel(int n, CropGeometry g, bool to_top, const Dtype* src, Dtype* dst) {
  MOKA_CUDA_KERNEL_LOOP(index, n) {
    int rest = index;
    size_t bottom_index = 0;
    for (int a = g.num_axes - 1; a >= 0; --a) {
      const int position = rest % g.top_shape[a];
      rest /= g.top_shape[a];
      bottom_index += static_cast<size_t>(position + g.offset[a]) * g.bottom_stride[a];
    }
    if (to_top) {
      dst[index] = src[bottom_index];
    } else {
      dst[bottom_index] = src[index];
    }
  }
}

template <typename Dtype>
CropGeometry Geometry(const Blob<Dtype>& bottom, const Blob<Dtype>& top,
                      const std::vector<int>& offsets) {
  CropGeometry g;
  g.num_axes = top.num_axes();
  int stride = 1;
  for (int a = g.num_axes - 1; a >= 0; --a) {
    g.top_shape[a] = top.shape(a);
    g.bottom_stride[a] = stride;
    g.offset[a] = offsets[a];
    stride *= bottom.shape(a);
  }
  return g;
}

}  // namespace

template <typename Dtype>
void CropLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  const int n = top[0]->count();
  if (n == 0) return;
  const CropGeometry g = Geometry(*bottom[0], *top[0], offsets_);
  CropCopyKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, g, true, bottom[0]->gpu_data(),
                                                         top[0]->mutable_gpu_data());
  MOKA_CUDA_LAUNCH_CHECK();
}

template <typename Dtype>
void CropLayer<Dtype>::Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                    const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  Dtype* dx = bottom[0]->mutable_gpu_diff();
  gpu_set(bottom[0]->count(), Dtype(0), dx);
  const int n = top[0]->count();
  if (n == 0) return;
  const CropGeometry g = Geometry(*bottom[0], *top[0], offsets_);
  CropCopyKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, g, false, top[0]->gpu_diff(), dx);
  MOKA_CUDA_LAUNCH_CHECK();
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(CropLayer);

}  // namespace moka
