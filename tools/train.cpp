// moka train: builds the solver a prototxt describes, optionally finetunes from trained weights or
// resumes from a snapshot, and trains. SIGINT and SIGHUP become requests the solver polls.
#include <glog/logging.h>

#include <csignal>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "error.hpp"
#include "hdf5_io.hpp"
#include "net.hpp"
#include "proto_io.hpp"
#include "solver.hpp"
#include "solver_registry.hpp"
#include "tools/cli.hpp"
#include "tools/verbs.hpp"

namespace moka {
namespace {

SolverAction SignalEffect(const std::string& flag_name, const std::string& value) {
  if (value == "stop") return SolverAction::STOP;
  if (value == "snapshot") return SolverAction::SNAPSHOT;
  if (value == "none") return SolverAction::NONE;
  MOKA_THROW(ConfigError, "--" << flag_name << " must be snapshot, stop or none, not '" << value
                               << "'");
}

volatile std::sig_atomic_t got_sigint = 0;
volatile std::sig_atomic_t got_sighup = 0;

extern "C" void RecordSignal(int signal) {
  if (signal == SIGINT) got_sigint = 1;
  if (signal == SIGHUP) got_sighup = 1;
}

/// Catches SIGINT and SIGHUP while training, so that Ctrl-C ends the run cleanly (with a final
/// snapshot) instead of killing it mid-write; the previous handlers come back at scope exit.
class SignalCapture {
 public:
  SignalCapture() {
    got_sigint = 0;
    got_sighup = 0;
    struct sigaction action = {};
    action.sa_handler = RecordSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGINT, &action, &previous_sigint_);
    sigaction(SIGHUP, &action, &previous_sighup_);
  }
  ~SignalCapture() {
    sigaction(SIGINT, &previous_sigint_, nullptr);
    sigaction(SIGHUP, &previous_sighup_, nullptr);
  }
  SignalCapture(const SignalCapture&) = delete;
  SignalCapture& operator=(const SignalCapture&) = delete;

 private:
  struct sigaction previous_sigint_ = {};
  struct sigaction previous_sighup_ = {};
};

/// Layer names joined for a log line, or "none".
std::string NameList(const std::vector<std::string>& names) {
  if (names.empty()) return "none";
  std::string text;
  for (const std::string& name : names) text += (text.empty() ? "" : ", ") + name;
  return text;
}

/// Says, for every layer of the train net that has parameters, whether finetuning gave it
/// trained values (copied) or left it to its fillers (new: no layer of that name in the weights),
/// and which layers will not learn (frozen: every lr_mult 0), so a misnamed layer shows at once.
void LogFinetuneSummary(const Net<float>& net, const std::set<std::string>& trained_names) {
  std::vector<std::string> copied, fresh, frozen;
  for (int i = 0; i < net.num_layers(); ++i) {
    const auto& layer = net.layers()[i];
    if (layer->blobs().empty()) continue;
    const std::string& name = net.layer_names()[i];
    (trained_names.count(name) > 0 ? copied : fresh).push_back(name);
    const LayerParameter& param = layer->layer_param();
    bool learns = false;
    for (size_t j = 0; j < layer->blobs().size(); ++j) {
      const float lr_mult = static_cast<int>(j) < param.param_size() ? param.param(j).lr_mult() : 1.f;
      learns = learns || lr_mult != 0;
    }
    if (!learns) frozen.push_back(name);
  }
  LOG(INFO) << "Finetuning: copied " << copied.size() << " layer(s): " << NameList(copied);
  LOG(INFO) << "Finetuning: new " << fresh.size()
            << " layer(s) (not in the weights; initialised by their fillers): " << NameList(fresh);
  LOG(INFO) << "Finetuning: frozen " << frozen.size() << " layer(s) (all lr_mult 0): "
            << NameList(frozen);
}

/// Copies each model of a comma-separated list, in order, into the train net and every test net.
void CopyLayers(Solver<float>* solver, const std::string& model_list) {
  std::set<std::string> trained_names;
  for (const std::string& model : SplitList(model_list)) {
    LOG(INFO) << "Finetuning from " << model;
    const std::string h5 = ".h5";
    if (model.size() >= h5.size() && model.compare(model.size() - h5.size(), h5.size(), h5) == 0) {
      // Caffe's HDF5 weights; each net reads the file and names the file in its errors.
      solver->net()->CopyTrainedLayersFrom(model);
      for (const auto& test_net : solver->test_nets()) test_net->CopyTrainedLayersFrom(model);
      Hdf5Handle file = Hdf5OpenFile(model);
      Hdf5Handle data = Hdf5OpenGroup(file, "data");
      for (const auto& name : solver->net()->layer_names()) {
        if (Hdf5HasLink(data, name)) trained_names.insert(name);
      }
      continue;
    }
    try {
      // Read once for all nets: a caffemodel can be hundreds of megabytes.
      const NetParameter trained = ReadNetParamFromBinaryFile(model);
      solver->net()->CopyTrainedLayersFrom(trained);
      for (const auto& test_net : solver->test_nets()) test_net->CopyTrainedLayersFrom(trained);
      for (const auto& layer : trained.layer()) trained_names.insert(layer.name());
    } catch (Error& error) {
      error.AddContext("loading weights from '" + model + "'");
      throw;
    }
  }
  LogFinetuneSummary(*solver->net(), trained_names);
}

}  // namespace

