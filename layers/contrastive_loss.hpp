#pragma once
#include "layers/loss.hpp"

namespace moka {

/// Siamese loss on pairs (a_n, b_n) of C features with similarity y_n (bottom 2), d = ||a - b||:
/// loss = sum_n [y_n d^2 + (1 - y_n) max(margin - d, 0)^2] / (2N); with legacy_version the
/// dissimilar term is max(margin - d^2, 0). Both feature bottoms receive gradients.
template <typename Dtype>
class ContrastiveLossLayer : public LossLayer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit ContrastiveLossLayer(const LayerParameter& param) : LossLayer<Dtype>(param) {}
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;
  const char* type() const override { return "ContrastiveLoss"; }
  int ExactNumBottomBlobs() const override { return 3; }
  bool AllowForceBackward(int bottom_index) const override { return bottom_index != 2; }

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
  int channels_ = 0;
  Blob<Dtype> diff_;     // a - b
  Blob<Dtype> dist_sq_;  // ||a - b||^2 per pair
#ifdef MOKA_CUDA
  /// Per pair: its loss term (summed in double on the device).
  Blob<Dtype> gpu_losses_;
#endif
};

}  // namespace moka
