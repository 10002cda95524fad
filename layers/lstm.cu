#include "cuda_check.hpp"
#include "layers/lstm.hpp"
#include "layers/lstm_unit.hpp"

namespace moka {
namespace lstm_gpu {
namespace {

template <typename Dtype>
__global__ void StepForwardKernel(int count, int H, const Dtype* static_gates, const Dtype* c_prev,
                                  const Dtype* cont, Dtype* gates, Dtype* c, Dtype* h) {
  MOKA_CUDA_KERNEL_LOOP(index, count) {
    const int n = index / H;
    const int gate = n * 4 * H + index % H;
    h[index] = lstm_math::StepForward(H, gates + gate,
                                      static_gates == nullptr ? nullptr : static_gates + gate,
                                      c_prev[index], cont[n], &c[index]);
  }
}

template <typename Dtype>
__global__ void StepBackwardKernel(int count, int H, const Dtype* gates, const Dtype* c_prev,
                                   const Dtype* c, const Dtype* dh_top, const Dtype* dh_next,
                                   const Dtype* cont_next, Dtype* dc, Dtype* dgates) {
  MOKA_CUDA_KERNEL_LOOP(index, count) {
    const int n = index / H;
    const int gate = n * 4 * H + index % H;
    const Dtype dh =
        dh_next == nullptr ? dh_top[index] : dh_top[index] + cont_next[n] * dh_next[index];
    lstm_math::StepBackward(H, gates + gate, c_prev[index], c[index], dh, &dc[index],
                            dgates + gate);
  }
}

}  // namespace

template <typename Dtype>
void StepForward(int streams, int hidden, const Dtype* static_gates, const Dtype* c_prev,
                 const Dtype* cont, Dtype* gates, Dtype* c, Dtype* h) {
  const int count = streams * hidden;
  if (count == 0) return;
  StepForwardKernel<Dtype>
      <<<CudaBlocks(count), kCudaThreads>>>(count, hidden, static_gates, c_prev, cont, gates, c, h);
  MOKA_CUDA_LAUNCH_CHECK();
}

template <typename Dtype>
void StepBackward(int streams, int hidden, const Dtype* gates, const Dtype* c_prev, const Dtype* c,
                  const Dtype* dh_top, const Dtype* dh_next, const Dtype* cont_next, Dtype* dc,
                  Dtype* dgates) {
  const int count = streams * hidden;
  if (count == 0) return;
  StepBackwardKernel<Dtype><<<CudaBlocks(count), kCudaThreads>>>(
      count, hidden, gates, c_prev, c, dh_top, dh_next, cont_next, dc, dgates);
  MOKA_CUDA_LAUNCH_CHECK();
}

template void StepForward<float>(int, int, const float*, const float*, const float*, float*, float*,
                                 float*);
template void StepForward<double>(int, int, const double*, const double*, const double*, double*,
                                  double*, double*);
template void StepBackward<float>(int, int, const float*, const float*, const float*, const float*,
                                  const float*, const float*, float*, float*);
template void StepBackward<double>(int, int, const double*, const double*, const double*,
                                   const double*, const double*, const double*, double*, double*);

}  // namespace lstm_gpu

template <typename Dtype>
void LSTMLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  Run(bottom, top);
}

template <typename Dtype>
void LSTMLayer<Dtype>::Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                    const BlobVec& bottom) {
  RunBackward(top, propagate_down, bottom);
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(LSTMLayer);

}  // namespace moka
