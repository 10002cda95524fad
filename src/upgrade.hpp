#pragma once
// Upgrades of older Caffe formats to the current one, one function per historic change. Each runs
// only when its old form is present; `origin` names the file in log lines and errors.
#include <string>

#include "moka.pb.h"

namespace moka {

/// Whether any of the upgrades below applies (the upgrade_net_proto_* verbs report this).
bool NetNeedsUpgrade(const NetParameter& param);
/// Applies every net upgrade that the definition needs, in Caffe's order. Returns false when some
/// old field had no meaning for its layer type and was dropped (each is logged); definitions that
/// cannot be upgraded at all raise ConfigError.
bool UpgradeNetAsNeeded(const std::string& origin, NetParameter* param);
/// Whether the solver uses the deprecated solver_type enum.
bool SolverNeedsTypeUpgrade(const SolverParameter& param);
/// Converts the deprecated solver_type enum into the type string.
void UpgradeSolverAsNeeded(const std::string& origin, SolverParameter* param);

/// V0 nets: V1 `layers` blocks that wrap a nested `layer { type: "conv" ... }` (V0LayerParameter)
/// with lower-case type strings and all settings as flat fields.
bool NetNeedsV0ToV1Upgrade(const NetParameter& param);
/// Folds each V0 `padding` layer into the conv or pool layer it feeds: that layer takes the
/// padding layer's pad and its input blob, and the padding layer is removed.
void UpgradeV0PaddingLayers(const std::string& origin, NetParameter* param);
/// Turns one V0 layer into its V1 form (enum type, per-type parameter messages). Returns false
/// when a field does not apply to the layer's type (the field is dropped and logged).
bool UpgradeV0Layer(const std::string& origin, const V1LayerParameter& v0, V1LayerParameter* v1);
/// The V1 enum for a V0 type string ("conv" -> CONVOLUTION); ConfigError for unknown strings.
V1LayerParameter::LayerType UpgradeV0LayerType(const std::string& origin, const std::string& type);
/// Padding folding, then every layer to V1. Keeps the net's name, inputs and force_backward.
bool UpgradeV0Net(const std::string& origin, NetParameter* param);

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
