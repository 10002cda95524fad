#include <cmath>

#include "math_functions.hpp"
#ifdef MOKA_CUDA
#include "solvers/sgd_update.hpp"
#endif
#include "solver_registry.hpp"
#include "solvers/sgd.hpp"

namespace moka {

template <typename Dtype>
AdamSolver<Dtype>::AdamSolver(const SolverParameter& param, std::shared_ptr<Context> context)
    : SgdSolver<Dtype>(param, std::move(context)) {
  this->AddHistorySet();
}

template <typename Dtype>
void AdamSolver<Dtype>::ComputeUpdateValue(int param_id, Dtype rate) {
  Blob<Dtype>* param_blob = this->net_->learnable_params()[param_id];
  const Dtype local_rate = rate * this->net_->params_lr()[param_id];
  const Dtype beta1 = this->param_.momentum();
  const Dtype beta2 = this->param_.momentum2();
  const Dtype epsilon = this->param_.delta();
  const int t = this->iter_ + 1;
  // pow(Dtype, int) is evaluated in double, as in Caffe.
  const Dtype correction = static_cast<Dtype>(std::sqrt(Dtype(1) - std::pow(beta2, t)) /
                                              (Dtype(1) - std::pow(beta1, t)));
  const int count = param_blob->count();
  if (count == 0) return;
#ifdef MOKA_CUDA
  if (this->update_on_gpu()) {
    AdamUpdateGpu(count, param_blob->mutable_gpu_diff(),
                  this->history_[param_id]->mutable_gpu_data(),
                  this->history_[this->num_params() + param_id]->mutable_gpu_data(), beta1, beta2,
                  epsilon, local_rate * correction);
    return;
  }
#endif
  const Dtype* gradient = param_blob->cpu_diff();
  Dtype* m = this->history_[param_id]->mutable_cpu_data();
  Dtype* v = this->history_[this->num_params() + param_id]->mutable_cpu_data();
  Dtype* scratch = this->update_[param_id]->mutable_cpu_data();

  cpu_axpby(count, Dtype(1) - beta1, gradient, beta1, m);
  cpu_mul(count, gradient, gradient, scratch);
  cpu_axpby(count, Dtype(1) - beta2, static_cast<const Dtype*>(scratch), beta2, v);
  cpu_powx(count, static_cast<const Dtype*>(v), Dtype(0.5), scratch);
  cpu_add_scalar(count, epsilon, scratch);
  cpu_div(count, static_cast<const Dtype*>(m), static_cast<const Dtype*>(scratch), scratch);
  cpu_scale(count, local_rate * correction, static_cast<const Dtype*>(scratch),
            param_blob->mutable_cpu_diff());
}

MOKA_INSTANTIATE_CLASS(AdamSolver);
MOKA_REGISTER_SOLVER(Adam, AdamSolver);

}  // namespace moka
