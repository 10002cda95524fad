#include <cmath>

#include "cuda_check.hpp"
#include "device_math.cuh"
#include "layers/multinomial_logistic_loss.hpp"
#include "math_functions_gpu.hpp"

namespace moka {
namespace {

// A label outside [0, dim) yields a NaN term, which sends the host to find and report it (a
// kernel cannot throw); it is never used as an index.
template <typename Dtype>
__global__ void LogisticLossForwardKernel(int num, int dim, const Dtype* p, const Dtype* labels,
                                          Dtype threshold, Dtype* losses) {
  MOKA_CUDA_KERNEL_LOOP(n, num) {
    const int label = device::ToInt(labels[n]);
    if (label < 0 || label >= dim) {
      losses[n] = static_cast<Dtype>(NAN);
      continue;
    }
    const Dtype prob = p[static_cast<size_t>(n) * dim + label];
    losses[n] = -device::Log(prob < threshold ? threshold : prob);
  }
}

template <typename Dtype>
__global__ void LogisticLossBackwardKernel(int num, int dim, const Dtype* p, const Dtype* labels,
                                           Dtype threshold, Dtype scale, Dtype* dx) {
  MOKA_CUDA_KERNEL_LOOP(n, num) {
    const int label = device::ToInt(labels[n]);
    if (label < 0 || label >= dim) continue;
    const size_t index = static_cast<size_t>(n) * dim + label;
    dx[index] = scale / (p[index] < threshold ? threshold : p[index]);
  }
}

}  // namespace

template <typename Dtype>
void MultinomialLogisticLossLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  const int num = bottom[0]->shape(0);
  double loss = 0;
  if (num > 0) {
    const int dim = bottom[0]->count() / num;
    gpu_losses_.Reshape({num});
    LogisticLossForwardKernel<Dtype><<<CudaBlocks(num), kCudaThreads>>>(
        num, dim, bottom[0]->gpu_data(), bottom[1]->gpu_data(), Dtype(kLogThreshold),
        gpu_losses_.mutable_gpu_data());
    MOKA_CUDA_LAUNCH_CHECK();
    loss = gpu_sum(num, gpu_losses_.gpu_data());
    if (std::isnan(loss)) {
      const Dtype* labels = bottom[1]->cpu_data();
      for (int n = 0; n < num; ++n) LabelAt(labels, n, dim);
    }
  }
  top[0]->mutable_cpu_data()[0] = static_cast<Dtype>(loss) / num;
}

template <typename Dtype>
void MultinomialLogisticLossLayer<Dtype>::Backward_gpu(const BlobVec& top,
                                                       const std::vector<bool>& propagate_down,
                                                       const BlobVec& bottom) {
  MOKA_CHECK(!propagate_down[1], ConfigError, "cannot backpropagate to the labels (bottom 1)");
  if (!propagate_down[0]) return;
  const int num = bottom[0]->shape(0);
  Dtype* dx = bottom[0]->mutable_gpu_diff();
  gpu_set(bottom[0]->count(), Dtype(0), dx);
  if (num == 0 || bottom[0]->count() == 0) return;
  const Dtype scale = -top[0]->cpu_diff()[0] / num;
  LogisticLossBackwardKernel<Dtype><<<CudaBlocks(num), kCudaThreads>>>(
      num, bottom[0]->count() / num, bottom[0]->gpu_data(), bottom[1]->gpu_data(),
      Dtype(kLogThreshold), scale, dx);
  MOKA_CUDA_LAUNCH_CHECK();
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(MultinomialLogisticLossLayer);

}  // namespace moka
