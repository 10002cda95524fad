#pragma once
// What the verbs of `moka` share: the Caffe-named command-line flags and the small parsers that
// turn them into a phase, NetState stages and a device context.
#include <gflags/gflags.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "context.hpp"
#include "moka.pb.h"

DECLARE_string(solver);
DECLARE_string(model);
DECLARE_string(weights);
DECLARE_string(snapshot);
DECLARE_string(gpu);
DECLARE_int32(iterations);
DECLARE_string(phase);
DECLARE_int32(level);
DECLARE_string(stage);
DECLARE_string(sigint_effect);
DECLARE_string(sighup_effect);

namespace moka {

/// Whether this moka was compiled with the CUDA backend.
bool BuiltWithCuda();

/// Splits "a,b,c" at commas, dropping empty items ("" gives no items).
std::vector<std::string> SplitList(const std::string& text);

/// --stage as a list of NetState stages.
std::vector<std::string> StagesFromFlags();

/// --phase, or `default_phase` when it is empty; anything but TRAIN/TEST is a ConfigError.
Phase PhaseFromFlags(Phase default_phase);

/// Device ids named by --gpu ("" for none, "0,1", or "all"). Throws DeviceError when a GPU is
/// asked for and this build cannot provide one.
std::vector<int> GpusFromFlags();

/// A context on the first of `gpus`, or on the CPU when `gpus` is empty.
std::shared_ptr<Context> MakeContext(const std::vector<int>& gpus, uint64_t seed = 0);

}  // namespace moka
