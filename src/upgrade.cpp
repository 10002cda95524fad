#include "upgrade.hpp"

#include <glog/logging.h>

#include "error.hpp"

namespace moka {

bool NetNeedsInputUpgrade(const NetParameter& param) { return param.input_size() > 0; }

void UpgradeNetInput(NetParameter* param) {
  const bool has_shape = param->input_shape_size() > 0;
  const bool has_dim = param->input_dim_size() > 0;
  MOKA_CHECK(!(has_shape && has_dim), ConfigError,
             "a net may give input_shape or input_dim, not both");
  if (has_shape) {
    MOKA_CHECK(param->input_shape_size() == 1 || param->input_shape_size() == param->input_size(),
               ConfigError, "net has " << param->input_size() << " inputs but "
                                       << param->input_shape_size() << " input_shape entries");
  }
  if (has_dim) {
    MOKA_CHECK(param->input_dim_size() == 4 * param->input_size(), ConfigError,
               "net has " << param->input_size() << " inputs, so input_dim needs "
                          << 4 * param->input_size() << " values, got " << param->input_dim_size());
  }
  LayerParameter input_layer;
  input_layer.set_name("input");
  input_layer.set_type("Input");
  InputParameter* input_param = input_layer.mutable_input_param();
  for (int i = 0; i < param->input_size(); ++i) {
    input_layer.add_top(param->input(i));
    if (has_shape) {
      input_param->add_shape()->CopyFrom(param->input_shape(param->input_shape_size() == 1 ? 0 : i));
    } else if (has_dim) {
      BlobShape* shape = input_param->add_shape();
      for (int j = 0; j < 4; ++j) shape->add_dim(param->input_dim(4 * i + j));
    }
  }
  // The Input layer goes first: rebuild the layer list with it in front.
  google::protobuf::RepeatedPtrField<LayerParameter> layers;
  layers.Add()->CopyFrom(input_layer);
  for (const auto& layer : param->layer()) layers.Add()->CopyFrom(layer);
  param->mutable_layer()->Swap(&layers);
  param->clear_input();
  param->clear_input_shape();
  param->clear_input_dim();
}

bool NetNeedsBatchNormUpgrade(const NetParameter& param) {
  for (const auto& layer : param.layer()) {
    if (layer.type() == "BatchNorm" && layer.param_size() == 3) return true;
  }
  return false;
}

void UpgradeNetBatchNorm(NetParameter* param) {
  for (auto& layer : *param->mutable_layer()) {
    // BatchNorm's statistics are not learned; the solver must not touch them whatever lr_mult says.
    if (layer.type() == "BatchNorm" && layer.param_size() == 3) layer.clear_param();
  }
}

void UpgradeNetAsNeeded(const std::string& origin, NetParameter* param) {
  MOKA_CHECK(param->layers_size() == 0, ConfigError,
             origin << ": legacy V0/V1 layer definitions ('layers' blocks) are not supported by this "
                       "build of moka yet; see README (formats)");
  if (NetNeedsInputUpgrade(*param)) {
    LOG(INFO) << origin << ": upgrading deprecated input fields to an Input layer";
    UpgradeNetInput(param);
  }
  if (NetNeedsBatchNormUpgrade(*param)) {
    LOG(INFO) << origin << ": dropping the explicit param entries of BatchNorm layers";
    UpgradeNetBatchNorm(param);
  }
}

void UpgradeSolverAsNeeded(const std::string& origin, SolverParameter* param) {
  if (!param->has_solver_type()) return;
  MOKA_CHECK(!param->has_type(), ConfigError,
             origin << ": give either the deprecated solver_type or type, not both");
  static const char* kNames[] = {"SGD", "Nesterov", "AdaGrad", "RMSProp", "AdaDelta", "Adam"};
  const int index = static_cast<int>(param->solver_type());
  MOKA_CHECK(index >= 0 && index < 6, ConfigError, origin << ": unknown solver_type " << index);
  LOG(INFO) << origin << ": upgrading solver_type to type: " << kNames[index];
  param->set_type(kNames[index]);
  param->clear_solver_type();
}

}  // namespace moka
