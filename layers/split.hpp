#pragma once
#include "layer.hpp"

namespace moka {

/// Feeds one bottom to several consumers: every top shares the bottom's data, and backward sums
/// the tops' diffs into the bottom diff. The net inserts it wherever a top feeds several bottoms.
template <typename Dtype>
class SplitLayer : public Layer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit SplitLayer(const LayerParameter& param) : Layer<Dtype>(param) {}
  const char* type() const override { return "Split"; }
  int ExactNumBottomBlobs() const override { return 1; }
  int MinTopBlobs() const override { return 1; }

  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

 protected:
  void Forward_cpu(const BlobVec& bottom, const BlobVec& top) override {}
  void Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                    const BlobVec& bottom) override;
#ifdef MOKA_CUDA
  void Forward_gpu(const BlobVec& bottom, const BlobVec& top) override {}
  void Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                    const BlobVec& bottom) override;
#endif
};

}  // namespace moka