int TrainMain() {
  MOKA_CHECK(!FLAGS_solver.empty(), ConfigError,
             "need a solver definition to train: give --solver=SOLVER.prototxt");
  MOKA_CHECK(FLAGS_snapshot.empty() || FLAGS_weights.empty(), ConfigError,
             "give --snapshot to resume training or --weights to finetune, but not both");
  const SolverAction sigint_effect = SignalEffect("sigint_effect", FLAGS_sigint_effect);
  const SolverAction sighup_effect = SignalEffect("sighup_effect", FLAGS_sighup_effect);

  // Checked before the solver is read, so that a CPU-only build says so first.
  std::vector<int> gpus = GpusFromFlags();
  MOKA_CHECK(gpus.size() <= 1, ConfigError,
             "moka trains on one GPU; --gpu names " << gpus.size() << " devices");

  SolverParameter solver_param = ReadSolverParamFromTextFile(FLAGS_solver);
  solver_param.mutable_train_state()->set_level(FLAGS_level);
  for (const std::string& stage : StagesFromFlags()) {
    solver_param.mutable_train_state()->add_stage(stage);
  }
  // The command line decides what the run starts from; the solver's own `weights` would load
  // on top of a snapshot or twice over --weights.
  if (!FLAGS_snapshot.empty() || !FLAGS_weights.empty()) solver_param.clear_weights();

  // As in Caffe, without --gpu the solver's solver_mode and device_id choose the device.
  if (FLAGS_gpu.empty() && solver_param.solver_mode() == SolverParameter::GPU) {
    MOKA_CHECK(BuiltWithCuda(), DeviceError,
               "the solver asks for GPU mode (solver_mode: GPU, the default when it is not set) "
               "but this moka was built without CUDA support; set solver_mode: CPU in "
                   << FLAGS_solver);
    gpus.push_back(solver_param.device_id());
  }

  std::shared_ptr<Context> context;
  if (gpus.empty()) {
    LOG(INFO) << "Use CPU.";
  } else {
    LOG(INFO) << "Using GPU " << gpus[0];
    solver_param.set_device_id(gpus[0]);
    // The solver reseeds the context when random_seed is set.
    context = MakeContext(gpus, Context::ClockSeed());
  }

  SignalCapture signal_capture;
  std::shared_ptr<Solver<float>> solver = SolverRegistry<float>::Create(solver_param, context);
  solver->set_action_function([sigint_effect, sighup_effect]() {
    if (got_sigint) {
      got_sigint = 0;
      return sigint_effect;
    }
    if (got_sighup) {
      got_sighup = 0;
      return sighup_effect;
    }
    return SolverAction::NONE;
  });

  if (!FLAGS_snapshot.empty()) {
    LOG(INFO) << "Resuming from " << FLAGS_snapshot;
  } else if (!FLAGS_weights.empty()) {
    CopyLayers(solver.get(), FLAGS_weights);
  }
  LOG(INFO) << "Starting Optimization";
  solver->Solve(FLAGS_snapshot);
  LOG(INFO) << "Optimization Done.";
  return 0;
}

}  // namespace moka
