#pragma once
// The layer contract (as Caffe's): SetUp once, Reshape whenever bottom shapes may change, Forward
// and Backward on the device the context names. Each layer declares how many bottoms and tops it
// takes; SetUp checks the counts centrally.
#include <memory>
#include <string>
#include <vector>

#include "blob.hpp"
#include "context.hpp"
#include "moka.pb.h"

namespace moka {

template <typename Dtype>
class Layer {
 public:
  using BlobVec = std::vector<Blob<Dtype>*>;

  explicit Layer(const LayerParameter& param);
  virtual ~Layer() = default;
  MOKA_DISABLE_COPY(Layer);

  /// Checks blob counts, runs LayerSetUp and Reshape, and sets up loss weights.
  void SetUp(const BlobVec& bottom, const BlobVec& top);
  /// One-time setup: read parameters, create parameter blobs.
  virtual void LayerSetUp(const BlobVec& bottom, const BlobVec& top) {}
  /// Shapes tops (and internal buffers) from the bottoms.
  virtual void Reshape(const BlobVec& bottom, const BlobVec& top) = 0;

  /// Runs the forward pass and returns the weighted loss this layer contributes.
  Dtype Forward(const BlobVec& bottom, const BlobVec& top);
  /// Computes bottom diffs (where propagate_down) and parameter diffs (accumulated).
  void Backward(const BlobVec& top, const std::vector<bool>& propagate_down, const BlobVec& bottom);

  virtual const char* type() const = 0;
  /// Which implementation runs on the current device ("blas", "cudnn", ...), for `moka time`.
  virtual std::string engine() const { return "caffe"; }

  // Blob-count rules; -1 means "no rule".
  virtual int ExactNumBottomBlobs() const { return -1; }
  virtual int MinBottomBlobs() const { return -1; }
  virtual int MaxBottomBlobs() const { return -1; }
  virtual int ExactNumTopBlobs() const { return -1; }
  virtual int MinTopBlobs() const { return -1; }
  virtual int MaxTopBlobs() const { return -1; }
  virtual bool EqualNumBottomTopBlobs() const { return false; }
  /// When true, the net creates anonymous tops up to the minimum count.
  virtual bool AutoTopBlobs() const { return false; }
  /// Whether force_backward may make this bottom receive a gradient (false for labels).
  virtual bool AllowForceBackward(int bottom_index) const { return true; }

  std::vector<std::shared_ptr<Blob<Dtype>>>& blobs() { return blobs_; }
  const LayerParameter& layer_param() const { return layer_param_; }
  /// Writes the layer definition with its parameter blobs.
  virtual void ToProto(LayerParameter* param, bool write_diff = false) const;

  Dtype loss(int top_index) const {
    return top_index < static_cast<int>(loss_.size()) ? loss_[top_index] : Dtype(0);
  }
  void set_loss(int top_index, Dtype value);

  bool param_propagate_down(int index) const {
    return index < static_cast<int>(param_propagate_down_.size()) && param_propagate_down_[index];
  }
  void set_param_propagate_down(int index, bool value);

  void set_context(Context* context) { context_ = context; }
  Context& context() const;
  /// "layer 'conv1' (Convolution)", for messages.
  std::string Describe() const;

 protected:
  virtual void Forward_cpu(const BlobVec& bottom, const BlobVec& top) = 0;
  /// Layers without a GPU implementation refuse to run there rather than fall back silently.
  virtual void Forward_gpu(const BlobVec& bottom, const BlobVec& top);
  virtual void Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                            const BlobVec& bottom) = 0;
  virtual void Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                            const BlobVec& bottom);

  Phase phase() const { return phase_; }

  LayerParameter layer_param_;
  Phase phase_;
  std::vector<std::shared_ptr<Blob<Dtype>>> blobs_;
  std::vector<bool> param_propagate_down_;
  std::vector<Dtype> loss_;
  Context* context_ = nullptr;

 private:
  void CheckBlobCounts(const BlobVec& bottom, const BlobVec& top) const;
  void SetLossWeights(const BlobVec& top);
};

}  // namespace moka

#ifdef MOKA_CUDA
/// In a layer's .cu file: emits its Forward_gpu and Backward_gpu for the element types of
/// MOKA_INSTANTIATE_CLASS (the class itself is instantiated in the .cpp file).
#define MOKA_INSTANTIATE_LAYER_GPU_FUNCS(Class)                                                   \
  template void Class<float>::Forward_gpu(const std::vector<Blob<float>*>&,                       \
                                          const std::vector<Blob<float>*>&);                      \
  template void Class<double>::Forward_gpu(const std::vector<Blob<double>*>&,                     \
                                           const std::vector<Blob<double>*>&);                    \
  template void Class<float>::Backward_gpu(const std::vector<Blob<float>*>&,                      \
                                           const std::vector<bool>&,                              \
                                           const std::vector<Blob<float>*>&);                     \
  template void Class<double>::Backward_gpu(const std::vector<Blob<double>*>&,                    \
                                            const std::vector<bool>&,                             \
                                            const std::vector<Blob<double>*>&)
#endif
