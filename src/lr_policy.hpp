#pragma once
// Learning-rate schedules (SolverParameter.lr_policy), with Caffe's formulas and arithmetic:
//   fixed      base_lr
//   step       base_lr * gamma ^ floor(iter / stepsize)
//   exp        base_lr * gamma ^ iter
//   inv        base_lr * (1 + gamma * iter) ^ (-power)
//   multistep  base_lr * gamma ^ (number of stepvalue boundaries passed)
//   poly       base_lr * (1 - iter / max_iter) ^ power
//   sigmoid    base_lr / (1 + exp(-gamma * (iter - stepsize)))
#include <string>
#include <vector>

#include "common.hpp"
#include "moka.pb.h"

namespace moka {

/// The rate at `iter`. `current_step` is the schedule position a solver keeps (and snapshots):
/// "step" sets it to iter / stepsize; "multistep" advances it by at most one boundary per call,
/// as Caffe does, so it must be called once per iteration in order. Unknown policies and invalid
/// parameters (stepsize <= 0, gamma < 0) raise ConfigError.
template <typename Dtype>
Dtype LearningRate(const SolverParameter& param, int iter, int* current_step);

/// The policy names LearningRate understands.
const std::vector<std::string>& LearningRatePolicies();

}  // namespace moka
