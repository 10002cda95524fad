#include "upgrade.hpp"

#include <glog/logging.h>

#include <algorithm>
#include <map>
#include <utility>
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

bool NetNeedsV0ToV1Upgrade(const NetParameter& param) {
  for (const auto& layer : param.layers()) {
    if (layer.has_layer()) return true;
  }
  return false;
}

V1LayerParameter::LayerType UpgradeV0LayerType(const std::string& origin, const std::string& type) {
  static const std::pair<const char*, V1LayerParameter::LayerType> kTypes[] = {
      {"accuracy", V1LayerParameter::ACCURACY},
      {"bnll", V1LayerParameter::BNLL},
      {"concat", V1LayerParameter::CONCAT},
      {"conv", V1LayerParameter::CONVOLUTION},
      {"data", V1LayerParameter::DATA},
      {"dropout", V1LayerParameter::DROPOUT},
      {"euclidean_loss", V1LayerParameter::EUCLIDEAN_LOSS},
      {"flatten", V1LayerParameter::FLATTEN},
      {"hdf5_data", V1LayerParameter::HDF5_DATA},
      {"hdf5_output", V1LayerParameter::HDF5_OUTPUT},
      {"im2col", V1LayerParameter::IM2COL},
      {"images", V1LayerParameter::IMAGE_DATA},
      {"infogain_loss", V1LayerParameter::INFOGAIN_LOSS},
      {"innerproduct", V1LayerParameter::INNER_PRODUCT},
      {"lrn", V1LayerParameter::LRN},
      {"multinomial_logistic_loss", V1LayerParameter::MULTINOMIAL_LOGISTIC_LOSS},
      {"pool", V1LayerParameter::POOLING},
      {"relu", V1LayerParameter::RELU},
      {"sigmoid", V1LayerParameter::SIGMOID},
      {"softmax", V1LayerParameter::SOFTMAX},
      {"softmax_loss", V1LayerParameter::SOFTMAX_LOSS},
      {"split", V1LayerParameter::SPLIT},
      {"tanh", V1LayerParameter::TANH},
      {"window_data", V1LayerParameter::WINDOW_DATA},
  };
  for (const auto& entry : kTypes) {
    if (type == entry.first) return entry.second;
  }
  MOKA_THROW(ConfigError, origin << ": unknown V0 layer type '" << type << "'");
}

void UpgradeV0PaddingLayers(const std::string& origin, NetParameter* param) {
  const NetParameter original(*param);
  param->clear_layers();
  // For each blob, the index of the layer that wrote it last (-1 for net inputs): a layer reading
  // a padding layer's output takes over that padding.
  std::map<std::string, int> last_writer;
  for (const auto& input : original.input()) last_writer[input] = -1;
  for (int i = 0; i < original.layers_size(); ++i) {
    const V1LayerParameter& layer = original.layers(i);
    const std::string& type = layer.layer().type();
    const std::string& name = layer.layer().name();
    if (type != "padding") param->add_layers()->CopyFrom(layer);
    for (int j = 0; j < layer.bottom_size(); ++j) {
      const std::string& blob = layer.bottom(j);
      auto writer = last_writer.find(blob);
      MOKA_CHECK(writer != last_writer.end(), ConfigError,
                 origin << ": V0 layer '" << name << "' reads blob '" << blob
                        << "', which no earlier layer or net input produces");
      if (writer->second < 0) continue;
      const V1LayerParameter& source = original.layers(writer->second);
      if (source.layer().type() != "padding") continue;
      const std::string& padding_name = source.layer().name();
      MOKA_CHECK(type == "conv" || type == "pool", ConfigError,
                 origin << ": V0 padding layer '" << padding_name << "' feeds layer '" << name
                        << "' of type '" << type
                        << "'; padding can only be folded into conv or pool layers");
      MOKA_CHECK(layer.bottom_size() == 1, ConfigError,
                 origin << ": V0 layer '" << name << "' reads padded input from '" << padding_name
                        << "' and must then have exactly one bottom, not " << layer.bottom_size());
      MOKA_CHECK(source.bottom_size() == 1 && source.top_size() == 1, ConfigError,
                 origin << ": V0 padding layer '" << padding_name
                        << "' must have exactly one bottom and one top");
      V1LayerParameter* folded = param->mutable_layers(param->layers_size() - 1);
      folded->mutable_layer()->set_pad(source.layer().pad());
      folded->set_bottom(j, source.bottom(0));
    }
    for (const auto& top : layer.top()) last_writer[top] = i;
  }
}

