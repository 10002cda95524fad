#pragma once
#include "layers/neuron.hpp"

namespace moka {

/// Exponential: y = base^(shift + scale * x) (base -1 means e); dy/dx = y * scale * ln(base).
template <typename Dtype>
class ExpLayer : public NeuronLayer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit ExpLayer(const LayerParameter& param) : NeuronLayer<Dtype>(param) {}
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  const char* type() const override { return "Exp"; }

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
  Dtype inner_scale_ = 1;  // scale * ln(base)
  Dtype outer_scale_ = 1;  // base^shift
};

}  // namespace moka
