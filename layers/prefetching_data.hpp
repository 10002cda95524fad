#pragma once
// What the prefetching data layers (Data, ImageData, WindowData) share: no bottoms, tops filled in
// Forward from batches a BatchPrefetcher prepares (data, and the label when a second top is
// given), shaped by each batch, and no backward.
#include <vector>

#include "layer.hpp"
#include "layers/batch_prefetcher.hpp"

namespace moka {

/// A subclass starts prefetcher_ in LayerSetUp with its batch loader, and stops it first thing in
/// its own destructor: the loader reads the subclass's members, which die before this base.
template <typename Dtype>
class PrefetchingDataLayer : public Layer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;

  explicit PrefetchingDataLayer(const LayerParameter& param) : Layer<Dtype>(param) {}

  /// Tops take the shape of each batch in Forward.
  void Reshape(const BlobVec& bottom, const BlobVec& top) override {}
  int ExactNumBottomBlobs() const override { return 0; }

 protected:
  void Forward_cpu(const BlobVec& bottom, const BlobVec& top) override { Deliver(top, false); }
  void Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                    const BlobVec& bottom) override {}
#ifdef MOKA_CUDA
  // The batch moves to the device through its own blob (one counted host-to-device copy per top),
  // then into the top on the device: the only host-to-device traffic of a training iteration.
  void Forward_gpu(const BlobVec& bottom, const BlobVec& top) override { Deliver(top, true); }
  void Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                    const BlobVec& bottom) override {}
#endif

  BatchPrefetcher<Dtype> prefetcher_;

 private:
  void Deliver(const BlobVec& top, bool to_device) {
    prefetcher_.Deliver(top[0], top.size() > 1 ? top[1] : nullptr, to_device);
  }
};

}  // namespace moka
