#pragma once
#include "layers/neuron.hpp"

namespace moka {

/// Swish: y = x * sigmoid(beta * x);
/// dy/dx = beta * y + sigmoid(beta * x) * (1 - beta * y).
template <typename Dtype>
class SwishLayer : public NeuronLayer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit SwishLayer(const LayerParameter& param) : NeuronLayer<Dtype>(param) {}
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;
  const char* type() const override { return "Swish"; }

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
  Blob<Dtype> sigmoid_;  // sigmoid(beta * x), kept for backward
};

}  // namespace moka
