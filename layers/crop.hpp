#pragma once
#include "layer.hpp"

namespace moka {

/// Crops the first bottom to the shape of the second on every axis from `axis` on, starting
/// at `offset` (one value for all those axes, one per axis, or none for 0). Axes before `axis`
/// are kept whole. Backward places the top diff back in its window and zeroes the rest; the
/// second bottom only supplies a shape.
template <typename Dtype>
class CropLayer : public Layer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit CropLayer(const LayerParameter& param) : Layer<Dtype>(param) {}
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;
  const char* type() const override { return "Crop"; }
  int ExactNumBottomBlobs() const override { return 2; }
  int ExactNumTopBlobs() const override { return 1; }

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
  /// Copies between the top and its window of the bottom, one contiguous run of the last axis
  /// at a time: top from bottom when `to_top`, else bottom from top.
  void CopyWindow(const Blob<Dtype>& bottom, const Blob<Dtype>& top, bool to_top, const Dtype* src,
                  Dtype* dst) const;

  std::vector<int> offsets_;
};

}  // namespace moka
