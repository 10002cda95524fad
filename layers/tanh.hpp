#pragma once
#include "layers/neuron.hpp"

namespace moka {

/// Hyperbolic tangent y = tanh(x); dy/dx = 1 - y^2.
template <typename Dtype>
class TanHLayer : public NeuronLayer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit TanHLayer(const LayerParameter& param) : NeuronLayer<Dtype>(param) {}
  const char* type() const override { return "TanH"; }

 protected:
  void Forward_cpu(const BlobVec& bottom, const BlobVec& top) override;
  void Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                    const BlobVec& bottom) override;
#ifdef MOKA_CUDA
  void Forward_gpu(const BlobVec& bottom, const BlobVec& top) override;
  void Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                    const BlobVec& bottom) override;
#endif
};

}  // namespace moka
