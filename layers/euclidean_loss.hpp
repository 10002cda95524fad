#pragma once
#include <vector>

#include "layers/loss.hpp"

namespace moka {

/// Sum-of-squares loss between two blobs of equal count, per item of the batch (N = shape(0)):
///   loss = 1/(2N) * sum_i (a_i - b_i)^2,  da = w/N * (a - b),  db = -w/N * (a - b)
/// with w the loss weight. Both bottoms may receive a gradient.
template <typename Dtype>
class EuclideanLossLayer : public LossLayer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit EuclideanLossLayer(const LayerParameter& param) : LossLayer<Dtype>(param) {}
  const char* type() const override { return "EuclideanLoss"; }

  void Reshape(const BlobVec& bottom, const BlobVec& top) override;
  bool AllowForceBackward(int bottom_index) const override { return true; }

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
  /// a - b from the last forward, which backward scales into both gradients.
  Blob<Dtype> diff_;
};

}  // namespace moka
