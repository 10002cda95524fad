#pragma once
#include "layer.hpp"

namespace moka {

/// Joins the bottoms along `axis` (or the deprecated concat_dim); all other dimensions must agree.
/// Backward hands each bottom its slice of the top diff. A single bottom passes through, sharing
/// data and diff.
template <typename Dtype>
class ConcatLayer : public Layer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit ConcatLayer(const LayerParameter& param) : Layer<Dtype>(param) {}
  const char* type() const override { return "Concat"; }
  int MinBottomBlobs() const override { return 1; }
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
  int axis_ = 1;
  /// Product of the dimensions before the axis.
  int num_concats_ = 0;
  /// Product of the dimensions after the axis.
  int inner_size_ = 0;
};

}  // namespace moka
