#include "solvers/sgd.hpp"

#include <glog/logging.h>

#include <cmath>

#include "hdf5_io.hpp"
#include "lr_policy.hpp"
#include "math_functions.hpp"
#ifdef MOKA_CUDA
#include "math_functions_gpu.hpp"
#include "solvers/sgd_update.hpp"
#endif
#include "proto_io.hpp"
#include "solver_registry.hpp"

namespace moka {

template <typename Dtype>
SgdSolver<Dtype>::SgdSolver(const SolverParameter& param, std::shared_ptr<Context> context)
    : Solver<Dtype>(param, std::move(context)) {
  const std::string& regularization = this->param_.regularization_type();
  MOKA_CHECK(regularization == "L2" || regularization == "L1", ConfigError,
             "unknown regularization_type '" << regularization << "' (known: L1, L2)");
  for (const Blob<Dtype>* param_blob : this->net_->learnable_params()) {
    history_.push_back(std::make_shared<Blob<Dtype>>(param_blob->shape()));
    update_.push_back(std::make_shared<Blob<Dtype>>(param_blob->shape()));
    temp_.push_back(std::make_shared<Blob<Dtype>>(param_blob->shape()));
  }
  for (auto& blob : history_) ZeroHistory(blob.get());
}

template <typename Dtype>
void SgdSolver<Dtype>::ZeroHistory(Blob<Dtype>* blob) const {
  if (blob->count() == 0) return;
#ifdef MOKA_CUDA
  if (update_on_gpu()) {
    gpu_set(blob->count(), Dtype(0), blob->mutable_gpu_data());
    return;
  }
#endif
  cpu_set(blob->count(), Dtype(0), blob->mutable_cpu_data());
}

template <typename Dtype>
void SgdSolver<Dtype>::AddHistorySet() {
  for (const Blob<Dtype>* param_blob : this->net_->learnable_params()) {
    history_.push_back(std::make_shared<Blob<Dtype>>(param_blob->shape()));
    ZeroHistory(history_.back().get());
  }
}

template <typename Dtype>
Dtype SgdSolver<Dtype>::GetLearningRate() {
  return LearningRate<Dtype>(this->param_, this->iter_, &this->current_step_);
}

template <typename Dtype>
void SgdSolver<Dtype>::ApplyUpdate() {
  const Dtype rate = GetLearningRate();
  if (this->param_.display() > 0 && this->iter_ % this->param_.display() == 0) {
    LOG(INFO) << "Iteration " << this->iter_ << ", lr = " << rate;
  }
  ClipGradients();
  for (int param_id = 0; param_id < num_params(); ++param_id) {
    Normalize(param_id);
    Regularize(param_id);
    ComputeUpdateValue(param_id, rate);
  }
#ifdef MOKA_CUDA
  // Net::Update follows each blob's head; a parameter last written on the host (just restored from
  // a snapshot, say) would pull its diff back there. On a GPU solver the step is applied on the
  // device, whatever the head.
  if (update_on_gpu()) {
    for (Blob<Dtype>* param_blob : this->net_->learnable_params()) {
      if (param_blob->count() == 0) continue;
      gpu_axpy(param_blob->count(), Dtype(-1), param_blob->gpu_diff(),
               param_blob->mutable_gpu_data());
    }
    return;
  }
#endif
  this->net_->Update();
}

template <typename Dtype>
void SgdSolver<Dtype>::ClipGradients() {
  const Dtype clip_gradients = this->param_.clip_gradients();
  if (clip_gradients < 0) return;
  const auto& params = this->net_->learnable_params();
  Dtype sumsq_diff = 0;
  for (const Blob<Dtype>* param_blob : params) {
    const int count = param_blob->count();
#ifdef MOKA_CUDA
    if (update_on_gpu()) {
      if (count > 0) sumsq_diff += gpu_dot(count, param_blob->gpu_diff(), param_blob->gpu_diff());
      continue;
    }
#endif
    if (count > 0) sumsq_diff += cpu_dot(count, param_blob->cpu_diff(), param_blob->cpu_diff());
  }
  const Dtype l2norm_diff = std::sqrt(sumsq_diff);
  if (l2norm_diff > clip_gradients) {
    const Dtype scale_factor = clip_gradients / l2norm_diff;
    LOG(INFO) << "Gradient clipping: scaling down gradients (L2 norm " << l2norm_diff << " > "
              << clip_gradients << ") by scale factor " << scale_factor;
    for (Blob<Dtype>* param_blob : params) {
      if (param_blob->count() == 0) continue;
#ifdef MOKA_CUDA
      if (update_on_gpu()) {
        gpu_scal(param_blob->count(), scale_factor, param_blob->mutable_gpu_diff());
        continue;
      }
#endif
      cpu_scal(param_blob->count(), scale_factor, param_blob->mutable_cpu_diff());
    }
  }
}

template <typename Dtype>
void SgdSolver<Dtype>::Normalize(int param_id) {
  if (this->param_.iter_size() == 1) return;
  Blob<Dtype>* param_blob = this->net_->learnable_params()[param_id];
  const Dtype normalization = Dtype(1) / this->param_.iter_size();
  if (param_blob->count() == 0) return;
#ifdef MOKA_CUDA
  if (update_on_gpu()) {
    gpu_scal(param_blob->count(), normalization, param_blob->mutable_gpu_diff());
    return;
  }
#endif
  cpu_scal(param_blob->count(), normalization, param_blob->mutable_cpu_diff());
}

template <typename Dtype>
void SgdSolver<Dtype>::Regularize(int param_id) {
  Blob<Dtype>* param_blob = this->net_->learnable_params()[param_id];
  const Dtype weight_decay = this->param_.weight_decay();
  const Dtype local_decay = weight_decay * this->net_->params_weight_decay()[param_id];
  const int count = param_blob->count();
  if (local_decay == 0 || count == 0) return;
#ifdef MOKA_CUDA
  if (update_on_gpu()) {
    if (this->param_.regularization_type() == "L2") {
      gpu_axpy(count, local_decay, param_blob->gpu_data(), param_blob->mutable_gpu_diff());
    } else {
      Dtype* sign = temp_[param_id]->mutable_gpu_data();
      gpu_sign(count, param_blob->gpu_data(), sign);
      gpu_axpy(count, local_decay, static_cast<const Dtype*>(sign), param_blob->mutable_gpu_diff());
    }
    return;
  }
#endif
  if (this->param_.regularization_type() == "L2") {
    cpu_axpy(count, local_decay, param_blob->cpu_data(), param_blob->mutable_cpu_diff());
  } else {
    Dtype* sign = temp_[param_id]->mutable_cpu_data();
    cpu_sign(count, param_blob->cpu_data(), sign);
    cpu_axpy(count, local_decay, static_cast<const Dtype*>(sign), param_blob->mutable_cpu_diff());
  }
}

template <typename Dtype>
void SgdSolver<Dtype>::ComputeUpdateValue(int param_id, Dtype rate) {
  Blob<Dtype>* param_blob = this->net_->learnable_params()[param_id];
  const Dtype momentum = this->param_.momentum();
  const Dtype local_rate = rate * this->net_->params_lr()[param_id];
  const int count = param_blob->count();
  if (count == 0) return;
#ifdef MOKA_CUDA
  if (update_on_gpu()) {
    SgdUpdateGpu(count, param_blob->mutable_gpu_diff(), history_[param_id]->mutable_gpu_data(),
                 momentum, local_rate);
    return;
  }
#endif
  Dtype* velocity = history_[param_id]->mutable_cpu_data();
  cpu_axpby(count, local_rate, param_blob->cpu_diff(), momentum, velocity);
  cpu_copy(count, static_cast<const Dtype*>(velocity), param_blob->mutable_cpu_diff());
}

template <typename Dtype>
void SgdSolver<Dtype>::SnapshotSolverState(const std::string& model_filename) {
  if (this->param_.snapshot_format() == SolverParameter::HDF5) {
    const std::string filename = this->SnapshotFilename(".solverstate.h5");
    LOG(INFO) << "Snapshotting solver state to HDF5 file " << filename;
    Hdf5WriteFileAtomically(filename, [&](const Hdf5Handle& file) {
      Hdf5WriteInt(file, "iter", this->iter_);
      Hdf5WriteString(file, "learned_net", model_filename);
      Hdf5WriteInt(file, "current_step", this->current_step_);
      Hdf5Handle history = Hdf5CreateGroup(file, "history");
      for (size_t i = 0; i < history_.size(); ++i)
        Hdf5WriteBlob(history, std::to_string(i), *history_[i]);
    });
    return;
  }
  SolverState state;
  state.set_iter(this->iter_);
  state.set_learned_net(model_filename);
  state.set_current_step(this->current_step_);
  for (const auto& blob : history_) blob->ToProto(state.add_history());
  const std::string filename = this->SnapshotFilename(".solverstate");
  LOG(INFO) << "Snapshotting solver state to binary proto file " << filename;
  WriteProtoToBinaryFile(state, filename);
}

template <typename Dtype>
void SgdSolver<Dtype>::RestoreSolverState(const SolverState& state) {
  MOKA_CHECK(state.history_size() == static_cast<int>(history_.size()), IoError,
             "the solver state holds " << state.history_size() << " history blobs, but this "
                                       << type() << " solver keeps " << history_.size()
                                       << " (was it written by another solver type or net?)");
  for (int i = 0; i < state.history_size(); ++i) {
    MOKA_CHECK(history_[i]->ShapeEquals(state.history(i)), ShapeError,
               "solver state history blob " << i << " has shape "
                                            << ShapeString(BlobProtoShape(state.history(i)))
                                            << ", but the parameter it belongs to has shape "
                                            << history_[i]->shape_string());
  }
  LOG(INFO) << "SGDSolver: restoring history";
  for (int i = 0; i < state.history_size(); ++i) history_[i]->FromProto(state.history(i), false);
}

MOKA_INSTANTIATE_CLASS(SgdSolver);
MOKA_REGISTER_SOLVER(SGD, SgdSolver);

}  // namespace moka
