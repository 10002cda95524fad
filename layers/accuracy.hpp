#pragma once
#include <memory>
#include <string>
#include <vector>

#include "layer.hpp"

namespace moka {

/// Top-k classification accuracy of scores (bottom 0, classes along accuracy_param.axis) against
/// integer labels (bottom 1, one per outer x inner position). A position counts as correct when
/// fewer than top_k other classes score at least as high as the labelled class (so ties count
/// against it, as in Caffe). Top 0 is the scalar fraction correct over non-ignored positions (0
/// when there are none); an optional top 1 holds the accuracy per class (shape {C}; 0 for a class
/// that never occurs). Not differentiable.
template <typename Dtype>
class AccuracyLayer : public Layer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit AccuracyLayer(const LayerParameter& param) : Layer<Dtype>(param) {}
  const char* type() const override { return "Accuracy"; }

  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

  int ExactNumBottomBlobs() const override { return 2; }
  int MinTopBlobs() const override { return 1; }
  int MaxTopBlobs() const override { return 2; }

 protected:
  void Forward_cpu(const BlobVec& bottom, const BlobVec& top) override;
  /// Refuses any gradient request; otherwise does nothing.
  void Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                    const BlobVec& bottom) override;
#ifdef MOKA_CUDA
  void Forward_gpu(const BlobVec& bottom, const BlobVec& top) override;
  void Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                    const BlobVec& bottom) override;
#endif

 private:
  int top_k_ = 1;
  int label_axis_ = 1;
  int outer_num_ = 0;
  int inner_num_ = 0;
  bool has_ignore_label_ = false;
  int ignore_label_ = 0;
  /// Occurrences of each class among the non-ignored labels.
  std::vector<int> class_counts_;
#ifdef MOKA_CUDA
  /// Per position: 1 when correct, and 1 when its label counts (0 when ignored).
  Blob<Dtype> gpu_correct_;
  Blob<Dtype> gpu_counted_;
  /// Per class (ints): occurrences among the counted labels, then correct predictions.
  std::unique_ptr<SyncedMemory> gpu_class_tallies_;
#endif
};

}  // namespace moka
