#include "lr_policy.hpp"

#include <glog/logging.h>

#include <cmath>
#include <sstream>

namespace moka {

const std::vector<std::string>& LearningRatePolicies() {
  static const std::vector<std::string> policies = {"fixed",     "step", "exp",    "inv",
                                                    "multistep", "poly", "sigmoid"};
  return policies;
}

namespace {

void CheckGamma(const SolverParameter& param) {
  MOKA_CHECK(param.gamma() >= 0, ConfigError,
             "lr_policy '" << param.lr_policy() << "' needs gamma >= 0, got " << param.gamma());
}

void CheckStepsize(const SolverParameter& param) {
  MOKA_CHECK(
      param.stepsize() > 0, ConfigError,
      "lr_policy '" << param.lr_policy() << "' needs stepsize > 0, got " << param.stepsize());
}

}  // namespace

// The mixed float/Dtype/double arithmetic below is deliberate: Caffe evaluates each policy with
// these operand types (float solver fields, Dtype iteration, pow(float, int) promoted to double),
// and keeping them gives bit-identical rates.
template <typename Dtype>
Dtype LearningRate(const SolverParameter& param, int iter, int* current_step) {
  MOKA_ASSERT(current_step != nullptr);
  const std::string& policy = param.lr_policy();
  if (policy == "fixed") {
    return param.base_lr();
  }
  if (policy == "step") {
    CheckStepsize(param);
    CheckGamma(param);
    *current_step = iter / param.stepsize();
    return static_cast<Dtype>(param.base_lr() * std::pow(param.gamma(), *current_step));
  }
  if (policy == "exp") {
    CheckGamma(param);
    return static_cast<Dtype>(param.base_lr() * std::pow(param.gamma(), iter));
  }
  if (policy == "inv") {
    CheckGamma(param);
    return static_cast<Dtype>(param.base_lr() *
                              std::pow(Dtype(1) + param.gamma() * iter, -param.power()));
  }
  if (policy == "multistep") {
    if (*current_step < param.stepvalue_size() && iter >= param.stepvalue(*current_step)) {
      ++*current_step;
      LOG(INFO) << "MultiStep Status: Iteration " << iter << ", step = " << *current_step;
    }
    CheckGamma(param);
    return static_cast<Dtype>(param.base_lr() * std::pow(param.gamma(), *current_step));
  }
  if (policy == "poly") {
    return static_cast<Dtype>(
        param.base_lr() *
        std::pow(Dtype(1) - Dtype(iter) / Dtype(param.max_iter()), param.power()));
  }
  if (policy == "sigmoid") {
    CheckGamma(param);
    CheckStepsize(param);
    return static_cast<Dtype>(
        param.base_lr() *
        (Dtype(1) /
         (Dtype(1) + std::exp(-param.gamma() * (Dtype(iter) - Dtype(param.stepsize()))))));
  }
  std::ostringstream known;
  for (const auto& name : LearningRatePolicies()) known << (known.tellp() > 0 ? ", " : "") << name;
  MOKA_THROW(ConfigError, "unknown lr_policy '" << policy << "' (known: " << known.str() << ")");
}

template float LearningRate<float>(const SolverParameter&, int, int*);
template double LearningRate<double>(const SolverParameter&, int, int*);

}  // namespace moka
