#pragma once
#include "layer.hpp"

namespace moka {

/// Gathers items along axis 0: top[i] = bottom[0][idx[i]], idx the second bottom (one axis,
/// integer values in [0, N)). Items may repeat or be left out; backward sums the top diffs that
/// came from each item. The index bottom gets no gradient.
template <typename Dtype>
class BatchReindexLayer : public Layer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit BatchReindexLayer(const LayerParameter& param) : Layer<Dtype>(param) {}
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;
  const char* type() const override { return "BatchReindex"; }
  int ExactNumBottomBlobs() const override { return 2; }
  int ExactNumTopBlobs() const override { return 1; }
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
  /// Index i of the second bottom, checked against the batch size.
  int Source(const BlobVec& bottom, int i) const;
#ifdef MOKA_CUDA
  /// Set by the GPU forward when some index lies outside the batch.
  Blob<Dtype> gpu_bad_index_;
#endif
};

}  // namespace moka
