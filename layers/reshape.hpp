#pragma once
#include <vector>

#include "layer.hpp"

namespace moka {

/// Replaces axes [axis, axis + num_axes) of the bottom's shape by `shape` (num_axes -1: through
/// the last axis; a negative axis counts from the end, -1 being after the last axis). In `shape`,
/// 0 copies the bottom's dimension at that position and one -1 is inferred from the count.
/// No computation: the top shares the bottom's data and diff.
template <typename Dtype>
class ReshapeLayer : public Layer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit ReshapeLayer(const LayerParameter& param) : Layer<Dtype>(param) {}
  const char* type() const override { return "Reshape"; }
  int ExactNumBottomBlobs() const override { return 1; }
  int ExactNumTopBlobs() const override { return 1; }

  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
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

 private:
  /// Indices into `shape` holding 0.
  std::vector<int> copy_axes_;
  /// Index into `shape` holding -1, or -1.
  int inferred_axis_ = -1;
  /// Product of the explicit (positive) dimensions of `shape`.
  long long constant_count_ = 1;
};

}  // namespace moka
