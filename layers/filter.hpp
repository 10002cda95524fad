#pragma once
#include <memory>

#include "layer.hpp"

namespace moka {

/// Keeps the samples whose selector is non-zero: the last bottom is the selector (shape (N) or
/// (N, 1, ...)), and each other bottom i yields top i with only the selected items along axis 0,
/// in order. Backward routes each top diff back to its item and zeroes the dropped ones; the
/// selector gets no gradient.
template <typename Dtype>
class FilterLayer : public Layer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit FilterLayer(const LayerParameter& param) : Layer<Dtype>(param) {}
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;
  const char* type() const override { return "Filter"; }
  int MinBottomBlobs() const override { return 2; }
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
  std::vector<int> indices_to_forward_;
  // At setup the selector may hold no data yet, so the first shapes keep the whole batch.
  bool first_reshape_ = true;
#ifdef MOKA_CUDA
  /// The GPU path's row maps (ints): the selected bottom rows, then for every bottom row the top
  /// row it goes to (-1 when dropped).
  std::unique_ptr<SyncedMemory> gpu_rows_;
#endif
};

}  // namespace moka
