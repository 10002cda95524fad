#include <cmath>

#include "cuda_check.hpp"
#include "device_math.cuh"
#include "layers/hinge_loss.hpp"
#include "math_functions_gpu.hpp"

namespace moka {
namespace {

// t = max(0, 1 + s * x) with s = -1 at the label. A label outside [0, dim) makes its sample's
// margins NaN, which sends the host to find and report it (a kernel cannot throw).
template <typename Dtype>
__global__ void HingeMarginKernel(int n, int dim, const Dtype* x, const Dtype* labels, Dtype* t) {
  MOKA_CUDA_KERNEL_LOOP(i, n) {
    const int label = device::ToInt(labels[i / dim]);
    if (label < 0 || label >= dim) {
      t[i] = static_cast<Dtype>(NAN);
      continue;
    }
    const Dtype v = Dtype(1) + (i % dim == label ? -x[i] : x[i]);
    // std::max(0, v): NaN scores give 0, as on the CPU.
    t[i] = Dtype(0) < v ? v : Dtype(0);
  }
}

// dL/dx = s * sign(t) * scale (L1) or s * t * scale (L2), s the margin's sign of x.
template <typename Dtype>
__global__ void HingeBackwardKernel(int n, int dim, const Dtype* t, const Dtype* labels, bool l1,
                                    Dtype scale, Dtype* dx) {
  MOKA_CUDA_KERNEL_LOOP(i, n) {
    const int label = device::ToInt(labels[i / dim]);
    const Dtype v = i % dim == label ? -t[i] : t[i];
    dx[i] = (l1 ? Dtype((Dtype(0) < v) - (v < Dtype(0))) : v) * scale;
  }
}

}  // namespace

template <typename Dtype>
void HingeLossLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  const HingeLossParameter::Norm norm = this->layer_param_.hinge_loss_param().norm();
  MOKA_CHECK(norm == HingeLossParameter::L1 || norm == HingeLossParameter::L2, ConfigError,
             "unknown hinge_loss_param norm " << static_cast<int>(norm));
  const int num = bottom[0]->shape(0);
  const int count = bottom[0]->count();
  Dtype* t = margins_.mutable_gpu_data();
  Dtype loss = 0;
  if (count > 0) {
    const int dim = count / num;
    HingeMarginKernel<Dtype><<<CudaBlocks(count), kCudaThreads>>>(count, dim,
                                                                  bottom[0]->gpu_data(),
                                                                  bottom[1]->gpu_data(), t);
    MOKA_CUDA_LAUNCH_CHECK();
    loss = norm == HingeLossParameter::L1 ? gpu_asum(count, t) : gpu_dot(count, t, t);
    if (std::isnan(loss)) {
      const Dtype* labels = bottom[1]->cpu_data();
      for (int n = 0; n < num; ++n) LabelAt(labels, n, dim);
    }
  }
  top[0]->mutable_cpu_data()[0] = loss / num;
}

template <typename Dtype>
void HingeLossLayer<Dtype>::Backward_gpu(const BlobVec& top,
                                         const std::vector<bool>& propagate_down,
                                         const BlobVec& bottom) {
  MOKA_CHECK(!propagate_down[1], ConfigError, "cannot backpropagate to the labels (bottom 1)");
  if (!propagate_down[0]) return;
  const int num = bottom[0]->shape(0);
  const int count = bottom[0]->count();
  if (count == 0) return;
  const bool l1 = this->layer_param_.hinge_loss_param().norm() == HingeLossParameter::L1;
  const Dtype loss_weight = top[0]->cpu_diff()[0];
  const Dtype scale = l1 ? loss_weight / num : loss_weight * 2 / num;
  HingeBackwardKernel<Dtype><<<CudaBlocks(count), kCudaThreads>>>(
      count, count / num, margins_.gpu_data(), bottom[1]->gpu_data(), l1, scale,
      bottom[0]->mutable_gpu_diff());
  MOKA_CUDA_LAUNCH_CHECK();
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(HingeLossLayer);

}  // namespace moka
