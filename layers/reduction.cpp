#include "layers/reduction.hpp"

#include "layer_registry.hpp"
#include "math_functions.hpp"

namespace moka {

template <typename Dtype>
void ReductionLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  const ReductionParameter& param = this->layer_param_.reduction_param();
  op_ = param.operation();
  const int axis = bottom[0]->CanonicalAxisIndex(param.axis());
  top[0]->Reshape(std::vector<int>(bottom[0]->shape().begin(), bottom[0]->shape().begin() + axis));
  num_ = bottom[0]->count(0, axis);
  dim_ = bottom[0]->count(axis);
  if (sum_multiplier_.count() != dim_) {
    sum_multiplier_.Reshape({dim_});
    sum_multiplier_.set_data(1);
  }
  coeff_ = param.coeff();
  if (op_ == ReductionParameter::MEAN) coeff_ /= dim_;
}

template <typename Dtype>
void ReductionLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  const Dtype* x = bottom[0]->cpu_data();
  const Dtype* ones = sum_multiplier_.cpu_data();
  Dtype* y = top[0]->mutable_cpu_data();
  for (int i = 0; i < num_; ++i) {
    switch (op_) {
      case ReductionParameter::SUM:
      case ReductionParameter::MEAN:
        y[i] = cpu_dot(dim_, ones, x);
        break;
      case ReductionParameter::ASUM:
        y[i] = cpu_asum(dim_, x);
        break;
      case ReductionParameter::SUMSQ:
        y[i] = cpu_dot(dim_, x, x);
        break;
      default:
        MOKA_THROW(ConfigError, "unknown reduction operation " << static_cast<int>(op_));
    }
    x += dim_;
  }
  if (coeff_ != Dtype(1)) cpu_scal(num_, coeff_, y);
}

template <typename Dtype>
void ReductionLayer<Dtype>::Backward_cpu(const BlobVec& top,
                                         const std::vector<bool>& propagate_down,
                                         const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const Dtype* x = bottom[0]->cpu_data();
  const Dtype* dy = top[0]->cpu_diff();
  Dtype* dx = bottom[0]->mutable_cpu_diff();
  for (int i = 0; i < num_; ++i) {
    const Dtype g = dy[i] * coeff_;
    switch (op_) {
      case ReductionParameter::SUM:
      case ReductionParameter::MEAN:
        cpu_set(dim_, g, dx);
        break;
      case ReductionParameter::ASUM:
        cpu_sign(dim_, x, dx);
        cpu_scal(dim_, g, dx);
        break;
      case ReductionParameter::SUMSQ:
        cpu_scale(dim_, 2 * g, x, dx);
        break;
      default:
        MOKA_THROW(ConfigError, "unknown reduction operation " << static_cast<int>(op_));
    }
    x += dim_;
    dx += dim_;
  }
}

MOKA_INSTANTIATE_CLASS(ReductionLayer);
MOKA_REGISTER_LAYER(Reduction);

}  // namespace moka
