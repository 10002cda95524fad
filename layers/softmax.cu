#include "cuda_check.hpp"
#include "device_math.cuh"
#include "layers/softmax.hpp"

namespace moka {
namespace {

// One thread per (outer, inner) position walks the channel axis, so in-place use is safe.
template <typename Dtype>
__global__ void SoftmaxForwardKernel(int positions, int channels, int inner_num, const Dtype* x,
                                     Dtype* y) {
  MOKA_CUDA_KERNEL_LOOP(index, positions) {
    const int outer = index / inner_num;
    const int inner = index % inner_num;
    const int base = outer * channels * inner_num + inner;
    Dtype max_value = x[base];
    for (int c = 1; c < channels; ++c) {
      const Dtype v = x[base + c * inner_num];
      max_value = max_value < v ? v : max_value;
    }
    Dtype sum = 0;
    for (int c = 0; c < channels; ++c) {
      const Dtype e = device::Exp(x[base + c * inner_num] - max_value);
      y[base + c * inner_num] = e;
      sum += e;
    }
    for (int c = 0; c < channels; ++c) y[base + c * inner_num] /= sum;
  }
}

template <typename Dtype>
__global__ void SoftmaxBackwardKernel(int positions, int channels, int inner_num, const Dtype* y,
                                      const Dtype* dy, Dtype* dx) {
  MOKA_CUDA_KERNEL_LOOP(index, positions) {
    const int outer = index / inner_num;
    const int inner = index % inner_num;
    const int base = outer * channels * inner_num + inner;
    Dtype dot = 0;
    for (int c = 0; c < channels; ++c) dot += dy[base + c * inner_num] * y[base + c * inner_num];
    for (int c = 0; c < channels; ++c) {
      const int i = base + c * inner_num;
      dx[i] = (dy[i] - dot) * y[i];
    }
  }
}

}  // namespace

template <typename Dtype>
void SoftmaxGpu(int outer_num, int channels, int inner_num, const Dtype* x, Dtype* y) {
  const int positions = outer_num * inner_num;
  if (positions == 0 || channels == 0) return;
  SoftmaxForwardKernel<Dtype><<<CudaBlocks(positions), kCudaThreads>>>(positions, channels,
                                                                        inner_num, x, y);
  MOKA_CUDA_LAUNCH_CHECK();
}

template void SoftmaxGpu<float>(int, int, int, const float*, float*);
template void SoftmaxGpu<double>(int, int, int, const double*, double*);

template <typename Dtype>
void SoftmaxLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  SoftmaxGpu(outer_num_, channels_, inner_num_, bottom[0]->gpu_data(), top[0]->mutable_gpu_data());
}

template <typename Dtype>
void SoftmaxLayer<Dtype>::Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                       const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const int positions = outer_num_ * inner_num_;
  const Dtype* y = top[0]->gpu_data();
  const Dtype* dy = top[0]->gpu_diff();
  Dtype* dx = bottom[0]->mutable_gpu_diff();
  if (positions == 0 || channels_ == 0) return;
  SoftmaxBackwardKernel<Dtype><<<CudaBlocks(positions), kCudaThreads>>>(positions, channels_,
                                                                         inner_num_, y, dy, dx);
  MOKA_CUDA_LAUNCH_CHECK();
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(SoftmaxLayer);

}  // namespace moka
