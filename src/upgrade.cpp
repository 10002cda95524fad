#include "upgrade.hpp"

#include <glog/logging.h>

#include <algorithm>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/reflection.h>

#include "error.hpp"

namespace moka {

std::string V1LayerTypeName(V1LayerParameter::LayerType type) {
  switch (type) {
    case V1LayerParameter::NONE: return "";
    case V1LayerParameter::ABSVAL: return "AbsVal";
    case V1LayerParameter::ACCURACY: return "Accuracy";
    case V1LayerParameter::ARGMAX: return "ArgMax";
    case V1LayerParameter::BNLL: return "BNLL";
    case V1LayerParameter::CONCAT: return "Concat";
    case V1LayerParameter::CONTRASTIVE_LOSS: return "ContrastiveLoss";
    case V1LayerParameter::CONVOLUTION: return "Convolution";
    case V1LayerParameter::DECONVOLUTION: return "Deconvolution";
    case V1LayerParameter::DATA: return "Data";
    case V1LayerParameter::DROPOUT: return "Dropout";
    case V1LayerParameter::DUMMY_DATA: return "DummyData";
    case V1LayerParameter::EUCLIDEAN_LOSS: return "EuclideanLoss";
    case V1LayerParameter::ELTWISE: return "Eltwise";
    case V1LayerParameter::EXP: return "Exp";
    case V1LayerParameter::FLATTEN: return "Flatten";
    case V1LayerParameter::HDF5_DATA: return "HDF5Data";
    case V1LayerParameter::HDF5_OUTPUT: return "HDF5Output";
    case V1LayerParameter::HINGE_LOSS: return "HingeLoss";
    case V1LayerParameter::IM2COL: return "Im2col";
    case V1LayerParameter::IMAGE_DATA: return "ImageData";
    case V1LayerParameter::INFOGAIN_LOSS: return "InfogainLoss";
    case V1LayerParameter::INNER_PRODUCT: return "InnerProduct";
    case V1LayerParameter::LRN: return "LRN";
    case V1LayerParameter::MEMORY_DATA: return "MemoryData";
    case V1LayerParameter::MULTINOMIAL_LOGISTIC_LOSS: return "MultinomialLogisticLoss";
    case V1LayerParameter::MVN: return "MVN";
    case V1LayerParameter::POOLING: return "Pooling";
    case V1LayerParameter::POWER: return "Power";
    case V1LayerParameter::RELU: return "ReLU";
    case V1LayerParameter::SIGMOID: return "Sigmoid";
    case V1LayerParameter::SIGMOID_CROSS_ENTROPY_LOSS: return "SigmoidCrossEntropyLoss";
    case V1LayerParameter::SILENCE: return "Silence";
    case V1LayerParameter::SOFTMAX: return "Softmax";
    case V1LayerParameter::SOFTMAX_LOSS: return "SoftmaxWithLoss";
    case V1LayerParameter::SPLIT: return "Split";
    case V1LayerParameter::SLICE: return "Slice";
    case V1LayerParameter::TANH: return "TanH";
    case V1LayerParameter::WINDOW_DATA: return "WindowData";
    case V1LayerParameter::THRESHOLD: return "Threshold";
  }
  MOKA_THROW(ConfigError, "unknown V1 layer type " << static_cast<int>(type));
}

bool NetNeedsV1ToV2Upgrade(const NetParameter& param) { return param.layers_size() > 0; }

namespace {

// V1 and V2 name their per-layer parameter messages alike (convolution_param, ...), so those
// carry over field by field through reflection.
void CopySameNamedMessages(const V1LayerParameter& v1, LayerParameter* v2) {
  const auto* v1_reflection = v1.GetReflection();
  const auto* v2_descriptor = v2->GetDescriptor();
  const auto* v2_reflection = v2->GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  v1_reflection->ListFields(v1, &fields);
  for (const auto* field : fields) {
    if (field->is_repeated() || field->type() != google::protobuf::FieldDescriptor::TYPE_MESSAGE)
      continue;
    if (field->name() == "layer") continue;
    const auto* target = v2_descriptor->FindFieldByName(field->name());
    if (target == nullptr || target->message_type() != field->message_type()) continue;
    v2_reflection->MutableMessage(v2, target)->CopyFrom(v1_reflection->GetMessage(v1, field));
  }
}

LayerParameter UpgradeV1Layer(const std::string& origin, const V1LayerParameter& v1) {
  MOKA_CHECK(!v1.has_layer(), ConfigError,
             origin << ": layer '" << v1.name()
                    << "' is in the V0 format (a nested 'layer' block), which this build of moka "
                       "does not read yet");
  LayerParameter layer;
  layer.set_name(v1.name());
  layer.set_type(V1LayerTypeName(v1.type()));
  for (const auto& bottom : v1.bottom()) layer.add_bottom(bottom);
  for (const auto& top : v1.top()) layer.add_top(top);
  for (const auto& rule : v1.include()) layer.add_include()->CopyFrom(rule);
  for (const auto& rule : v1.exclude()) layer.add_exclude()->CopyFrom(rule);
  for (float weight : v1.loss_weight()) layer.add_loss_weight(weight);
  for (const auto& blob : v1.blobs()) layer.add_blobs()->CopyFrom(blob);
  const int num_specs = std::max({v1.param_size(), v1.blob_share_mode_size(), v1.blobs_lr_size(),
                                  v1.weight_decay_size()});
  for (int i = 0; i < num_specs; ++i) {
    ParamSpec* spec = layer.add_param();
    if (i < v1.param_size()) spec->set_name(v1.param(i));
    if (i < v1.blob_share_mode_size())
      spec->set_share_mode(static_cast<ParamSpec::DimCheckMode>(v1.blob_share_mode(i)));
    if (i < v1.blobs_lr_size()) spec->set_lr_mult(v1.blobs_lr(i));
    if (i < v1.weight_decay_size()) spec->set_decay_mult(v1.weight_decay(i));
  }
  CopySameNamedMessages(v1, &layer);
  return layer;
}

// Moves old-style transform fields of one data parameter message into transform_param.
template <typename DataParam>
bool MoveTransformFields(DataParam* data, TransformationParameter* transform) {
  bool moved = false;
  if (data->has_scale()) {
    transform->set_scale(data->scale());
    data->clear_scale();
    moved = true;
  }
  if (data->has_mean_file()) {
    transform->set_mean_file(data->mean_file());
    data->clear_mean_file();
    moved = true;
  }
  if (data->has_crop_size()) {
    transform->set_crop_size(data->crop_size());
    data->clear_crop_size();
    moved = true;
  }
  if (data->has_mirror()) {
    transform->set_mirror(data->mirror());
    data->clear_mirror();
    moved = true;
  }
  return moved;
}

template <typename DataParam>
bool HasTransformFields(const DataParam& data) {
  return data.has_scale() || data.has_mean_file() || data.has_crop_size() || data.has_mirror();
}

}  // namespace

void UpgradeV1Net(const std::string& origin, NetParameter* param) {
  MOKA_CHECK(param->layer_size() == 0, ConfigError,
             origin << ": the net mixes V1 'layers' and V2 'layer' blocks; use one format");
  for (const auto& v1 : param->layers()) *param->add_layer() = UpgradeV1Layer(origin, v1);
  param->clear_layers();
}

bool NetNeedsDataTransformUpgrade(const NetParameter& param) {
  for (const auto& layer : param.layer()) {
    if ((layer.has_data_param() && HasTransformFields(layer.data_param())) ||
        (layer.has_image_data_param() && HasTransformFields(layer.image_data_param())) ||
        (layer.has_window_data_param() && HasTransformFields(layer.window_data_param())))
      return true;
  }
  return false;
}

void UpgradeNetDataTransform(NetParameter* param) {
  for (auto& layer : *param->mutable_layer()) {
    if (layer.has_data_param())
      MoveTransformFields(layer.mutable_data_param(), layer.mutable_transform_param());
    if (layer.has_image_data_param())
      MoveTransformFields(layer.mutable_image_data_param(), layer.mutable_transform_param());
    if (layer.has_window_data_param())
      MoveTransformFields(layer.mutable_window_data_param(), layer.mutable_transform_param());
  }
}

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
  if (NetNeedsV1ToV2Upgrade(*param)) {
    LOG(INFO) << origin << ": upgrading deprecated V1LayerParameter ('layers') to 'layer'";
    UpgradeV1Net(origin, param);
  }
  if (NetNeedsDataTransformUpgrade(*param)) {
    LOG(INFO) << origin << ": moving deprecated transformation parameters into transform_param";
    UpgradeNetDataTransform(param);
  }
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
  // Nets written inside the solver file need the same upgrades as nets in their own files.
  if (param->has_net_param()) UpgradeNetAsNeeded(origin, param->mutable_net_param());
  if (param->has_train_net_param()) UpgradeNetAsNeeded(origin, param->mutable_train_net_param());
  for (auto& test_net : *param->mutable_test_net_param()) UpgradeNetAsNeeded(origin, &test_net);
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
