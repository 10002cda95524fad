#include "math_functions.hpp"
#ifdef MOKA_CUDA
#include "solvers/sgd_update.hpp"
#endif
#include "solver_registry.hpp"
#include "solvers/sgd.hpp"

namespace moka {

template <typename Dtype>
AdaGradSolver<Dtype>::AdaGradSolver(const SolverParameter& param, std::shared_ptr<Context> context)
    : SgdSolver<Dtype>(param, std::move(context)) {
  MOKA_CHECK(this->param_.momentum() == 0, ConfigError,
             "momentum cannot be used with AdaGrad (got " << this->param_.momentum() << ")");
}

template <typename Dtype>
void AdaGradSolver<Dtype>::ComputeUpdateValue(int param_id, Dtype rate) {
  Blob<Dtype>* param_blob = this->net_->learnable_params()[param_id];
  const Dtype delta = this->param_.delta();
  const Dtype local_rate = rate * this->net_->params_lr()[param_id];
  const int count = param_blob->count();
  if (count == 0) return;
#ifdef MOKA_CUDA
  if (this->update_on_gpu()) {
    AdaGradUpdateGpu(count, param_blob->mutable_gpu_diff(),
                     this->history_[param_id]->mutable_gpu_data(), delta, local_rate);
    return;
  }
#endif
  const Dtype* gradient = param_blob->cpu_diff();
  Dtype* history = this->history_[param_id]->mutable_cpu_data();
  Dtype* scratch = this->update_[param_id]->mutable_cpu_data();

  cpu_powx(count, gradient, Dtype(2), scratch);
  cpu_add(count, static_cast<const Dtype*>(scratch), static_cast<const Dtype*>(history), history);
  cpu_powx(count, static_cast<const Dtype*>(history), Dtype(0.5), scratch);
  cpu_add_scalar(count, delta, scratch);
  cpu_div(count, gradient, static_cast<const Dtype*>(scratch), scratch);
  cpu_scale(count, local_rate, static_cast<const Dtype*>(scratch), param_blob->mutable_cpu_diff());
}

MOKA_INSTANTIATE_CLASS(AdaGradSolver);
MOKA_REGISTER_SOLVER(AdaGrad, AdaGradSolver);

}  // namespace moka
