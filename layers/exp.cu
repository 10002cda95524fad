#include "layers/exp.hpp"
#include "math_functions_gpu.hpp"

namespace moka {

template <typename Dtype>
void ExpLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  const int n = bottom[0]->count();
  if (n == 0) return;
  const Dtype* x = bottom[0]->gpu_data();
  Dtype* y = top[0]->mutable_gpu_data();
  if (inner_scale_ == Dtype(1)) {
    gpu_exp(n, x, y);
  } else {
    gpu_scale(n, inner_scale_, x, y);
    gpu_exp(n, y, y);
  }
  if (outer_scale_ != Dtype(1)) gpu_scal(n, outer_scale_, y);
}

template <typename Dtype>
void ExpLayer<Dtype>::Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                   const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const int n = bottom[0]->count();
  if (n == 0) return;
  Dtype* dx = bottom[0]->mutable_gpu_diff();
  gpu_mul(n, top[0]->gpu_diff(), top[0]->gpu_data(), dx);
  if (inner_scale_ != Dtype(1)) gpu_scal(n, inner_scale_, dx);
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(ExpLayer);

}  // namespace moka
