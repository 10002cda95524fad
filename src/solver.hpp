#pragma once
// Solver: trains a net from a SolverParameter with Caffe's loop (test, forward/backward over
// iter_size batches, display, update, snapshot), and snapshots and restores its state in Caffe's
// .caffemodel/.solverstate format. Subclasses (src/solvers/) supply the parameter update rule.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "context.hpp"
#include "moka.pb.h"
#include "net.hpp"

namespace moka {

/// What an outside request (a signal handler in the CLI) asks the solver to do.
enum class SolverAction { NONE, STOP, SNAPSHOT };

template <typename Dtype>
class Solver {
 public:
  using NetPtr = std::shared_ptr<Net<Dtype>>;

  /// Builds the train net and test nets. `context` is shared by all of them; when null, a CPU
  /// context is made, seeded from random_seed (or the clock when random_seed < 0).
  explicit Solver(const SolverParameter& param, std::shared_ptr<Context> context = nullptr);
  virtual ~Solver() = default;
  MOKA_DISABLE_COPY(Solver);

  /// Restores from `resume_file` when it is not empty, trains up to max_iter, writes the final
  /// snapshot and runs the final display and test pass.
  void Solve(const std::string& resume_file = "");
  /// Runs `iters` training iterations (fewer if a STOP is requested).
  void Step(int iters);
  /// Loads a .solverstate (and the weights it names). Missing or corrupt files raise IoError.
  void Restore(const std::string& state_file);
  /// Writes <prefix>_iter_<iter>.caffemodel and .solverstate.
  void Snapshot();
  void TestAll();
  void Test(int test_net_id);

  /// Polled once per iteration (and per test batch) for STOP or SNAPSHOT requests.
  void set_action_function(std::function<SolverAction()> function) {
    action_function_ = std::move(function);
  }

  virtual const char* type() const = 0;
  const SolverParameter& param() const { return param_; }
  const NetPtr& net() const { return net_; }
  const std::vector<NetPtr>& test_nets() const { return test_nets_; }
  const std::shared_ptr<Context>& context() const { return context_; }
  int iter() const { return iter_; }
  int current_step() const { return current_step_; }
  /// Training loss averaged over the last average_loss iterations.
  Dtype smoothed_loss() const { return smoothed_loss_; }
  /// Mean of each test output element over the last test pass of each test net.
  const std::vector<std::vector<Dtype>>& mean_scores() const { return mean_scores_; }
  bool requested_early_exit() const { return requested_early_exit_; }

 protected:
  /// Computes and applies one update from the accumulated parameter diffs.
  virtual void ApplyUpdate() = 0;
  /// Writes the .solverstate that accompanies `model_filename`.
  virtual void SnapshotSolverState(const std::string& model_filename) = 0;
  /// Sets the optimiser's history from a state already read (iter and weights are done).
  virtual void RestoreSolverState(const SolverState& state) = 0;

  std::string SnapshotFilename(const std::string& extension) const;
  SolverAction RequestedAction() const;

  SolverParameter param_;
  std::shared_ptr<Context> context_;
  NetPtr net_;
  std::vector<NetPtr> test_nets_;
  int iter_ = 0;
  int current_step_ = 0;

 private:
  void InitTrainNet();
  void InitTestNets();
  void CheckSnapshotSettings() const;
  void UpdateSmoothedLoss(Dtype loss, int start_iter);
  void DisplayTrainOutputs() const;

  std::vector<Dtype> losses_;
  Dtype smoothed_loss_ = 0;
  std::vector<std::vector<Dtype>> mean_scores_;
  std::function<SolverAction()> action_function_;
  bool requested_early_exit_ = false;
  std::chrono::steady_clock::time_point display_start_;
  int iterations_last_ = 0;
};

/// Loss weight of each of `net`'s output blobs (0 for non-loss outputs), aligned with
/// output_blobs(): the weight the last layer writing that blob gave it.
template <typename Dtype>
std::vector<Dtype> OutputLossWeights(const Net<Dtype>& net);

}  // namespace moka
