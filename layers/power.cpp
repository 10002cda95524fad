#include "layers/power.hpp"

#include <cmath>

#include "layer_registry.hpp"
#include "math_functions.hpp"

namespace moka {

template <typename Dtype>
void PowerLayer<Dtype>::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  const PowerParameter& param = this->layer_param_.power_param();
  power_ = param.power();
  scale_ = param.scale();
  shift_ = param.shift();
  diff_scale_ = power_ * scale_;
}

template <typename Dtype>
void PowerLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  Dtype* y = top[0]->mutable_cpu_data();
  const int n = bottom[0]->count();
  if (diff_scale_ == Dtype(0)) {
    // power 0 gives 1 everywhere; scale 0 gives shift^power everywhere.
    const Dtype value = power_ == Dtype(0) ? Dtype(1) : std::pow(shift_, power_);
    cpu_set(n, value, y);
    return;
  }
  const Dtype* x = bottom[0]->cpu_data();
  if (x != y) cpu_copy(n, x, y);
  if (scale_ != Dtype(1)) cpu_scal(n, scale_, y);
  if (shift_ != Dtype(0)) cpu_add_scalar(n, shift_, y);
  if (power_ != Dtype(1)) cpu_powx(n, y, power_, y);
}

template <typename Dtype>
void PowerLayer<Dtype>::Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                     const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  Dtype* dx = bottom[0]->mutable_cpu_diff();
  const int n = bottom[0]->count();
  const Dtype* dy = top[0]->cpu_diff();
  if (diff_scale_ == Dtype(0) || power_ == Dtype(1)) {
    cpu_set(n, diff_scale_, dx);
  } else {
    const Dtype* x = bottom[0]->cpu_data();
    // The special cases below follow Caffe's, so the rounding matches too.
    if (power_ == Dtype(2)) {
      // 2 * scale * (shift + scale * x)
      cpu_scale(n, diff_scale_ * scale_, x, dx);
      if (shift_ != Dtype(0)) cpu_add_scalar(n, diff_scale_ * shift_, dx);
    } else if (shift_ == Dtype(0)) {
      // power * (scale x)^power / x
      const Dtype* y = top[0]->cpu_data();
      cpu_div(n, y, x, dx);
      cpu_scal(n, power_, dx);
    } else {
      // power * scale * y / (shift + scale x)
      const Dtype* y = top[0]->cpu_data();
      cpu_copy(n, x, dx);
      if (scale_ != Dtype(1)) cpu_scal(n, scale_, dx);
      cpu_add_scalar(n, shift_, dx);
      cpu_div(n, y, dx, dx);
      cpu_scal(n, diff_scale_, dx);
    }
  }
  if (diff_scale_ != Dtype(0)) cpu_mul(n, dy, dx, dx);
}

MOKA_INSTANTIATE_CLASS(PowerLayer);
MOKA_REGISTER_LAYER(Power);

}  // namespace moka
