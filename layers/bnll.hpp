#pragma once
#include "layers/neuron.hpp"

namespace moka {

/// Binomial normal log-likelihood (softplus): y = log(1 + exp(x)), evaluated as
/// x + log(1 + exp(-x)) for x > 0; dy/dx = sigmoid(x), with exp clamped at x = 50.
template <typename Dtype>
class BNLLLayer : public NeuronLayer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit BNLLLayer(const LayerParameter& param) : NeuronLayer<Dtype>(param) {}
  const char* type() const override { return "BNLL"; }

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
