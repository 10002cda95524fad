#pragma once
#include "layers/neuron.hpp"

namespace moka {

/// Rectified linear unit, leaky when negative_slope s is set:
/// y = max(x, 0) + s * min(x, 0); dy/dx = 1 for x > 0, s otherwise.
template <typename Dtype>
class ReLULayer : public NeuronLayer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit ReLULayer(const LayerParameter& param) : NeuronLayer<Dtype>(param) {}
  const char* type() const override { return "ReLU"; }

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
