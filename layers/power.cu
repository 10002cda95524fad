#include <cmath>

#include "layers/power.hpp"
#include "math_functions_gpu.hpp"

namespace moka {

// The same sequence of element-wise steps as the CPU code, so each value rounds the same way.
template <typename Dtype>
void PowerLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  const int n = bottom[0]->count();
  if (n == 0) return;
  Dtype* y = top[0]->mutable_gpu_data();
  if (diff_scale_ == Dtype(0)) {
    const Dtype value = power_ == Dtype(0) ? Dtype(1) : std::pow(shift_, power_);
    gpu_set(n, value, y);
    return;
  }
  const Dtype* x = bottom[0]->gpu_data();
  if (x != y) gpu_copy(n, x, y);
  if (scale_ != Dtype(1)) gpu_scal(n, scale_, y);
  if (shift_ != Dtype(0)) gpu_add_scalar(n, shift_, y);
  if (power_ != Dtype(1)) gpu_powx(n, y, power_, y);
}

template <typename Dtype>
void PowerLayer<Dtype>::Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                     const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const int n = bottom[0]->count();
  if (n == 0) return;
  Dtype* dx = bottom[0]->mutable_gpu_diff();
  const Dtype* dy = top[0]->gpu_diff();
  if (diff_scale_ == Dtype(0) || power_ == Dtype(1)) {
    gpu_set(n, diff_scale_, dx);
  } else {
    const Dtype* x = bottom[0]->gpu_data();
    if (power_ == Dtype(2)) {
      gpu_scale(n, diff_scale_ * scale_, x, dx);
      if (shift_ != Dtype(0)) gpu_add_scalar(n, diff_scale_ * shift_, dx);
    } else if (shift_ == Dtype(0)) {
      const Dtype* y = top[0]->gpu_data();
      gpu_div(n, y, x, dx);
      gpu_scal(n, power_, dx);
    } else {
      const Dtype* y = top[0]->gpu_data();
      gpu_copy(n, x, dx);
      if (scale_ != Dtype(1)) gpu_scal(n, scale_, dx);
      gpu_add_scalar(n, shift_, dx);
      gpu_div(n, y, dx, dx);
      gpu_scal(n, diff_scale_, dx);
    }
  }
  if (diff_scale_ != Dtype(0)) gpu_mul(n, dy, dx, dx);
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(PowerLayer);

}  // namespace moka
