#include "math_functions.hpp"
#ifdef MOKA_CUDA
#include "solvers/sgd_update.hpp"
#endif
#include "solver_registry.hpp"
#include "solvers/sgd.hpp"

namespace moka {

template <typename Dtype>
void NesterovSolver<Dtype>::ComputeUpdateValue(int param_id, Dtype rate) {
  Blob<Dtype>* param_blob = this->net_->learnable_params()[param_id];
  const Dtype momentum = this->param_.momentum();
  const Dtype local_rate = rate * this->net_->params_lr()[param_id];
  const int count = param_blob->count();
  if (count == 0) return;
#ifdef MOKA_CUDA
  if (this->update_on_gpu()) {
    NesterovUpdateGpu(count, param_blob->mutable_gpu_diff(),
                      this->history_[param_id]->mutable_gpu_data(), momentum, local_rate);
    return;
  }
#endif
  Dtype* velocity = this->history_[param_id]->mutable_cpu_data();
  Dtype* step = this->update_[param_id]->mutable_cpu_data();
  // step holds the previous velocity until the last axpby turns it into the step.
  cpu_copy(count, static_cast<const Dtype*>(velocity), step);
  cpu_axpby(count, local_rate, param_blob->cpu_diff(), momentum, velocity);
  cpu_axpby(count, Dtype(1) + momentum, static_cast<const Dtype*>(velocity), -momentum, step);
  cpu_copy(count, static_cast<const Dtype*>(step), param_blob->mutable_cpu_diff());
}

MOKA_INSTANTIATE_CLASS(NesterovSolver);
MOKA_REGISTER_SOLVER(Nesterov, NesterovSolver);

}  // namespace moka
