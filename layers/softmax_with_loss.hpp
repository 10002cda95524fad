#pragma once
#include <vector>

#include "layers/loss.hpp"

namespace moka {

/// Multinomial logistic loss of a softmax along softmax_param.axis (default 1). With bottom 0 of
/// shape (outer, C, inner) and integer labels l (outer x inner values in [0, C)):
///   p = softmax(x) over C,  loss = -sum_{non-ignored} log(max(p[l], FLT_MIN)) / normalizer,
///   dx = (p - onehot(l)) * loss_weight / normalizer, and 0 at ignored positions.
/// The normalizer follows loss_param (default VALID: the number of non-ignored labels). An
/// optional second top receives p.
template <typename Dtype>
class SoftmaxWithLossLayer : public LossLayer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit SoftmaxWithLossLayer(const LayerParameter& param) : LossLayer<Dtype>(param) {}
  const char* type() const override { return "SoftmaxWithLoss"; }

  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

  int ExactNumTopBlobs() const override { return -1; }
  int MinTopBlobs() const override { return 1; }
  int MaxTopBlobs() const override { return 2; }

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
  /// Reads label number `index`, checking it names a class.
  int LabelAt(const Dtype* labels, int index) const;

  Blob<Dtype> prob_;
  /// Per-position maxima and sums over the class axis for one outer slice.
  std::vector<Dtype> scratch_;
  int softmax_axis_ = 1;
  int outer_num_ = 0;
  int inner_num_ = 0;
  bool has_ignore_label_ = false;
  int ignore_label_ = 0;
  LossParameter::NormalizationMode normalization_ = LossParameter::VALID;
#ifdef MOKA_CUDA
  /// Per position: its loss term, and 1 when its label counts (0 when ignored).
  Blob<Dtype> gpu_losses_;
  Blob<Dtype> gpu_counts_;
  /// Non-ignored labels of the last GPU forward, which the GPU backward reuses.
  int gpu_valid_count_ = 0;
#endif
};

}  // namespace moka
