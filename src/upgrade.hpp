#pragma once
// Upgrades of older Caffe formats to the current one, one function per historic change. Each runs
// only when its old form is present; `origin` names the file in log lines and errors.
#include <string>

#include "moka.pb.h"

namespace moka {

/// Applies every net upgrade that the definition needs, in Caffe's order.
void UpgradeNetAsNeeded(const std::string& origin, NetParameter* param);
/// Converts the deprecated solver_type enum into the type string.
void UpgradeSolverAsNeeded(const std::string& origin, SolverParameter* param);

/// NetParameter input / input_dim / input_shape -> an Input layer in front of the others.
bool NetNeedsInputUpgrade(const NetParameter& param);
void UpgradeNetInput(NetParameter* param);

/// Drops the three `param { lr_mult: 0 }` entries old BatchNorm definitions carried.
bool NetNeedsBatchNormUpgrade(const NetParameter& param);
void UpgradeNetBatchNorm(NetParameter* param);

}  // namespace moka
