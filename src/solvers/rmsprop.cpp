#include "math_functions.hpp"
#ifdef MOKA_CUDA
#include "solvers/sgd_update.hpp"
#endif
#include "solver_registry.hpp"
#include "solvers/sgd.hpp"

namespace moka {

template <typename Dtype>
RmsPropSolver<Dtype>::RmsPropSolver(const SolverParameter& param, std::shared_ptr<Context> context)
    : SgdSolver<Dtype>(param, std::move(context)) {
  MOKA_CHECK(this->param_.momentum() == 0, ConfigError,
             "momentum cannot be used with RMSProp (got " << this->param_.momentum() << ")");
  MOKA_CHECK(this->param_.rms_decay() >= 0 && this->param_.rms_decay() < 1, ConfigError,
             "rms_decay must lie in [0, 1), got " << this->param_.rms_decay());
}

template <typename Dtype>
void RmsPropSolver<Dtype>::ComputeUpdateValue(int param_id, Dtype rate) {
  Blob<Dtype>* param_blob = this->net_->learnable_params()[param_id];
  const Dtype delta = this->param_.delta();
  const Dtype rms_decay = this->param_.rms_decay();
  const Dtype local_rate = rate * this->net_->params_lr()[param_id];
  const int count = param_blob->count();
  if (count == 0) return;
#ifdef MOKA_CUDA
  if (this->update_on_gpu()) {
    RmsPropUpdateGpu(count, param_blob->mutable_gpu_diff(),
                     this->history_[param_id]->mutable_gpu_data(), rms_decay, delta, local_rate);
    return;
  }
#endif
  const Dtype* gradient = param_blob->cpu_diff();
  Dtype* history = this->history_[param_id]->mutable_cpu_data();
  Dtype* scratch = this->update_[param_id]->mutable_cpu_data();

  cpu_powx(count, gradient, Dtype(2), scratch);
  cpu_axpby(count, Dtype(1) - rms_decay, static_cast<const Dtype*>(scratch), rms_decay, history);
  cpu_powx(count, static_cast<const Dtype*>(history), Dtype(0.5), scratch);
  cpu_add_scalar(count, delta, scratch);
  cpu_div(count, gradient, static_cast<const Dtype*>(scratch), scratch);
  cpu_scale(count, local_rate, static_cast<const Dtype*>(scratch), param_blob->mutable_cpu_diff());
}

MOKA_INSTANTIATE_CLASS(RmsPropSolver);
MOKA_REGISTER_SOLVER(RMSProp, RmsPropSolver);

}  // namespace moka
