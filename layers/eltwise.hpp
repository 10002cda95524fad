#pragma once
#include <memory>
#include <vector>

#include "layer.hpp"

namespace moka {

/// Element-wise combination of bottoms of one shape. PROD: y = prod_i x_i, dx_i = dy * prod_{j!=i}
/// x_j (or dy * y / x_i when stable_prod_grad is false). SUM: y = sum_i c_i x_i, dx_i = c_i dy.
/// MAX: y = max_i x_i, the gradient going to the bottom that held the maximum.
template <typename Dtype>
class EltwiseLayer : public Layer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit EltwiseLayer(const LayerParameter& param) : Layer<Dtype>(param) {}
  const char* type() const override { return "Eltwise"; }
  int MinBottomBlobs() const override { return 2; }
  int ExactNumTopBlobs() const override { return 1; }

  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

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
  /// Refuses a backward pass when the top overwrote a bottom (in-place forward).
  void CheckNotInPlace(const BlobVec& top, const BlobVec& bottom) const;

  EltwiseParameter::EltwiseOp op_ = EltwiseParameter::SUM;
  std::vector<Dtype> coeffs_;
  bool stable_prod_grad_ = true;
  /// MAX: index of the bottom that won at each element.
  std::vector<int> max_index_;
  /// The bottoms' data and (null where not wanted) diffs, gathered for the one-pass loops.
  std::vector<const Dtype*> inputs_;
  std::vector<Dtype*> gradients_;
#ifdef MOKA_CUDA
  /// MAX on the GPU: the winning bottom per element, kept on the device for backward.
  std::unique_ptr<SyncedMemory> gpu_max_index_;
#endif
};

}  // namespace moka
