#pragma once
#include <vector>

#include "layer.hpp"

namespace moka {

/// Entry point for data supplied from outside the net (deploy nets, pycaffe-style feeding). Each
/// top takes input_param.shape (given once for all tops, once per top, or not at all) at setup;
/// later Reshape calls leave the tops alone, so callers may reshape inputs between forwards.
template <typename Dtype>
class InputLayer : public Layer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit InputLayer(const LayerParameter& param) : Layer<Dtype>(param) {}
  const char* type() const override { return "Input"; }

  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void Reshape(const BlobVec& bottom, const BlobVec& top) override {}

  int ExactNumBottomBlobs() const override { return 0; }
  int MinTopBlobs() const override { return 1; }

 protected:
  void Forward_cpu(const BlobVec& bottom, const BlobVec& top) override {}
  void Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                    const BlobVec& bottom) override {}
#ifdef MOKA_CUDA
  // The caller writes the tops; they move to the device when a layer reads them there.
  void Forward_gpu(const BlobVec& bottom, const BlobVec& top) override {}
  void Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                    const BlobVec& bottom) override {}
#endif
};

}  // namespace moka
