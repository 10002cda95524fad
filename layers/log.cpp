#include "layers/log.hpp"

#include <cmath>

#include "layer_registry.hpp"
#include "math_functions.hpp"

namespace moka {

template <typename Dtype>
void LogLayer<Dtype>::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  const LogParameter& param = this->layer_param_.log_param();
  const Dtype base = param.base();
  MOKA_CHECK(base == Dtype(-1) || base > 0, ConfigError,
             "log_param base must be positive or -1 (for e), got " << param.base());
  const Dtype log_base = base == Dtype(-1) ? Dtype(1) : std::log(base);
  MOKA_CHECK(std::isfinite(log_base) && log_base != Dtype(0), ConfigError,
             "log_param base " << param.base() << " has no usable logarithm");
  base_scale_ = Dtype(1) / log_base;
  input_scale_ = param.scale();
  input_shift_ = param.shift();
  backward_num_scale_ = input_scale_ * base_scale_;
}

template <typename Dtype>
void LogLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  NeuronLayer<Dtype>::Reshape(bottom, top);
  buffer_.ReshapeLike(*bottom[0]);
}

template <typename Dtype>
void LogLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  const int n = bottom[0]->count();
  const Dtype* x = bottom[0]->cpu_data();
  Dtype* y = top[0]->mutable_cpu_data();
  if (input_scale_ == Dtype(1) && input_shift_ == Dtype(0)) {
    cpu_log(n, x, y);
  } else {
    if (x != y) cpu_copy(n, x, y);
    if (input_scale_ != Dtype(1)) cpu_scal(n, input_scale_, y);
    if (input_shift_ != Dtype(0)) cpu_add_scalar(n, input_shift_, y);
    cpu_log(n, y, y);
  }
  if (base_scale_ != Dtype(1)) cpu_scal(n, base_scale_, y);
}

template <typename Dtype>
void LogLayer<Dtype>::Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                   const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const int n = bottom[0]->count();
  Dtype* u = buffer_.mutable_cpu_data();
  cpu_copy(n, bottom[0]->cpu_data(), u);
  if (input_scale_ != Dtype(1)) cpu_scal(n, input_scale_, u);
  if (input_shift_ != Dtype(0)) cpu_add_scalar(n, input_shift_, u);
  cpu_powx(n, u, Dtype(-1), u);
  if (backward_num_scale_ != Dtype(1)) cpu_scal(n, backward_num_scale_, u);
  cpu_mul(n, top[0]->cpu_diff(), u, bottom[0]->mutable_cpu_diff());
}

MOKA_INSTANTIATE_CLASS(LogLayer);
MOKA_REGISTER_LAYER(Log);

}  // namespace moka
