#pragma once
// Net: a DAG of layers built from a NetParameter. Construction filters layers by NetState rules,
// inserts Split layers where one top feeds several bottoms, wires in-place layers, shares
// parameters by ParamSpec name, and works out which layers need a backward pass.
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "blob.hpp"
#include "context.hpp"
#include "layer.hpp"
#include "moka.pb.h"

namespace moka {

template <typename Dtype>
class Net {
 public:
  using BlobPtr = std::shared_ptr<Blob<Dtype>>;
  using LayerPtr = std::shared_ptr<Layer<Dtype>>;

  /// `param` should already have its state set (phase, level, stages).
  Net(const NetParameter& param, std::shared_ptr<Context> context);
  /// Reads a prototxt and builds it for the given phase, level and stages.
  Net(const std::string& prototxt_path, Phase phase, std::shared_ptr<Context> context,
      int level = 0, const std::vector<std::string>& stages = {});
  MOKA_DISABLE_COPY(Net);

  /// Forward through every layer; returns the total loss.
  Dtype Forward();
  Dtype ForwardFromTo(int start, int end);
  Dtype ForwardFrom(int start) { return ForwardFromTo(start, num_layers() - 1); }
  Dtype ForwardTo(int end) { return ForwardFromTo(0, end); }
  void Backward();
  void BackwardFromTo(int start, int end);
  Dtype ForwardBackward() {
    Dtype loss = Forward();
    Backward();
    return loss;
  }
  /// Re-runs Reshape on every layer (after an input blob changed shape).
  void Reshape();
  /// For inference: lets blobs whose lifetimes in one Forward do not overlap share their data
  /// memory (interval assignment over the layer order). Blobs named in `keep`, the net's outputs
  /// and inputs, and the tops of data layers keep their own memory. Backward is refused afterwards,
  /// since the activations it needs are overwritten. Returns the bytes the activations took before
  /// and after.
  std::pair<size_t, size_t> ShareActivationMemory(const std::vector<std::string>& keep = {});
  bool activations_shared() const { return activations_shared_; }
  /// Zeroes every learnable parameter's diff.
  void ClearParamDiffs();
  /// data -= diff for every owned parameter.
  void Update();

  /// Copies parameter blobs from a trained net by layer name; layers absent here are ignored.
  /// A shape mismatch raises ShapeError naming the layer and both shapes.
  void CopyTrainedLayersFrom(const NetParameter& trained);
  /// Reads Caffe's HDF5 form when the path ends in ".h5", else a binaryproto NetParameter.
  void CopyTrainedLayersFrom(const std::string& caffemodel_path);
  /// Weights from a .caffemodel.h5 (group data/<layer>/<i>); a shared parameter's copy may be
  /// absent. Shapes must match exactly.
  void CopyTrainedLayersFromHdf5(const std::string& path);
  /// Writes Caffe's .caffemodel.h5: one group per layer under data/ (and diff/ with write_diff)
  /// holding datasets "0", "1", ...; a shared parameter's data is written by its owner only.
  void ToHdf5(const std::string& path, bool write_diff = false) const;
  /// Shares this net's parameter memory with `other` (a test net with the train net's weights).
  void ShareTrainedLayersWith(const Net& other);
  void ToProto(NetParameter* param, bool write_diff = false) const;

  const std::string& name() const { return name_; }
  Phase phase() const { return phase_; }
  Context& context() const { return *context_; }
  const std::shared_ptr<Context>& shared_context() const { return context_; }

  int num_layers() const { return static_cast<int>(layers_.size()); }
  const std::vector<LayerPtr>& layers() const { return layers_; }
  const std::vector<std::string>& layer_names() const { return layer_names_; }
  const std::vector<BlobPtr>& blobs() const { return blobs_; }
  const std::vector<std::string>& blob_names() const { return blob_names_; }
  bool has_blob(const std::string& name) const { return blob_index_.count(name) > 0; }
  /// Throws ConfigError listing the net's blobs if `name` is not one of them.
  BlobPtr blob_by_name(const std::string& name) const;
  bool has_layer(const std::string& name) const { return layer_index_.count(name) > 0; }
  LayerPtr layer_by_name(const std::string& name) const;
  int layer_index(const std::string& name) const;

