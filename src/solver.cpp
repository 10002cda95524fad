#include "solver.hpp"

#include <glog/logging.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "hdf5_io.hpp"
#include "proto_io.hpp"

namespace moka {

namespace {

bool EndsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string Trim(const std::string& text) {
  const auto begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  const auto end = text.find_last_not_of(" \t\r\n");
  return text.substr(begin, end - begin + 1);
}

// Caffe's .solverstate.h5 holds the SolverState fields as datasets iter, learned_net (optional),
// current_step and history/<i>; read into the proto form so both formats restore through one path.
template <typename Dtype>
SolverState ReadSolverStateFromHdf5(const std::string& path) {
  SolverState state;
  try {
    Hdf5Handle file = Hdf5OpenFile(path);
    state.set_iter(Hdf5ReadInt(file, "iter"));
    if (Hdf5HasLink(file, "learned_net")) state.set_learned_net(Hdf5ReadString(file, "learned_net"));
    state.set_current_step(Hdf5ReadInt(file, "current_step"));
    Hdf5Handle history = Hdf5OpenGroup(file, "history");
    const int num_history = static_cast<int>(Hdf5ChildNames(history).size());
    for (int i = 0; i < num_history; ++i) {
      Blob<Dtype> blob;
      Hdf5ReadBlob(history, std::to_string(i), &blob, true, 0, kMaxBlobAxes);
      blob.ToProto(state.add_history());
    }
  } catch (Error& error) {
    error.AddContext("reading solver state '" + path + "'");
    throw;
  }
  return state;
}

// Caffe stores learned_net exactly as written (usually relative to the training directory). When
// that path no longer resolves, the weights are looked for beside the state file, which is where
// they are after a snapshot folder has been moved.
std::string ResolveLearnedNet(const std::string& learned_net, const std::string& state_file) {
  if (FileExists(learned_net)) return learned_net;
  const auto state_slash = state_file.find_last_of('/');
  if (state_slash == std::string::npos) return learned_net;
  const auto net_slash = learned_net.find_last_of('/');
  const std::string base =
      net_slash == std::string::npos ? learned_net : learned_net.substr(net_slash + 1);
  const std::string beside = state_file.substr(0, state_slash + 1) + base;
  return FileExists(beside) ? beside : learned_net;
}

}  // namespace

template <typename Dtype>
std::vector<Dtype> OutputLossWeights(const Net<Dtype>& net) {
  std::vector<Dtype> blob_weights(net.blobs().size(), Dtype(0));
  for (int layer_id = 0; layer_id < net.num_layers(); ++layer_id) {
    const std::vector<int>& ids = net.top_ids(layer_id);
    for (int top = 0; top < static_cast<int>(ids.size()); ++top) {
      blob_weights[ids[top]] = net.layers()[layer_id]->loss(top);
    }
  }
  std::vector<Dtype> weights;
  for (int index : net.output_blob_indices()) weights.push_back(blob_weights[index]);
  return weights;
}

template <typename Dtype>
Solver<Dtype>::Solver(const SolverParameter& param, std::shared_ptr<Context> context)
    : param_(param), context_(std::move(context)) {
  LOG(INFO) << "Initializing solver from parameters: " << std::endl << param_.DebugString();
  MOKA_CHECK(param_.average_loss() >= 1, ConfigError,
             "average_loss must be at least 1, got " << param_.average_loss());
  MOKA_CHECK(param_.iter_size() >= 1, ConfigError,
             "iter_size must be at least 1, got " << param_.iter_size());
  CheckSnapshotSettings();
  if (!context_) {
    const uint64_t seed = param_.random_seed() >= 0 ? static_cast<uint64_t>(param_.random_seed())
                                                    : Context::ClockSeed();
    context_ = std::make_shared<Context>(Device::kCpu, 0, seed);
  } else if (param_.random_seed() >= 0) {
    context_->Seed(static_cast<uint64_t>(param_.random_seed()));
  }
  InitTrainNet();
  InitTestNets();
  LOG(INFO) << "Solver scaffolding done.";
  iter_ = 0;
  current_step_ = 0;
}

template <typename Dtype>
void Solver<Dtype>::CheckSnapshotSettings() const {
  if (param_.snapshot() <= 0) return;
  MOKA_CHECK(param_.has_snapshot_prefix(), ConfigError,
             "snapshot is " << param_.snapshot() << " but snapshot_prefix is not set");
  const std::string probe = param_.snapshot_prefix() + "_iter_0.tempfile";
  std::ofstream probe_stream(probe);
  MOKA_CHECK(probe_stream.good(), IoError,
             "cannot write to snapshot prefix '" << param_.snapshot_prefix()
                                                 << "': make sure that the directory exists and "
                                                    "is writeable");
  probe_stream.close();
  std::remove(probe.c_str());
}

template <typename Dtype>
void Solver<Dtype>::InitTrainNet() {
  const int num_train_nets = param_.has_net() + param_.has_net_param() + param_.has_train_net() +
                             param_.has_train_net_param();
  const char* field_names = "net, net_param, train_net, train_net_param";
  MOKA_CHECK(num_train_nets >= 1, ConfigError,
             "the solver must name a train net with one of: " << field_names);
  MOKA_CHECK(
      num_train_nets <= 1, ConfigError,
      "the solver names " << num_train_nets << " train nets; give exactly one of: " << field_names);
  NetParameter net_param;
  if (param_.has_train_net_param()) {
    LOG(INFO) << "Creating training net specified in train_net_param.";
    net_param = param_.train_net_param();
  } else if (param_.has_train_net()) {
    LOG(INFO) << "Creating training net from train_net file: " << param_.train_net();
    net_param = ReadNetParamFromTextFile(param_.train_net());
  } else if (param_.has_net_param()) {
    LOG(INFO) << "Creating training net specified in net_param.";
    net_param = param_.net_param();
  } else {
    LOG(INFO) << "Creating training net from net file: " << param_.net();
    net_param = ReadNetParamFromTextFile(param_.net());
  }
  // Precedence, lowest first: the solver's TRAIN default, the net's own state, train_state.
  NetState state;
  state.set_phase(TRAIN);
  state.MergeFrom(net_param.state());
  state.MergeFrom(param_.train_state());
  *net_param.mutable_state() = state;
  net_ = std::make_shared<Net<Dtype>>(net_param, context_);
  for (const std::string& list : param_.weights()) {
    std::istringstream names(list);
    std::string name;
    while (std::getline(names, name, ',')) {
      name = Trim(name);
      if (name.empty()) continue;
      LOG(INFO) << "Finetuning from " << name;
      net_->CopyTrainedLayersFrom(name);
    }
  }
}

template <typename Dtype>
void Solver<Dtype>::InitTestNets() {
  const bool has_net_param = param_.has_net_param();
  const bool has_net_file = param_.has_net();
  MOKA_CHECK(!(has_net_param && has_net_file), ConfigError,
             "net_param and net may not both be given");
  const int num_test_net_params = param_.test_net_param_size();
  const int num_test_net_files = param_.test_net_size();
  const int num_test_nets = num_test_net_params + num_test_net_files;
  // A generic net (net or net_param) serves as every test net beyond the explicit ones, one per
  // remaining test_iter entry.
  if (has_net_param || has_net_file) {
    MOKA_CHECK(param_.test_iter_size() >= num_test_nets, ConfigError,
               "test_iter must be given for each test net: " << num_test_nets << " test nets but "
                                                             << param_.test_iter_size()
                                                             << " test_iter entries");
  } else {
    MOKA_CHECK(param_.test_iter_size() == num_test_nets, ConfigError,
               "test_iter must be given once for each test net: "
                   << num_test_nets << " test nets but " << param_.test_iter_size()
                   << " test_iter entries");
  }
  const int num_instances = param_.test_iter_size();
  if (param_.test_state_size() > 0) {
    MOKA_CHECK(param_.test_state_size() == num_instances, ConfigError,
               "test_state must be left out or given once per test net: "
                   << num_instances << " test nets but " << param_.test_state_size()
                   << " test_state entries");
  }
  if (num_instances > 0) {
    MOKA_CHECK(param_.test_interval() > 0, ConfigError,
               "test nets are given (" << num_instances << ") but test_interval is "
                                       << param_.test_interval() << "; it must be positive");
  }
  std::vector<std::string> sources;
  std::vector<NetParameter> net_params;
  for (int i = 0; i < num_test_net_params; ++i) {
    sources.push_back("test_net_param");
    net_params.push_back(param_.test_net_param(i));
  }
  for (int i = 0; i < num_test_net_files; ++i) {
    sources.push_back("test_net file: " + param_.test_net(i));
    net_params.push_back(ReadNetParamFromTextFile(param_.test_net(i)));
  }
  const int remaining = num_instances - num_test_nets;
  if (remaining > 0) {
    const NetParameter generic =
        has_net_param ? param_.net_param() : ReadNetParamFromTextFile(param_.net());
    const std::string source = has_net_param ? "net_param" : "net file: " + param_.net();
    for (int i = 0; i < remaining; ++i) {
      sources.push_back(source);
      net_params.push_back(generic);
    }
  }
  test_nets_.clear();
  for (int i = 0; i < num_instances; ++i) {
    NetState state;
    state.set_phase(TEST);
    state.MergeFrom(net_params[i].state());
    if (param_.test_state_size() > 0) state.MergeFrom(param_.test_state(i));
    *net_params[i].mutable_state() = state;
    LOG(INFO) << "Creating test net (#" << i << ") specified by " << sources[i];
    test_nets_.push_back(std::make_shared<Net<Dtype>>(net_params[i], context_));
  }
  mean_scores_.assign(num_instances, {});
}

template <typename Dtype>
SolverAction Solver<Dtype>::RequestedAction() const {
  return action_function_ ? action_function_() : SolverAction::NONE;
}

template <typename Dtype>
void Solver<Dtype>::Step(int iters) {
  const int start_iter = iter_;
  const int stop_iter = iter_ + iters;
  losses_.clear();
  smoothed_loss_ = 0;
  display_start_ = std::chrono::steady_clock::now();
  iterations_last_ = iter_;

  while (iter_ < stop_iter) {
    net_->ClearParamDiffs();
    if (param_.test_interval() > 0 && iter_ % param_.test_interval() == 0 &&
        (iter_ > 0 || param_.test_initialization())) {
      TestAll();
      if (requested_early_exit_) break;
    }

    const bool display = param_.display() > 0 && iter_ % param_.display() == 0;
    Dtype loss = 0;
    for (int i = 0; i < param_.iter_size(); ++i) loss += net_->ForwardBackward();
    loss /= param_.iter_size();
    UpdateSmoothedLoss(loss, start_iter);
    if (display) {
      const auto now = std::chrono::steady_clock::now();
      const float lapse = std::chrono::duration<float>(now - display_start_).count();
      const float per_s = (iter_ - iterations_last_) / (lapse != 0 ? lapse : 1.0f);
      LOG(INFO) << "Iteration " << iter_ << " (" << per_s << " iter/s, " << lapse << "s/"
                << param_.display() << " iters), loss = " << smoothed_loss_;
      display_start_ = now;
      iterations_last_ = iter_;
      DisplayTrainOutputs();
    }
    // Stop before the update so that no snapshot of a diverged net is ever written; the last
    // snapshot on disk stays the most recent good one.
    if (!std::isfinite(loss)) {
      MOKA_THROW(NumericError, "loss is " << (std::isnan(loss) ? "NaN" : "infinite")
                                          << " at iteration " << iter_);
    }
    ApplyUpdate();
    // iter_ counts completed updates.
    ++iter_;

    const SolverAction request = RequestedAction();
    if ((param_.snapshot() > 0 && iter_ % param_.snapshot() == 0) ||
        request == SolverAction::SNAPSHOT) {
      Snapshot();
    }
    if (request == SolverAction::STOP) {
      requested_early_exit_ = true;
      break;
    }
  }
}

template <typename Dtype>
void Solver<Dtype>::DisplayTrainOutputs() const {
  const std::vector<Blob<Dtype>*>& outputs = net_->output_blobs();
  const std::vector<Dtype> loss_weights = OutputLossWeights(*net_);
  int score_index = 0;
  for (size_t j = 0; j < outputs.size(); ++j) {
    const Dtype* values = outputs[j]->cpu_data();
    const std::string& name = net_->blob_names()[net_->output_blob_indices()[j]];
    for (int k = 0; k < outputs[j]->count(); ++k) {
      std::ostringstream loss_text;
      if (loss_weights[j] != 0) {
        loss_text << " (* " << loss_weights[j] << " = " << loss_weights[j] * values[k] << " loss)";
      }
      LOG(INFO) << "    Train net output #" << score_index++ << ": " << name << " = " << values[k]
                << loss_text.str();
    }
  }
}

template <typename Dtype>
void Solver<Dtype>::UpdateSmoothedLoss(Dtype loss, int start_iter) {
  const int average_loss = param_.average_loss();
  if (static_cast<int>(losses_.size()) < average_loss) {
    losses_.push_back(loss);
    const int size = static_cast<int>(losses_.size());
    smoothed_loss_ = (smoothed_loss_ * (size - 1) + loss) / size;
  } else {
    const int index = (iter_ - start_iter) % average_loss;
    smoothed_loss_ += (loss - losses_[index]) / average_loss;
    losses_[index] = loss;
  }
}

template <typename Dtype>
void Solver<Dtype>::Solve(const std::string& resume_file) {
  LOG(INFO) << "Solving " << net_->name();
  LOG(INFO) << "Learning Rate Policy: " << param_.lr_policy();
  requested_early_exit_ = false;
  if (!resume_file.empty()) {
    LOG(INFO) << "Restoring previous solver status from " << resume_file;
    Restore(resume_file);
  }

  const int start_iter = iter_;
  Step(param_.max_iter() - iter_);
  if (param_.snapshot_after_train() && (param_.snapshot() <= 0 || iter_ % param_.snapshot() != 0)) {
    Snapshot();
  }
  if (requested_early_exit_) {
    LOG(INFO) << "Optimization stopped early.";
    return;
  }
  // One more forward pass shows the loss of the final weights (no update follows it).
  if (param_.display() > 0 && iter_ % param_.display() == 0) {
    const Dtype loss = net_->Forward();
    UpdateSmoothedLoss(loss, start_iter);
    LOG(INFO) << "Iteration " << iter_ << ", loss = " << smoothed_loss_;
  }
  if (param_.test_interval() > 0 && iter_ % param_.test_interval() == 0) TestAll();
  LOG(INFO) << "Optimization Done.";
}

template <typename Dtype>
void Solver<Dtype>::TestAll() {
  for (int id = 0; id < static_cast<int>(test_nets_.size()) && !requested_early_exit_; ++id) {
    Test(id);
  }
}

template <typename Dtype>
void Solver<Dtype>::Test(int test_net_id) {
  MOKA_CHECK(test_net_id >= 0 && test_net_id < static_cast<int>(test_nets_.size()), ConfigError,
             "no test net #" << test_net_id << " (the solver has " << test_nets_.size() << ")");
  LOG(INFO) << "Iteration " << iter_ << ", Testing net (#" << test_net_id << ")";
  Net<Dtype>& test_net = *test_nets_[test_net_id];
  test_net.ShareTrainedLayersWith(*net_);
  const int test_iter = param_.test_iter(test_net_id);
  std::vector<Dtype> scores;
  std::vector<int> score_output_ids;
  Dtype loss = 0;
  for (int i = 0; i < test_iter; ++i) {
    for (SolverAction request = RequestedAction(); request != SolverAction::NONE;
         request = RequestedAction()) {
      if (request == SolverAction::SNAPSHOT) {
        Snapshot();
      } else {
        requested_early_exit_ = true;
        break;
      }
    }
    if (requested_early_exit_) break;

    const Dtype iter_loss = test_net.Forward();
    if (param_.test_compute_loss()) loss += iter_loss;
    const std::vector<Blob<Dtype>*>& outputs = test_net.output_blobs();
    size_t index = 0;
    for (size_t j = 0; j < outputs.size(); ++j) {
      const Dtype* values = outputs[j]->cpu_data();
      for (int k = 0; k < outputs[j]->count(); ++k, ++index) {
        if (i == 0) {
          scores.push_back(values[k]);
          score_output_ids.push_back(static_cast<int>(j));
        } else {
          scores[index] += values[k];
        }
      }
    }
  }
  if (requested_early_exit_) {
    LOG(INFO) << "Test interrupted.";
    return;
  }
  if (param_.test_compute_loss()) {
    loss /= test_iter;
    LOG(INFO) << "Test loss: " << loss;
  }
  const std::vector<Dtype> loss_weights = OutputLossWeights(test_net);
  std::vector<Dtype>& mean_scores = mean_scores_[test_net_id];
  mean_scores.clear();
  for (size_t i = 0; i < scores.size(); ++i) {
    const int output = score_output_ids[i];
    const std::string& name = test_net.blob_names()[test_net.output_blob_indices()[output]];
    const Dtype weight = loss_weights[output];
    const Dtype mean_score = scores[i] / test_iter;
    mean_scores.push_back(mean_score);
    std::ostringstream loss_text;
    if (weight != 0) loss_text << " (* " << weight << " = " << weight * mean_score << " loss)";
    LOG(INFO) << "    Test net output #" << i << ": " << name << " = " << mean_score
              << loss_text.str();
  }
}

template <typename Dtype>
std::string Solver<Dtype>::SnapshotFilename(const std::string& extension) const {
  return param_.snapshot_prefix() + "_iter_" + std::to_string(iter_) + extension;
}

template <typename Dtype>
void Solver<Dtype>::Snapshot() {
  std::string model_filename;
  if (param_.snapshot_format() == SolverParameter::HDF5) {
    model_filename = SnapshotFilename(".caffemodel.h5");
    LOG(INFO) << "Snapshotting to HDF5 file " << model_filename;
    net_->ToHdf5(model_filename, param_.snapshot_diff());
  } else {
    model_filename = SnapshotFilename(".caffemodel");
    LOG(INFO) << "Snapshotting to binary proto file " << model_filename;
    NetParameter net_param;
    net_->ToProto(&net_param, param_.snapshot_diff());
    WriteProtoToBinaryFile(net_param, model_filename);
  }
  SnapshotSolverState(model_filename);
}

template <typename Dtype>
void Solver<Dtype>::Restore(const std::string& state_file) {
  MOKA_CHECK(FileExists(state_file), IoError, "solver state '" << state_file << "' does not exist");
  SolverState state;
  if (EndsWith(state_file, ".h5")) {
    state = ReadSolverStateFromHdf5<Dtype>(state_file);
  } else {
    ReadProtoFromBinaryFile(state_file, &state);
  }
  MOKA_CHECK(state.has_iter(), IoError,
             "'" << state_file << "' is not a solver state (it holds no iteration)");
  MOKA_CHECK(state.iter() >= 0, IoError,
             "'" << state_file << "' holds a negative iteration (" << state.iter() << ")");
  if (state.has_learned_net()) {
    const std::string weights = ResolveLearnedNet(state.learned_net(), state_file);
    MOKA_CHECK(FileExists(weights), IoError,
               "solver state '" << state_file << "' names the weights file '" << state.learned_net()
                                << "', which does not exist");
    net_->CopyTrainedLayersFrom(weights);
  }
  RestoreSolverState(state);
  iter_ = state.iter();
  current_step_ = state.current_step();
}

#define MOKA_INSTANTIATE_OUTPUT_LOSS_WEIGHTS(Dtype) \
  template std::vector<Dtype> OutputLossWeights<Dtype>(const Net<Dtype>&)
MOKA_INSTANTIATE_OUTPUT_LOSS_WEIGHTS(float);
MOKA_INSTANTIATE_OUTPUT_LOSS_WEIGHTS(double);
#undef MOKA_INSTANTIATE_OUTPUT_LOSS_WEIGHTS

MOKA_INSTANTIATE_CLASS(Solver);

}  // namespace moka
