#include "math_functions.hpp"
#ifdef MOKA_CUDA
#include "solvers/sgd_update.hpp"
#endif
#include "solver_registry.hpp"
#include "solvers/sgd.hpp"

namespace moka {

template <typename Dtype>
AdaDeltaSolver<Dtype>::AdaDeltaSolver(const SolverParameter& param,
                                      std::shared_ptr<Context> context)
    : SgdSolver<Dtype>(param, std::move(context)) {
  this->AddHistorySet();
}

template <typename Dtype>
void AdaDeltaSolver<Dtype>::ComputeUpdateValue(int param_id, Dtype rate) {
  Blob<Dtype>* param_blob = this->net_->learnable_params()[param_id];
  const Dtype delta = this->param_.delta();
  const Dtype decay = this->param_.momentum();
  const Dtype local_rate = rate * this->net_->params_lr()[param_id];
  const int count = param_blob->count();
  if (count == 0) return;
#ifdef MOKA_CUDA
  if (this->update_on_gpu()) {
    AdaDeltaUpdateGpu(count, param_blob->mutable_gpu_diff(),
                      this->history_[param_id]->mutable_gpu_data(),
                      this->history_[this->num_params() + param_id]->mutable_gpu_data(), decay,
                      delta, local_rate);
    return;
  }
#endif
  Dtype* gradient = param_blob->mutable_cpu_diff();
  Dtype* gradient_history = this->history_[param_id]->mutable_cpu_data();
  Dtype* update_history = this->history_[this->num_params() + param_id]->mutable_cpu_data();
  Dtype* ratio = this->update_[param_id]->mutable_cpu_data();
  Dtype* denominator = this->temp_[param_id]->mutable_cpu_data();

  cpu_powx(count, static_cast<const Dtype*>(gradient), Dtype(2), ratio);
  cpu_axpby(count, Dtype(1) - decay, static_cast<const Dtype*>(ratio), decay, gradient_history);
  // ratio = (h2 + delta) / (h + delta), summed in this order so rounding matches Caffe.
  cpu_set(count, delta, denominator);
  cpu_add(count, static_cast<const Dtype*>(denominator), static_cast<const Dtype*>(update_history),
          ratio);
  cpu_add(count, static_cast<const Dtype*>(denominator),
          static_cast<const Dtype*>(gradient_history), denominator);
  cpu_div(count, static_cast<const Dtype*>(ratio), static_cast<const Dtype*>(denominator), ratio);
  cpu_powx(count, static_cast<const Dtype*>(ratio), Dtype(0.5), ratio);
  cpu_mul(count, static_cast<const Dtype*>(gradient), static_cast<const Dtype*>(ratio), gradient);
  cpu_powx(count, static_cast<const Dtype*>(gradient), Dtype(2), ratio);
  cpu_axpby(count, Dtype(1) - decay, static_cast<const Dtype*>(ratio), decay, update_history);
  cpu_scale(count, local_rate, static_cast<const Dtype*>(gradient), gradient);
}

MOKA_INSTANTIATE_CLASS(AdaDeltaSolver);
MOKA_REGISTER_SOLVER(AdaDelta, AdaDeltaSolver);

}  // namespace moka
