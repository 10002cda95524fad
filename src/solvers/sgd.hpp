#pragma once
// Stochastic gradient descent with momentum, and the adaptive solvers built on its update
// pipeline: learning rate, gradient clipping, iter_size normalisation, weight decay, then each
// solver's ComputeUpdateValue turns a parameter's diff into the step that Net::Update subtracts.
#include <memory>
#include <string>
#include <vector>

#include "solver.hpp"

namespace moka {

/// SGD with momentum:  v = momentum * v + local_rate * g;  w -= v.
template <typename Dtype>
class SgdSolver : public Solver<Dtype> {
 public:
  using BlobPtr = std::shared_ptr<Blob<Dtype>>;

  explicit SgdSolver(const SolverParameter& param, std::shared_ptr<Context> context = nullptr);
  const char* type() const override { return "SGD"; }

  /// Optimiser state written to .solverstate: one blob per learnable parameter, followed by a
  /// second set for AdaDelta and Adam.
  const std::vector<BlobPtr>& history() const { return history_; }
  /// The rate of the current iteration; advances current_step for step and multistep.
  Dtype GetLearningRate();

 protected:
  void ApplyUpdate() override;
  /// Rescales all diffs when their global L2 norm exceeds clip_gradients.
  void ClipGradients();
  /// Divides the diff accumulated over iter_size passes by iter_size.
  void Normalize(int param_id);
  /// Adds the L2 (w) or L1 (sign w) decay term, times weight_decay * decay_mult, to the diff.
  void Regularize(int param_id);
  /// Replaces the diff by the step to subtract; `rate` is the solver-wide learning rate.
  virtual void ComputeUpdateValue(int param_id, Dtype rate);
  void SnapshotSolverState(const std::string& model_filename) override;
  void RestoreSolverState(const SolverState& state) override;

  /// Appends one zeroed history blob per learnable parameter (the second moment of AdaDelta and
  /// Adam, found at history_[num_params + param_id]).
  void AddHistorySet();
  int num_params() const { return static_cast<int>(this->net_->learnable_params().size()); }
  /// Whether the update runs on the device: the diffs, the history and the step then never leave
  /// it, so an iteration moves nothing to or from the host but its input and the loss.
  bool update_on_gpu() const { return this->context_->on_gpu(); }
  /// Zeroes one history blob where the update will read it, so that a GPU solver's history starts
  /// (and stays) on the device without a host-to-device copy.
  void ZeroHistory(Blob<Dtype>* blob) const;

  std::vector<BlobPtr> history_;
  // Scratch space for the update computations, one blob per learnable parameter.
  std::vector<BlobPtr> update_;
  std::vector<BlobPtr> temp_;
};

/// Nesterov's accelerated gradient:  v' = momentum * v + local_rate * g;
/// step = (1 + momentum) * v' - momentum * v.
template <typename Dtype>
class NesterovSolver : public SgdSolver<Dtype> {
 public:
  using SgdSolver<Dtype>::SgdSolver;
  const char* type() const override { return "Nesterov"; }

 protected:
  void ComputeUpdateValue(int param_id, Dtype rate) override;
};

/// AdaGrad:  h += g^2;  step = local_rate * g / (sqrt(h) + delta).  Momentum must be 0.
template <typename Dtype>
class AdaGradSolver : public SgdSolver<Dtype> {
 public:
  explicit AdaGradSolver(const SolverParameter& param, std::shared_ptr<Context> context = nullptr);
  const char* type() const override { return "AdaGrad"; }

 protected:
  void ComputeUpdateValue(int param_id, Dtype rate) override;
};

/// RMSProp:  h = rms_decay * h + (1 - rms_decay) * g^2;  step = local_rate * g / (sqrt(h) + delta).
/// Momentum must be 0 and rms_decay in [0, 1).
template <typename Dtype>
class RmsPropSolver : public SgdSolver<Dtype> {
 public:
  explicit RmsPropSolver(const SolverParameter& param, std::shared_ptr<Context> context = nullptr);
  const char* type() const override { return "RMSProp"; }

 protected:
  void ComputeUpdateValue(int param_id, Dtype rate) override;
};

/// AdaDelta, with momentum as the decay rho:  h = rho * h + (1 - rho) * g^2;
/// u = g * sqrt((h2 + delta) / (h + delta));  h2 = rho * h2 + (1 - rho) * u^2;  step = local_rate *
/// u.
template <typename Dtype>
class AdaDeltaSolver : public SgdSolver<Dtype> {
 public:
  explicit AdaDeltaSolver(const SolverParameter& param, std::shared_ptr<Context> context = nullptr);
  const char* type() const override { return "AdaDelta"; }

 protected:
  void ComputeUpdateValue(int param_id, Dtype rate) override;
};

/// Adam, with beta1 = momentum, beta2 = momentum2, epsilon = delta and t = iter + 1:
/// m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g^2;
/// step = local_rate * sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + epsilon).
template <typename Dtype>
class AdamSolver : public SgdSolver<Dtype> {
 public:
  explicit AdamSolver(const SolverParameter& param, std::shared_ptr<Context> context = nullptr);
  const char* type() const override { return "Adam"; }

 protected:
  void ComputeUpdateValue(int param_id, Dtype rate) override;
};

}  // namespace moka