bool UpgradeV0Layer(const std::string& origin, const V1LayerParameter& v0, V1LayerParameter* v1) {
  v1->Clear();
  for (const auto& bottom : v0.bottom()) v1->add_bottom(bottom);
  for (const auto& top : v0.top()) v1->add_top(top);
  if (!v0.has_layer()) return true;
  const V0LayerParameter& old = v0.layer();
  const std::string& type = old.type();
  bool compatible = true;
  // Settings that mean nothing for the layer's type are dropped, as Caffe does, but reported.
  auto drop = [&](const char* field) {
    LOG(WARNING) << origin << ": V0 layer '" << old.name() << "' of type '" << type
                 << "' has no use for '" << field << "'; dropping it";
    compatible = false;
  };
  if (old.has_name()) v1->set_name(old.name());
  if (old.has_type()) v1->set_type(UpgradeV0LayerType(origin, type));
  for (const auto& blob : old.blobs()) v1->add_blobs()->CopyFrom(blob);
  for (float lr : old.blobs_lr()) v1->add_blobs_lr(lr);
  for (float decay : old.weight_decay()) v1->add_weight_decay(decay);

  const bool conv = type == "conv";
  const bool ip = type == "innerproduct";
  const bool pool = type == "pool";
  if (old.has_num_output()) {
    if (conv) v1->mutable_convolution_param()->set_num_output(old.num_output());
    else if (ip) v1->mutable_inner_product_param()->set_num_output(old.num_output());
    else drop("num_output");
  }
  if (old.has_biasterm()) {
    if (conv) v1->mutable_convolution_param()->set_bias_term(old.biasterm());
    else if (ip) v1->mutable_inner_product_param()->set_bias_term(old.biasterm());
    else drop("biasterm");
  }
  if (old.has_weight_filler()) {
    if (conv) v1->mutable_convolution_param()->mutable_weight_filler()->CopyFrom(old.weight_filler());
    else if (ip) v1->mutable_inner_product_param()->mutable_weight_filler()->CopyFrom(old.weight_filler());
    else drop("weight_filler");
  }
  if (old.has_bias_filler()) {
    if (conv) v1->mutable_convolution_param()->mutable_bias_filler()->CopyFrom(old.bias_filler());
    else if (ip) v1->mutable_inner_product_param()->mutable_bias_filler()->CopyFrom(old.bias_filler());
    else drop("bias_filler");
  }
  if (old.has_pad()) {
    if (conv) v1->mutable_convolution_param()->add_pad(old.pad());
    else if (pool) v1->mutable_pooling_param()->set_pad(old.pad());
    else drop("pad");
  }
  if (old.has_kernelsize()) {
    if (conv) v1->mutable_convolution_param()->add_kernel_size(old.kernelsize());
    else if (pool) v1->mutable_pooling_param()->set_kernel_size(old.kernelsize());
    else drop("kernelsize");
  }
  if (old.has_group()) {
    if (conv) v1->mutable_convolution_param()->set_group(old.group());
    else drop("group");
  }
  if (old.has_stride()) {
    if (conv) v1->mutable_convolution_param()->add_stride(old.stride());
    else if (pool) v1->mutable_pooling_param()->set_stride(old.stride());
    else drop("stride");
  }
  if (old.has_pool()) {
    if (pool) {
      // The V0 and current enums share names and numbers.
      v1->mutable_pooling_param()->set_pool(
          static_cast<PoolingParameter::PoolMethod>(static_cast<int>(old.pool())));
    } else {
      drop("pool");
    }
  }
  if (old.has_dropout_ratio()) {
    if (type == "dropout") v1->mutable_dropout_param()->set_dropout_ratio(old.dropout_ratio());
    else drop("dropout_ratio");
  }
  const bool lrn = type == "lrn";
  if (old.has_local_size()) {
    if (lrn) v1->mutable_lrn_param()->set_local_size(old.local_size());
    else drop("local_size");
  }
  if (old.has_alpha()) {
    if (lrn) v1->mutable_lrn_param()->set_alpha(old.alpha());
    else drop("alpha");
  }
  if (old.has_beta()) {
    if (lrn) v1->mutable_lrn_param()->set_beta(old.beta());
    else drop("beta");
  }
  if (old.has_k()) {
    if (lrn) v1->mutable_lrn_param()->set_k(old.k());
    else drop("k");
  }
  if (old.has_source()) {
    if (type == "data") v1->mutable_data_param()->set_source(old.source());
    else if (type == "hdf5_data") v1->mutable_hdf5_data_param()->set_source(old.source());
    else if (type == "images") v1->mutable_image_data_param()->set_source(old.source());
    else if (type == "window_data") v1->mutable_window_data_param()->set_source(old.source());
    else if (type == "infogain_loss") v1->mutable_infogain_loss_param()->set_source(old.source());
    else drop("source");
  }
  // Transformation settings go straight to transform_param whatever the layer type.
  if (old.has_scale()) v1->mutable_transform_param()->set_scale(old.scale());
  if (old.has_meanfile()) v1->mutable_transform_param()->set_mean_file(old.meanfile());
  if (old.has_cropsize()) v1->mutable_transform_param()->set_crop_size(old.cropsize());
  if (old.has_mirror()) v1->mutable_transform_param()->set_mirror(old.mirror());
  if (old.has_batchsize()) {
    if (type == "data") v1->mutable_data_param()->set_batch_size(old.batchsize());
    else if (type == "hdf5_data") v1->mutable_hdf5_data_param()->set_batch_size(old.batchsize());
    else if (type == "images") v1->mutable_image_data_param()->set_batch_size(old.batchsize());
    else if (type == "window_data") v1->mutable_window_data_param()->set_batch_size(old.batchsize());
    else drop("batchsize");
  }
  if (old.has_rand_skip()) {
    if (type == "data") v1->mutable_data_param()->set_rand_skip(old.rand_skip());
    else if (type == "images") v1->mutable_image_data_param()->set_rand_skip(old.rand_skip());
    else drop("rand_skip");
  }
  const bool images = type == "images";
  if (old.has_shuffle_images()) {
    if (images) v1->mutable_image_data_param()->set_shuffle(old.shuffle_images());
    else drop("shuffle_images");
  }
  if (old.has_new_height()) {
    if (images) v1->mutable_image_data_param()->set_new_height(old.new_height());
    else drop("new_height");
  }
  if (old.has_new_width()) {
    if (images) v1->mutable_image_data_param()->set_new_width(old.new_width());
    else drop("new_width");
  }
  if (old.has_concat_dim()) {
    if (type == "concat") v1->mutable_concat_param()->set_concat_dim(old.concat_dim());
    else drop("concat_dim");
  }
  const bool window = type == "window_data";
  if (old.has_det_fg_threshold()) {
    if (window) v1->mutable_window_data_param()->set_fg_threshold(old.det_fg_threshold());
    else drop("det_fg_threshold");
  }
  if (old.has_det_bg_threshold()) {
    if (window) v1->mutable_window_data_param()->set_bg_threshold(old.det_bg_threshold());
    else drop("det_bg_threshold");
  }
  if (old.has_det_fg_fraction()) {
    if (window) v1->mutable_window_data_param()->set_fg_fraction(old.det_fg_fraction());
    else drop("det_fg_fraction");
  }
  if (old.has_det_context_pad()) {
    if (window) v1->mutable_window_data_param()->set_context_pad(old.det_context_pad());
    else drop("det_context_pad");
  }
  if (old.has_det_crop_mode()) {
    if (window) v1->mutable_window_data_param()->set_crop_mode(old.det_crop_mode());
    else drop("det_crop_mode");
  }
  if (old.has_hdf5_output_param()) {
    if (type == "hdf5_output") v1->mutable_hdf5_output_param()->CopyFrom(old.hdf5_output_param());
    else drop("hdf5_output_param");
  }
  return compatible;
}

