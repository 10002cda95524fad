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

/// V1 `layers` blocks (enum types, blobs_lr/weight_decay) -> V2 `layer` blocks.
bool NetNeedsV1ToV2Upgrade(const NetParameter& param);
void UpgradeV1Net(const std::string& origin, NetParameter* param);
std::string V1LayerTypeName(V1LayerParameter::LayerType type);

/// Old per-layer transform fields (scale, mean_file, crop_size, mirror in data_param,
/// image_data_param and window_data_param) -> transform_param.
bool NetNeedsDataTransformUpgrade(const NetParameter& param);
void UpgradeNetDataTransform(NetParameter* param);

/// NetParameter input / input_dim / input_shape -> an Input layer in front of the others.
bool NetNeedsInputUpgrade(const NetParameter& param);
void UpgradeNetInput(NetParameter* param);

/// Drops the three `param { lr_mult: 0 }` entries old BatchNorm definitions carried.
bool NetNeedsBatchNormUpgrade(const NetParameter& param);
void UpgradeNetBatchNorm(NetParameter* param);

}  // namespace moka
