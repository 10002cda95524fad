#include "tools/cli.hpp"

#include <cstdlib>
#include <sstream>

#ifdef MOKA_CUDA
#include <cuda_runtime_api.h>
#endif

#include "error.hpp"

DEFINE_string(solver, "", "The solver definition protocol buffer text file.");
DEFINE_string(model, "", "The model definition protocol buffer text file.");
DEFINE_string(weights, "",
              "Optional; the pretrained weights to initialise finetuning, separated by ','. "
              "Cannot be set together with --snapshot.");
DEFINE_string(snapshot, "", "Optional; the .solverstate to resume training from.");
DEFINE_string(gpu, "",
              "Optional; run in GPU mode on the given device ID. moka runs on one GPU: test and "
              "time use the first of a list (or of 'all'), train refuses more than one.");
DEFINE_int32(iterations, 50, "The number of iterations to run.");
DEFINE_string(phase, "", "Optional; network phase (TRAIN or TEST). Only used for 'time'.");
DEFINE_int32(level, 0, "Optional; network level.");
DEFINE_string(stage, "",
              "Optional; network stages (not to be confused with phase), separated by ','.");
DEFINE_string(sigint_effect, "stop",
              "Optional; action to take when a SIGINT signal is received: snapshot, stop or none.");
DEFINE_string(sighup_effect, "snapshot",
              "Optional; action to take when a SIGHUP signal is received: snapshot, stop or none.");

namespace moka {

bool BuiltWithCuda() {
#ifdef MOKA_CUDA
  return true;
#else
  return false;
#endif
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    if (!item.empty()) items.push_back(item);
  }
  return items;
}

std::vector<std::string> StagesFromFlags() { return SplitList(FLAGS_stage); }

Phase PhaseFromFlags(Phase default_phase) {
  if (FLAGS_phase.empty()) return default_phase;
  if (FLAGS_phase == "TRAIN") return TRAIN;
  if (FLAGS_phase == "TEST") return TEST;
  MOKA_THROW(ConfigError, "--phase must be TRAIN or TEST, not '" << FLAGS_phase << "'");
}

namespace {

int GpuDeviceCount() {
#ifdef MOKA_CUDA
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  MOKA_CHECK(status == cudaSuccess, DeviceError,
             "cannot count the GPUs: " << cudaGetErrorString(status));
  return count;
#else
  return 0;
#endif
}

}  // namespace

std::vector<int> GpusFromFlags() {
  if (FLAGS_gpu.empty()) return {};
  MOKA_CHECK(BuiltWithCuda(), DeviceError,
             "GPU requested (--gpu=" << FLAGS_gpu
                                     << ") but this moka was built without CUDA support");
  std::vector<int> gpus;
  if (FLAGS_gpu == "all") {
    const int count = GpuDeviceCount();
    MOKA_CHECK(count > 0, DeviceError, "--gpu=all, but no GPU is visible");
    for (int i = 0; i < count; ++i) gpus.push_back(i);
    return gpus;
  }
  for (const std::string& item : SplitList(FLAGS_gpu)) {
    char* end = nullptr;
    const long id = std::strtol(item.c_str(), &end, 10);
    MOKA_CHECK(*end == '\0' && id >= 0, ConfigError,
               "--gpu takes device IDs separated by ',' or 'all', not '" << FLAGS_gpu << "'");
    gpus.push_back(static_cast<int>(id));
  }
  return gpus;
}

std::shared_ptr<Context> MakeContext(const std::vector<int>& gpus, uint64_t seed) {
  if (gpus.empty()) return std::make_shared<Context>(Device::kCpu, 0, seed);
  return std::make_shared<Context>(Device::kGpu, gpus[0], seed);
}

}  // namespace moka
