#pragma once
#include "layer.hpp"

namespace moka {

/// Splits the bottom along one axis into several tops, at the given slice_points (or into equal
/// parts when none are given). Backward copies each top's diff back into its slice.
template <typename Dtype>
class SliceLayer : public Layer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit SliceLayer(const LayerParameter& param) : Layer<Dtype>(param) {}
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;
  const char* type() const override { return "Slice"; }
  int ExactNumBottomBlobs() const override { return 1; }
  int MinTopBlobs() const override { return 1; }

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
  int slice_axis_ = 1;
  int num_slices_ = 0;  // product of the axes before the slice axis
  int slice_size_ = 0;  // product of the axes after it
};

}  // namespace moka
