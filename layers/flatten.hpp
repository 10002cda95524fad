#pragma once
#include "layer.hpp"

namespace moka {

/// Merges axes [axis, end_axis] into one: shape (d0, ..., d_{a-1}, d_a * ... * d_e, d_{e+1}, ...).
/// No computation: the top shares the bottom's data and diff.
template <typename Dtype>
class FlattenLayer : public Layer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit FlattenLayer(const LayerParameter& param) : Layer<Dtype>(param) {}
  const char* type() const override { return "Flatten"; }
  int ExactNumBottomBlobs() const override { return 1; }
  int ExactNumTopBlobs() const override { return 1; }

  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

 protected:
  void Forward_cpu(const BlobVec& bottom, const BlobVec& top) override {}
  void Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                    const BlobVec& bottom) override {}
#ifdef MOKA_CUDA
  // The top shares the bottom's data and diff (Reshape): nothing to compute on either device.
  void Forward_gpu(const BlobVec& bottom, const BlobVec& top) override {}
  void Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                    const BlobVec& bottom) override {}
#endif
};

}  // namespace moka
