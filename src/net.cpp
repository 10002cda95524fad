#include "net.hpp"

#include <glog/logging.h>

#include <sstream>

#include "hdf5_io.hpp"
#include "insert_splits.hpp"
#include "layer_registry.hpp"
#include "proto_io.hpp"

namespace moka {

template <typename Dtype>
Net<Dtype>::Net(const NetParameter& param, std::shared_ptr<Context> context)
    : context_(std::move(context)) {
  Init(param);
}

template <typename Dtype>
Net<Dtype>::Net(const std::string& prototxt_path, Phase phase, std::shared_ptr<Context> context,
                int level, const std::vector<std::string>& stages)
    : context_(std::move(context)) {
  NetParameter param = ReadNetParamFromTextFile(prototxt_path);
  param.mutable_state()->set_phase(phase);
  param.mutable_state()->set_level(level);
  for (const auto& stage : stages) param.mutable_state()->add_stage(stage);
  Init(param);
}

template <typename Dtype>
bool Net<Dtype>::StateMeetsRule(const NetState& state, const NetStateRule& rule,
                                const std::string& layer_name) {
  if (rule.has_phase() && rule.phase() != state.phase()) return false;
  if (rule.has_min_level() && state.level() < rule.min_level()) return false;
  if (rule.has_max_level() && state.level() > rule.max_level()) return false;
  auto has_stage = [&state](const std::string& stage) {
    for (const auto& s : state.stage())
      if (s == stage) return true;
    return false;
  };
  for (const auto& stage : rule.stage())
    if (!has_stage(stage)) return false;
  for (const auto& stage : rule.not_stage())
    if (has_stage(stage)) return false;
  return true;
}

template <typename Dtype>
NetParameter Net<Dtype>::FilterNet(const NetParameter& param) {
  NetParameter filtered(param);
  filtered.clear_layer();
  for (const auto& layer : param.layer()) {
    MOKA_CHECK(layer.include_size() == 0 || layer.exclude_size() == 0, ConfigError,
               "layer '" << layer.name() << "' has both include and exclude rules; give one kind");
    bool keep = layer.include_size() == 0;
    for (const auto& rule : layer.exclude())
      if (StateMeetsRule(param.state(), rule, layer.name())) keep = false;
    for (const auto& rule : layer.include())
      if (StateMeetsRule(param.state(), rule, layer.name())) keep = true;
    if (keep) filtered.add_layer()->CopyFrom(layer);
  }
  return filtered;
}

template <typename Dtype>
void Net<Dtype>::Init(const NetParameter& in_param) {
  MOKA_ASSERT(context_ != nullptr);
  phase_ = in_param.state().phase();
  NetParameter param = InsertSplits(FilterNet(in_param));
  name_ = param.name();
  LOG(INFO) << "Initializing net '" << name_ << "' for phase " << Phase_Name(phase_);

  std::set<std::string> available_blobs;
  std::map<std::string, int> blob_name_to_idx;
  const int num_layers = param.layer_size();
  bottom_vecs_.resize(num_layers);
  top_vecs_.resize(num_layers);
  bottom_id_vecs_.resize(num_layers);
  top_id_vecs_.resize(num_layers);
  param_id_vecs_.resize(num_layers);
  bottom_need_backward_.resize(num_layers);
  size_t memory_used = 0;

  for (int layer_id = 0; layer_id < num_layers; ++layer_id) {
    LayerParameter* layer_param = param.mutable_layer(layer_id);
    if (!layer_param->has_phase()) layer_param->set_phase(phase_);
    MOKA_CHECK(layer_param->propagate_down_size() == 0 ||
                   layer_param->propagate_down_size() == layer_param->bottom_size(),
               ConfigError,
               "layer '" << layer_param->name() << "': propagate_down has "
                         << layer_param->propagate_down_size() << " entries for "
                         << layer_param->bottom_size() << " bottoms");
    layers_.push_back(LayerRegistry<Dtype>::Create(*layer_param));
    layers_.back()->set_context(context_.get());
    layer_names_.push_back(layer_param->name());
    LOG(INFO) << "Creating layer " << layer_param->name();

    bool need_backward = false;
    for (int bottom_id = 0; bottom_id < layer_param->bottom_size(); ++bottom_id) {
      const int blob_id = AppendBottom(param, layer_id, bottom_id, &available_blobs, &blob_name_to_idx);
      need_backward |= blob_need_backward_[blob_id];
    }
    int num_top = layer_param->top_size();
    for (int top_id = 0; top_id < num_top; ++top_id) {
      AppendTop(param, layer_id, top_id, &available_blobs, &blob_name_to_idx);
      if (layer_param->type() == "Input") {
        net_input_blob_indices_.push_back(top_id_vecs_[layer_id].back());
        net_input_blobs_.push_back(top_vecs_[layer_id].back());
      }
    }
    Layer<Dtype>& layer = *layers_[layer_id];
    if (layer.AutoTopBlobs()) {
      const int needed = std::max(layer.MinTopBlobs(), layer.ExactNumTopBlobs());
      for (; num_top < needed; ++num_top) AppendTop(param, layer_id, num_top, nullptr, nullptr);
    }
    layer.SetUp(bottom_vecs_[layer_id], top_vecs_[layer_id]);
    LOG(INFO) << "Setting up " << layer_names_[layer_id];
    for (int top_id = 0; top_id < static_cast<int>(top_vecs_[layer_id].size()); ++top_id) {
      const int blob_id = top_id_vecs_[layer_id][top_id];
      if (static_cast<int>(blob_loss_weights_.size()) <= blob_id) blob_loss_weights_.resize(blob_id + 1, 0);
      blob_loss_weights_[blob_id] = layer.loss(top_id);
      LOG(INFO) << "Top shape: " << top_vecs_[layer_id][top_id]->shape_string();
      if (layer.loss(top_id) != 0) {
        LOG(INFO) << "    with loss weight " << layer.loss(top_id);
      }
      memory_used += top_vecs_[layer_id][top_id]->count();
    }

    // The layer's own copy of its definition: a layer may add ParamSpecs in setup (BatchNorm
    // pins its statistics to lr_mult 0 that way).
    const LayerParameter& layer_spec = layer.layer_param();
    const int param_size = layer_spec.param_size();
    const int num_param_blobs = static_cast<int>(layer.blobs().size());
    MOKA_CHECK(param_size <= num_param_blobs, ConfigError,
               "layer '" << layer_param->name() << "' (" << layer_param->type() << ") has "
                         << param_size << " param entries but only " << num_param_blobs
                         << " parameter blob(s)");
    const ParamSpec default_spec;
    for (int param_id = 0; param_id < num_param_blobs; ++param_id) {
      const ParamSpec& spec = param_id < param_size ? layer_spec.param(param_id) : default_spec;
      const bool param_need_backward = spec.lr_mult() != 0;
      need_backward |= param_need_backward;
      layer.set_param_propagate_down(param_id, param_need_backward);
    }
    for (int param_id = 0; param_id < num_param_blobs; ++param_id) {
      AppendParam(param, layer_id, param_id);
    }
    layer_need_backward_.push_back(need_backward);
    if (need_backward) {
      for (int blob_id : top_id_vecs_[layer_id]) blob_need_backward_[blob_id] = true;
    }
  }

  // Walk backwards: a layer needs backward only if it contributes to a loss and some top's
  // gradient actually reaches it.
  std::set<std::string> blobs_under_loss;
  std::set<std::string> blobs_skip_backprop;
  for (int layer_id = num_layers - 1; layer_id >= 0; --layer_id) {
    bool contributes_loss = false;
    bool skip_propagate_down = true;
    for (int top_id = 0; top_id < static_cast<int>(top_vecs_[layer_id].size()); ++top_id) {
      const std::string& blob_name = blob_names_[top_id_vecs_[layer_id][top_id]];
      if (layers_[layer_id]->loss(top_id) != 0 || blobs_under_loss.count(blob_name))
        contributes_loss = true;
      if (!blobs_skip_backprop.count(blob_name)) skip_propagate_down = false;
      if (contributes_loss && !skip_propagate_down) break;
    }
    if (layer_need_backward_[layer_id] && skip_propagate_down) {
      layer_need_backward_[layer_id] = false;
      for (size_t b = 0; b < bottom_vecs_[layer_id].size(); ++b) bottom_need_backward_[layer_id][b] = false;
    }
    if (!contributes_loss) layer_need_backward_[layer_id] = false;
    LOG(INFO) << layer_names_[layer_id]
              << (layer_need_backward_[layer_id] ? " needs backward computation."
                                                 : " does not need backward computation.");
    for (size_t b = 0; b < bottom_vecs_[layer_id].size(); ++b) {
      const std::string& blob_name = blob_names_[bottom_id_vecs_[layer_id][b]];
      if (contributes_loss) {
        blobs_under_loss.insert(blob_name);
      } else {
        bottom_need_backward_[layer_id][b] = false;
      }
      if (!bottom_need_backward_[layer_id][b]) blobs_skip_backprop.insert(blob_name);
    }
  }
  if (param.force_backward()) {
    for (int layer_id = 0; layer_id < num_layers; ++layer_id) {
      layer_need_backward_[layer_id] = true;
      for (size_t b = 0; b < bottom_vecs_[layer_id].size(); ++b) {
        bottom_need_backward_[layer_id][b] =
            bottom_need_backward_[layer_id][b] || layers_[layer_id]->AllowForceBackward(b);
        const int blob_id = bottom_id_vecs_[layer_id][b];
        blob_need_backward_[blob_id] = blob_need_backward_[blob_id] || bottom_need_backward_[layer_id][b];
      }
      for (size_t p = 0; p < layers_[layer_id]->blobs().size(); ++p)
        layers_[layer_id]->set_param_propagate_down(p, true);
    }
  }
  // Whatever no layer consumed is an output of the net (in name order, as Caffe lists them).
  for (const auto& blob_name : available_blobs) {
    LOG(INFO) << "This network produces output " << blob_name;
    net_output_blob_indices_.push_back(blob_name_to_idx[blob_name]);
    net_output_blobs_.push_back(blobs_[blob_name_to_idx[blob_name]].get());
  }
  for (size_t i = 0; i < blob_names_.size(); ++i) blob_index_[blob_names_[i]] = i;
  for (size_t i = 0; i < layer_names_.size(); ++i) layer_index_[layer_names_[i]] = i;
  // Shared parameters use their owner's memory for both data and diff.
  for (size_t i = 0; i < params_.size(); ++i) {
    if (param_owners_[i] < 0) continue;
    params_[i]->ShareData(*params_[param_owners_[i]]);
    params_[i]->ShareDiff(*params_[param_owners_[i]]);
  }
  LOG(INFO) << "Memory required for data: " << memory_used * sizeof(Dtype);
  LOG(INFO) << "Network initialization done.";
}

template <typename Dtype>
void Net<Dtype>::AppendTop(const NetParameter& param, int layer_id, int top_id,
                           std::set<std::string>* available,
                           std::map<std::string, int>* blob_name_to_idx) {
  const LayerParameter& layer_param = param.layer(layer_id);
  const std::string blob_name =
      top_id < layer_param.top_size() ? layer_param.top(top_id) : "(automatic)";
  if (blob_name_to_idx != nullptr && top_id < layer_param.bottom_size() &&
      blob_name == layer_param.bottom(top_id)) {
    // In place: the top is the bottom blob itself.
    const int blob_id = (*blob_name_to_idx)[blob_name];
    top_vecs_[layer_id].push_back(blobs_[blob_id].get());
    top_id_vecs_[layer_id].push_back(blob_id);
  } else {
    MOKA_CHECK(blob_name_to_idx == nullptr || blob_name_to_idx->count(blob_name) == 0, ConfigError,
               "layer '" << layer_param.name() << "': top blob '" << blob_name
                         << "' is already produced by another layer");
    auto blob = std::make_shared<Blob<Dtype>>();
    const int blob_id = static_cast<int>(blobs_.size());
    blobs_.push_back(blob);
    blob_names_.push_back(blob_name);
    blob_need_backward_.push_back(false);
    if (blob_name_to_idx != nullptr) (*blob_name_to_idx)[blob_name] = blob_id;
    top_id_vecs_[layer_id].push_back(blob_id);
    top_vecs_[layer_id].push_back(blob.get());
  }
  if (available != nullptr) available->insert(blob_name);
}

template <typename Dtype>
int Net<Dtype>::AppendBottom(const NetParameter& param, int layer_id, int bottom_id,
                             std::set<std::string>* available,
                             std::map<std::string, int>* blob_name_to_idx) {
  const LayerParameter& layer_param = param.layer(layer_id);
  const std::string& blob_name = layer_param.bottom(bottom_id);
  MOKA_CHECK(available->count(blob_name) > 0, ConfigError,
             "layer '" << layer_param.name() << "' (" << layer_param.type() << "): bottom blob '"
                       << blob_name << "' (bottom " << bottom_id
                       << ") is not produced by any earlier layer");
  const int blob_id = (*blob_name_to_idx)[blob_name];
  LOG(INFO) << layer_param.name() << " <- " << blob_name;
  bottom_vecs_[layer_id].push_back(blobs_[blob_id].get());
  bottom_id_vecs_[layer_id].push_back(blob_id);
  available->erase(blob_name);
  bool need_backward = blob_need_backward_[blob_id];
  if (layer_param.propagate_down_size() > 0) need_backward = layer_param.propagate_down(bottom_id);
  bottom_need_backward_[layer_id].push_back(need_backward);
  return blob_id;
}

template <typename Dtype>
void Net<Dtype>::AppendParam(const NetParameter& param, int layer_id, int param_id) {
  const LayerParameter& layer_param = layers_[layer_id]->layer_param();
  const int param_size = layer_param.param_size();
  const std::string param_name = param_id < param_size ? layer_param.param(param_id).name() : "";
  param_display_names_.push_back(param_name.empty() ? layer_names_[layer_id] + "[" +
                                                          std::to_string(param_id) + "]"
                                                    : param_name);
  const int net_param_id = static_cast<int>(params_.size());
  params_.push_back(layers_[layer_id]->blobs()[param_id]);
  param_id_vecs_[layer_id].push_back(net_param_id);
  param_layer_indices_.emplace_back(layer_id, param_id);
  const ParamSpec default_spec;
  const ParamSpec& spec = param_id < param_size ? layer_param.param(param_id) : default_spec;

  if (param_name.empty() || param_names_index_.count(param_name) == 0) {
    // This layer owns the blob: it is anonymous, or the first with this name.
    param_owners_.push_back(-1);
    if (!param_name.empty()) param_names_index_[param_name] = net_param_id;
    learnable_param_ids_.push_back(static_cast<int>(learnable_params_.size()));
    learnable_params_.push_back(params_[net_param_id].get());
    params_lr_.push_back(spec.lr_mult());
    params_weight_decay_.push_back(spec.decay_mult());
    return;
  }
  const int owner_id = param_names_index_[param_name];
  param_owners_.push_back(owner_id);
  const auto owner_index = param_layer_indices_[owner_id];
  LOG(INFO) << "Sharing parameters '" << param_name << "' owned by layer '"
            << layer_names_[owner_index.first] << "', param index " << owner_index.second;
  const Blob<Dtype>& mine = *layers_[layer_id]->blobs()[param_id];
  const Blob<Dtype>& owner = *layers_[owner_index.first]->blobs()[owner_index.second];
  if (spec.share_mode() == ParamSpec::PERMISSIVE) {
    MOKA_CHECK(mine.count() == owner.count(), ShapeError,
               "layer '" << layer_names_[layer_id] << "' cannot share parameter '" << param_name
                         << "' owned by layer '" << layer_names_[owner_index.first]
                         << "': counts differ (owner " << owner.shape_string() << ", here "
                         << mine.shape_string() << ")");
  } else {
    MOKA_CHECK(mine.shape() == owner.shape(), ShapeError,
               "layer '" << layer_names_[layer_id] << "' cannot share parameter '" << param_name
                         << "' owned by layer '" << layer_names_[owner_index.first]
                         << "': shapes differ (owner " << owner.shape_string() << ", here "
                         << mine.shape_string() << "); use share_mode: PERMISSIVE to compare "
                         << "counts only");
  }
  const int learnable_id = learnable_param_ids_[owner_id];
  learnable_param_ids_.push_back(learnable_id);
  if (spec.has_lr_mult()) {
    MOKA_CHECK(spec.lr_mult() == params_lr_[learnable_id], ConfigError,
               "shared parameter '" << param_name << "' has mismatched lr_mult in layer '"
                                    << layer_names_[layer_id] << "'");
  }
  if (spec.has_decay_mult()) {
    MOKA_CHECK(spec.decay_mult() == params_weight_decay_[learnable_id], ConfigError,
               "shared parameter '" << param_name << "' has mismatched decay_mult in layer '"
                                    << layer_names_[layer_id] << "'");
  }
}

template <typename Dtype>
Dtype Net<Dtype>::ForwardFromTo(int start, int end) {
  MOKA_CHECK(start >= 0 && end < num_layers() && start <= end + 1, ConfigError,
             "forward range [" << start << ", " << end << "] outside the net's " << num_layers()
                               << " layers");
  Dtype loss = 0;
  for (int i = start; i <= end; ++i) loss += layers_[i]->Forward(bottom_vecs_[i], top_vecs_[i]);
  return loss;
}

template <typename Dtype>
Dtype Net<Dtype>::Forward() {
  return ForwardFromTo(0, num_layers() - 1);
}

template <typename Dtype>
void Net<Dtype>::BackwardFromTo(int start, int end) {
  MOKA_CHECK(end >= 0 && start < num_layers(), ConfigError,
             "backward range [" << start << ", " << end << "] outside the net");
  MOKA_CHECK(!activations_shared_, ConfigError,
             "net '" << name_ << "' shares activation memory between blobs (for inference), so "
                     "it cannot run backward; build it without ShareActivationMemory");
  for (int i = start; i >= end; --i) {
    if (layer_need_backward_[i]) {
      layers_[i]->Backward(top_vecs_[i], bottom_need_backward_[i], bottom_vecs_[i]);
    }
  }
}

template <typename Dtype>
void Net<Dtype>::Backward() {
  BackwardFromTo(num_layers() - 1, 0);
}

template <typename Dtype>
void Net<Dtype>::Reshape() {
  for (int i = 0; i < num_layers(); ++i) layers_[i]->Reshape(bottom_vecs_[i], top_vecs_[i]);
}

template <typename Dtype>
void Net<Dtype>::ClearParamDiffs() {
  for (auto* blob : learnable_params_) blob->set_diff(0);
}

template <typename Dtype>
void Net<Dtype>::Update() {
  for (auto* blob : learnable_params_) blob->Update();
}

template <typename Dtype>
void Net<Dtype>::CopyTrainedLayersFrom(const NetParameter& trained) {
  for (const auto& source : trained.layer()) {
    auto found = layer_index_.find(source.name());
    if (found == layer_index_.end()) {
      LOG(INFO) << "Ignoring source layer " << source.name();
      continue;
    }
    LOG(INFO) << "Copying source layer " << source.name();
    auto& target = layers_[found->second]->blobs();
    MOKA_CHECK(static_cast<int>(target.size()) == source.blobs_size(), ShapeError,
               "cannot copy weights into layer '" << source.name() << "': the source has "
                                                  << source.blobs_size()
                                                  << " parameter blob(s), the net has "
                                                  << target.size());
    for (size_t j = 0; j < target.size(); ++j) {
      if (!target[j]->ShapeEquals(source.blobs(j))) {
        MOKA_THROW(ShapeError, "cannot copy param " << j << " weights from layer '" << source.name()
                                                    << "': source shape is "
                                                    << ShapeString(BlobProtoShape(source.blobs(j)))
                                                    << ", target shape is "
                                                    << target[j]->shape_string()
                                                    << ". To learn this layer's parameters from "
                                                       "scratch, rename the layer.");
      }
      target[j]->FromProto(source.blobs(j), false);
    }
  }
}

template <typename Dtype>
void Net<Dtype>::CopyTrainedLayersFrom(const std::string& caffemodel_path) {
  const std::string suffix = ".h5";
  if (caffemodel_path.size() >= suffix.size() &&
      caffemodel_path.compare(caffemodel_path.size() - suffix.size(), suffix.size(), suffix) == 0) {
    CopyTrainedLayersFromHdf5(caffemodel_path);
    return;
  }
  try {
    CopyTrainedLayersFrom(ReadNetParamFromBinaryFile(caffemodel_path));
  } catch (Error& error) {
    error.AddContext("loading weights from '" + caffemodel_path + "'");
    throw;
  }
}

template <typename Dtype>
void Net<Dtype>::CopyTrainedLayersFromHdf5(const std::string& path) {
  try {
    Hdf5Handle file = Hdf5OpenFile(path);
    Hdf5Handle data = Hdf5OpenGroup(file, "data");
    for (const auto& source_name : Hdf5ChildNames(data)) {
      if (layer_index_.count(source_name) == 0) LOG(INFO) << "Ignoring source layer " << source_name;
    }
    // Layers are looked up by name rather than by listing the file, so that names holding '/'
    // (nested groups in HDF5) are found too.
    for (int layer_id = 0; layer_id < num_layers(); ++layer_id) {
      const std::string& name = layer_names_[layer_id];
      if (!Hdf5HasLink(data, name)) continue;
      LOG(INFO) << "Copying source layer " << name;
      Hdf5Handle group = Hdf5OpenGroup(data, name);
      auto& target = layers_[layer_id]->blobs();
      // Only the numbered datasets count: a layer named "a/b" is a subgroup of layer "a".
      int num_source = 0;
      for (const auto& child : Hdf5ChildNames(group)) {
        if (!child.empty() && child.find_first_not_of("0123456789") == std::string::npos)
          ++num_source;
      }
      MOKA_CHECK(num_source <= static_cast<int>(target.size()), ShapeError,
                 "cannot copy weights into layer '" << name << "': the source has " << num_source
                                                    << " parameter blob(s), the net has "
                                                    << target.size());
      for (size_t j = 0; j < target.size(); ++j) {
        const std::string dataset = std::to_string(j);
        if (!Hdf5HasLink(group, dataset)) {
          // A shared parameter is stored only under the layer that owns it.
          MOKA_CHECK(param_owners_[param_id_vecs_[layer_id][j]] != -1, ShapeError,
                     "cannot copy weights into layer '" << name << "': the source has no param "
                                                        << j << " (" << num_source
                                                        << " parameter blob(s), the net has "
                                                        << target.size() << ")");
          continue;
        }
        const std::vector<int> source_shape = Hdf5DatasetShape(group, dataset);
        MOKA_CHECK(source_shape == target[j]->shape(), ShapeError,
                   "cannot copy param " << j << " weights from layer '" << name
                                        << "': source shape is " << ShapeString(source_shape)
                                        << ", target shape is " << target[j]->shape_string()
                                        << ". To learn this layer's parameters from scratch, "
                                           "rename the layer.");
        Hdf5ReadBlob(group, dataset, target[j].get(), false, 0, kMaxBlobAxes);
      }
    }
  } catch (Error& error) {
    error.AddContext("loading weights from '" + path + "'");
    throw;
  }
}

template <typename Dtype>
void Net<Dtype>::ToHdf5(const std::string& path, bool write_diff) const {
  Hdf5WriteFileAtomically(path, [&](const Hdf5Handle& file) {
    Hdf5Handle data = Hdf5CreateGroup(file, "data");
    Hdf5Handle diff;
    if (write_diff) diff = Hdf5CreateGroup(file, "diff");
    for (int layer_id = 0; layer_id < num_layers(); ++layer_id) {
      const std::string& name = layer_names_[layer_id];
      Hdf5Handle layer_data = Hdf5CreateGroup(data, name);
      Hdf5Handle layer_diff;
      if (write_diff) layer_diff = Hdf5CreateGroup(diff, name);
      for (size_t j = 0; j < layers_[layer_id]->blobs().size(); ++j) {
        const int net_param_id = param_id_vecs_[layer_id][j];
        const Blob<Dtype>& blob = *params_[net_param_id];
        if (param_owners_[net_param_id] == -1) Hdf5WriteBlob(layer_data, std::to_string(j), blob);
        if (write_diff) Hdf5WriteBlob(layer_diff, std::to_string(j), blob, true);
      }
    }
  });
}

template <typename Dtype>
void Net<Dtype>::ShareTrainedLayersWith(const Net& other) {
  for (int i = 0; i < other.num_layers(); ++i) {
    auto found = layer_index_.find(other.layer_names()[i]);
    if (found == layer_index_.end()) continue;
    auto& target = layers_[found->second]->blobs();
    auto& source = other.layers()[i]->blobs();
    MOKA_CHECK(target.size() == source.size(), ShapeError,
               "layer '" << other.layer_names()[i] << "' has " << source.size()
                         << " parameter blob(s) in one net and " << target.size() << " in the other");
    for (size_t j = 0; j < target.size(); ++j) {
      MOKA_CHECK(target[j]->shape() == source[j]->shape(), ShapeError,
                 "layer '" << other.layer_names()[i] << "' param " << j << " has shape "
                           << source[j]->shape_string() << " in one net and "
                           << target[j]->shape_string() << " in the other");
      target[j]->ShareData(*source[j]);
    }
  }
}

template <typename Dtype>
void Net<Dtype>::ToProto(NetParameter* param, bool write_diff) const {
  param->Clear();
  param->set_name(name_);
  for (const auto& layer : layers_) layer->ToProto(param->add_layer(), write_diff);
}

template <typename Dtype>
typename Net<Dtype>::BlobPtr Net<Dtype>::blob_by_name(const std::string& name) const {
  auto found = blob_index_.find(name);
  if (found == blob_index_.end()) {
    std::ostringstream known;
    for (const auto& n : blob_names_) known << (known.tellp() > 0 ? ", " : "") << n;
    MOKA_THROW(ConfigError, "net '" << name_ << "' has no blob '" << name << "' (blobs: "
                                    << known.str() << ")");
  }
  return blobs_[found->second];
}

template <typename Dtype>
int Net<Dtype>::layer_index(const std::string& name) const {
  auto found = layer_index_.find(name);
  if (found == layer_index_.end()) {
    std::ostringstream known;
    for (const auto& n : layer_names_) known << (known.tellp() > 0 ? ", " : "") << n;
    MOKA_THROW(ConfigError, "net '" << name_ << "' has no layer '" << name << "' (layers: "
                                    << known.str() << ")");
  }
  return found->second;
}

template <typename Dtype>
typename Net<Dtype>::LayerPtr Net<Dtype>::layer_by_name(const std::string& name) const {
  return layers_[layer_index(name)];
}

MOKA_INSTANTIATE_CLASS(Net);

}  // namespace moka
