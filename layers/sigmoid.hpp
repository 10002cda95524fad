#pragma once
#include "layers/neuron.hpp"

namespace moka {

/// Logistic function y = 1 / (1 + exp(-x)), computed as 0.5 * tanh(0.5 * x) + 0.5 (as Caffe does,
/// which never overflows); dy/dx = y * (1 - y).
template <typename Dtype>
class SigmoidLayer : public NeuronLayer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit SigmoidLayer(const LayerParameter& param) : NeuronLayer<Dtype>(param) {}
  const char* type() const override { return "Sigmoid"; }

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