bool UpgradeV0Net(const std::string& origin, NetParameter* param) {
  // A layer without the nested V0 block would lose its type in the upgrade; refuse the mix.
  for (const auto& layer : param->layers()) {
    MOKA_CHECK(layer.has_layer(), ConfigError,
               origin << ": the net mixes V0 layers (a nested 'layer' block) with V1 layer '"
                      << layer.name() << "'; use one format");
  }
  MOKA_CHECK(param->layer_size() == 0, ConfigError,
             origin << ": the net mixes V0 'layers' and V2 'layer' blocks; use one format");
  UpgradeV0PaddingLayers(origin, param);
  // Only these net-level fields existed in V0; the upgraded net keeps just them.
  NetParameter v0;
  v0.Swap(param);
  if (v0.has_name()) param->set_name(v0.name());
  bool compatible = true;
  for (const auto& layer : v0.layers()) {
    compatible &= UpgradeV0Layer(origin, layer, param->add_layers());
  }
  for (const auto& input : v0.input()) param->add_input(input);
  for (int dim : v0.input_dim()) param->add_input_dim(dim);
  if (v0.has_force_backward()) param->set_force_backward(v0.force_backward());
  return compatible;
}

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
                    << "' still holds a V0 'layer' block; upgrade the net with UpgradeV0Net first");
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

bool NetNeedsUpgrade(const NetParameter& param) {
  return NetNeedsV0ToV1Upgrade(param) || NetNeedsV1ToV2Upgrade(param) ||
         NetNeedsDataTransformUpgrade(param) || NetNeedsInputUpgrade(param) ||
         NetNeedsBatchNormUpgrade(param);
}

bool UpgradeNetAsNeeded(const std::string& origin, NetParameter* param) {
  bool compatible = true;
  if (NetNeedsV0ToV1Upgrade(*param)) {
    LOG(INFO) << origin << ": upgrading deprecated V0LayerParameter (nested 'layer' blocks)";
    if (!UpgradeV0Net(origin, param)) {
      compatible = false;
      LOG(WARNING) << origin << ": some V0 fields did not apply to their layers and were dropped "
                                "(see above); continuing";
    }
  }
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
  return compatible;
}

bool SolverNeedsTypeUpgrade(const SolverParameter& param) { return param.has_solver_type(); }

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
