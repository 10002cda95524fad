#pragma once
#include "layer.hpp"

namespace moka {

/// Consumes bottoms that nothing else uses, so the net does not report them as outputs. Produces
/// no top; backward gives every bottom a zero diff.
template <typename Dtype>
class SilenceLayer : public Layer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit SilenceLayer(const LayerParameter& param) : Layer<Dtype>(param) {}
  const char* type() const override { return "Silence"; }
  int MinBottomBlobs() const override { return 1; }
  int ExactNumTopBlobs() const override { return 0; }

  void Reshape(const BlobVec& bottom, const BlobVec& top) override {}

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