  const std::vector<std::vector<Blob<Dtype>*>>& bottom_vecs() const { return bottom_vecs_; }
  const std::vector<std::vector<Blob<Dtype>*>>& top_vecs() const { return top_vecs_; }
  const std::vector<int>& top_ids(int layer) const { return top_id_vecs_[layer]; }
  const std::vector<int>& bottom_ids(int layer) const { return bottom_id_vecs_[layer]; }
  const std::vector<std::vector<bool>>& bottom_need_backward() const { return bottom_need_backward_; }
  const std::vector<bool>& layer_need_backward() const { return layer_need_backward_; }

  /// Input blobs (tops of Input layers) and output blobs (tops consumed by no layer).
  const std::vector<Blob<Dtype>*>& input_blobs() const { return net_input_blobs_; }
  const std::vector<Blob<Dtype>*>& output_blobs() const { return net_output_blobs_; }
  const std::vector<int>& output_blob_indices() const { return net_output_blob_indices_; }

  /// Every parameter blob, including shared copies; learnable_params() holds only owners.
  const std::vector<BlobPtr>& params() const { return params_; }
  const std::vector<Blob<Dtype>*>& learnable_params() const { return learnable_params_; }
  const std::vector<float>& params_lr() const { return params_lr_; }
  const std::vector<float>& params_weight_decay() const { return params_weight_decay_; }
  /// For each entry of params(): -1 if it owns its memory, else the index of its owner.
  const std::vector<int>& param_owners() const { return param_owners_; }
  /// "layer_name" or "layer_name[i]" for each entry of params(), for log lines.
  const std::vector<std::string>& param_display_names() const { return param_display_names_; }

  /// Whether a layer passes NetState rules (phase, level, stages; include/exclude).
  static bool StateMeetsRule(const NetState& state, const NetStateRule& rule,
                             const std::string& layer_name);
  /// Keeps the layers of `param` whose rules `param.state()` meets.
  static NetParameter FilterNet(const NetParameter& param);

 private:
  void Init(const NetParameter& param);
  void AppendTop(const NetParameter& param, int layer_id, int top_id,
                 std::set<std::string>* available, std::map<std::string, int>* blob_name_to_idx);
  int AppendBottom(const NetParameter& param, int layer_id, int bottom_id,
                   std::set<std::string>* available, std::map<std::string, int>* blob_name_to_idx);
  void AppendParam(const NetParameter& param, int layer_id, int param_id);

  std::string name_;
  Phase phase_ = TEST;
  bool activations_shared_ = false;
  std::shared_ptr<Context> context_;

  std::vector<LayerPtr> layers_;
  std::vector<std::string> layer_names_;
  std::map<std::string, int> layer_index_;
  std::vector<bool> layer_need_backward_;

  std::vector<BlobPtr> blobs_;
  std::vector<std::string> blob_names_;
  std::map<std::string, int> blob_index_;
  std::vector<bool> blob_need_backward_;

  std::vector<std::vector<Blob<Dtype>*>> bottom_vecs_;
  std::vector<std::vector<int>> bottom_id_vecs_;
  std::vector<std::vector<bool>> bottom_need_backward_;
  std::vector<std::vector<Blob<Dtype>*>> top_vecs_;
  std::vector<std::vector<int>> top_id_vecs_;
  std::vector<Dtype> blob_loss_weights_;

  std::vector<std::vector<int>> param_id_vecs_;
  std::vector<int> param_owners_;
  std::vector<std::string> param_display_names_;
  std::vector<std::pair<int, int>> param_layer_indices_;
  std::map<std::string, int> param_names_index_;
  std::vector<BlobPtr> params_;
  std::vector<Blob<Dtype>*> learnable_params_;
  std::vector<int> learnable_param_ids_;
  std::vector<float> params_lr_;
  std::vector<float> params_weight_decay_;

  std::vector<Blob<Dtype>*> net_input_blobs_;
  std::vector<int> net_input_blob_indices_;
  std::vector<Blob<Dtype>*> net_output_blobs_;
  std::vector<int> net_output_blob_indices_;
};

}  // namespace moka
