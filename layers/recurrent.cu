#include "cuda_check.hpp"
#include "layers/recurrent.hpp"

namespace moka {
namespace recurrent_gpu {
namespace {

template <typename Dtype>
__global__ void ScaleRowsKernel(int count, int width, const Dtype* cont, const Dtype* x, Dtype* y) {
  MOKA_CUDA_KERNEL_LOOP(i, count) y[i] = cont[i / width] * x[i];
}

}  // namespace

template <typename Dtype>
void ScaleRows(int streams, int width, const Dtype* cont, const Dtype* x, Dtype* y) {
  const int count = streams * width;
  if (count == 0) return;
  ScaleRowsKernel<Dtype><<<CudaBlocks(count), kCudaThreads>>>(count, width, cont, x, y);
  MOKA_CUDA_LAUNCH_CHECK();
}

template void ScaleRows<float>(int, int, const float*, const float*, float*);
template void ScaleRows<double>(int, int, const double*, const double*, double*);

}  // namespace recurrent_gpu
}  // namespace moka
