#include "cuda_check.hpp"
#include "layers/lstm_unit.hpp"

namespace moka {
namespace {

template <typename Dtype>
__global__ void ForwardKernel(int count, int H, const Dtype* c_prev, const Dtype* x,
                              const Dtype* cont, Dtype* c, Dtype* h) {
  MOKA_CUDA_KERNEL_LOOP(index, count) {
    lstm_math::UnitForwardAt(index, H, c_prev, x, cont, c, h);
  }
}

template <typename Dtype>
__global__ void BackwardKernel(int count, int H, const Dtype* c_prev, const Dtype* x,
                               const Dtype* cont, const Dtype* c, const Dtype* dc, const Dtype* dh,
                               Dtype* c_prev_diff, Dtype* x_diff) {
  MOKA_CUDA_KERNEL_LOOP(index, count) {
    lstm_math::UnitBackwardAt(index, H, c_prev, x, cont, c, dc, dh, c_prev_diff, x_diff);
  }
}

template <typename Dtype>
void LaunchForward(int count, int hidden, const Dtype* c_prev, const Dtype* x, const Dtype* cont,
                   Dtype* c, Dtype* h) {
  if (count == 0) return;
  ForwardKernel<Dtype><<<CudaBlocks(count), kCudaThreads>>>(count, hidden, c_prev, x, cont, c, h);
  MOKA_CUDA_LAUNCH_CHECK();
}

template <typename Dtype>
void LaunchBackward(int count, int hidden, const Dtype* c_prev, const Dtype* x, const Dtype* cont,
                    const Dtype* c, const Dtype* dc, const Dtype* dh, Dtype* c_prev_diff,
                    Dtype* x_diff) {
  if (count == 0) return;
  BackwardKernel<Dtype><<<CudaBlocks(count), kCudaThreads>>>(count, hidden, c_prev, x, cont, c, dc,
                                                             dh, c_prev_diff, x_diff);
  MOKA_CUDA_LAUNCH_CHECK();
}

}  // namespace

template <typename Dtype>
void LSTMUnitLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  LaunchForward<Dtype>(bottom[0]->count(), hidden_, bottom[0]->gpu_data(), bottom[1]->gpu_data(),
                       bottom[2]->gpu_data(), top[0]->mutable_gpu_data(),
                       top[1]->mutable_gpu_data());
}

template <typename Dtype>
void LSTMUnitLayer<Dtype>::Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                        const BlobVec& bottom) {
  if (!propagate_down[0] && !propagate_down[1]) return;
  LaunchBackward<Dtype>(bottom[0]->count(), hidden_, bottom[0]->gpu_data(), bottom[1]->gpu_data(),
                        bottom[2]->gpu_data(), top[0]->gpu_data(), top[0]->gpu_diff(),
                        top[1]->gpu_diff(),
                        propagate_down[0] ? bottom[0]->mutable_gpu_diff() : nullptr,
                        propagate_down[1] ? bottom[1]->mutable_gpu_diff() : nullptr);
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(LSTMUnitLayer);

}  // namespace moka
