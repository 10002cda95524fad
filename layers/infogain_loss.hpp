#pragma once
#include <memory>

#include "layers/loss.hpp"

namespace moka {

/// Information-gain weighted log loss on a softmax of the scores along `axis`:
/// loss = -sum_positions sum_k H[l, k] log(max(p_k, 1e-20)) / normalizer, with l the label at
/// that position and H a K x K matrix from `source` (a binaryproto) or the third bottom. With H
/// the identity this is SoftmaxWithLoss. dL/dx_k = (p_k sum_j H[l, j] - H[l, k]) / normalizer.
/// An optional second top holds the probabilities.
template <typename Dtype>
class InfogainLossLayer : public LossLayer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit InfogainLossLayer(const LayerParameter& param) : LossLayer<Dtype>(param) {}
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;
  const char* type() const override { return "InfogainLoss"; }
  int ExactNumBottomBlobs() const override { return -1; }
  int MinBottomBlobs() const override { return 2; }
  int MaxBottomBlobs() const override { return 3; }
  int ExactNumTopBlobs() const override { return -1; }
  int MinTopBlobs() const override { return 1; }
  int MaxTopBlobs() const override { return 2; }
  bool AllowForceBackward(int bottom_index) const override { return bottom_index == 0; }

 protected:
  void Forward_cpu(const BlobVec& bottom, const BlobVec& top) override;
  void Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                    const BlobVec& bottom) override;
#ifdef MOKA_CUDA
  void Forward_gpu(const BlobVec& bottom, const BlobVec& top) override;
  void Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                    const BlobVec& bottom) override;
#endif

 private:
  const Blob<Dtype>& Infogain(const BlobVec& bottom) const {
    return bottom.size() > 2 ? *bottom[2] : infogain_;
  }
  void SumRowsOfH(const Blob<Dtype>& infogain);
  int LabelAt(const Dtype* labels, int index) const;

  std::shared_ptr<Layer<Dtype>> softmax_layer_;
  Blob<Dtype> prob_;
  BlobVec softmax_bottom_;
  BlobVec softmax_top_;
  Blob<Dtype> infogain_;
  Blob<Dtype> sum_rows_h_;
  bool has_ignore_label_ = false;
  int ignore_label_ = -1;
  LossParameter::NormalizationMode normalization_ = LossParameter::VALID;
  int axis_ = 1;
  int outer_num_ = 0;
  int inner_num_ = 0;
  int num_labels_ = 0;
#ifdef MOKA_CUDA
  /// Per position: its loss term, and 1 when its label counts (0 when ignored).
  Blob<Dtype> gpu_losses_;
  Blob<Dtype> gpu_counts_;
  /// Non-ignored labels of the last GPU forward, which the GPU backward reuses.
  int gpu_valid_count_ = 0;
#endif
};

}  // namespace moka
