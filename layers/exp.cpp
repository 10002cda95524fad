#include "layers/exp.hpp"

#include <cmath>

#include "layer_registry.hpp"
#include "math_functions.hpp"

namespace moka {

template <typename Dtype>
void ExpLayer<Dtype>::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  const ExpParameter& param = this->layer_param_.exp_param();
  const Dtype base = param.base();
  MOKA_CHECK(base == Dtype(-1) || base > 0, ConfigError,
             "exp_param base must be positive or -1 (for e), got " << param.base());
  const Dtype log_base = base == Dtype(-1) ? Dtype(1) : std::log(base);
  inner_scale_ = log_base * Dtype(param.scale());
  const Dtype shift = param.shift();
  outer_scale_ =
      shift == Dtype(0) ? Dtype(1) : (base == Dtype(-1) ? std::exp(shift) : std::pow(base, shift));
}

template <typename Dtype>
void ExpLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  const int n = bottom[0]->count();
  const Dtype* x = bottom[0]->cpu_data();
  Dtype* y = top[0]->mutable_cpu_data();
  if (inner_scale_ == Dtype(1)) {
    cpu_exp(n, x, y);
  } else {
    cpu_scale(n, inner_scale_, x, y);
    cpu_exp(n, y, y);
  }
  if (outer_scale_ != Dtype(1)) cpu_scal(n, outer_scale_, y);
}

template <typename Dtype>
void ExpLayer<Dtype>::Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                   const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const int n = bottom[0]->count();
  Dtype* dx = bottom[0]->mutable_cpu_diff();
  cpu_mul(n, top[0]->cpu_diff(), top[0]->cpu_data(), dx);
  if (inner_scale_ != Dtype(1)) cpu_scal(n, inner_scale_, dx);
}

MOKA_INSTANTIATE_CLASS(ExpLayer);
MOKA_REGISTER_LAYER(Exp);

}  // namespace moka
