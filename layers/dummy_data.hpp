#pragma once
#include <vector>

#include "layer.hpp"

namespace moka {

/// Tops filled by fillers, for tests and benchmarks. Shapes come from dummy_data_param.shape or
/// the legacy num/channels/height/width (each given once for all tops or once per top); fillers
/// from data_filler (none: constant 0; one for all tops; or one per top). Tops with a constant
/// filler are filled once at setup; the others are refilled from the context's stream on every
/// forward.
template <typename Dtype>
class DummyDataLayer : public Layer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit DummyDataLayer(const LayerParameter& param) : Layer<Dtype>(param) {}
  const char* type() const override { return "DummyData"; }

  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void Reshape(const BlobVec& bottom, const BlobVec& top) override {}

  int ExactNumBottomBlobs() const override { return 0; }
  int MinTopBlobs() const override { return 1; }

 protected:
  void Forward_cpu(const BlobVec& bottom, const BlobVec& top) override;
  void Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                    const BlobVec& bottom) override {}
#ifdef MOKA_CUDA
  void Forward_gpu(const BlobVec& bottom, const BlobVec& top) override;
  void Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                    const BlobVec& bottom) override {}
#endif

 private:
  /// Filler of top i: the single shared one, or the i-th.
  const FillerParameter& FillerFor(int top_index) const {
    return fillers_.size() == 1 ? fillers_[0] : fillers_[top_index];
  }

  std::vector<FillerParameter> fillers_;
};

}  // namespace moka
