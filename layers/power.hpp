#pragma once
#include "layers/neuron.hpp"

namespace moka {

/// Power: y = (shift + scale * x)^power; dy/dx = scale * power * (shift + scale * x)^(power - 1).
template <typename Dtype>
class PowerLayer : public NeuronLayer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit PowerLayer(const LayerParameter& param) : NeuronLayer<Dtype>(param) {}
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  const char* type() const override { return "Power"; }

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
  Dtype power_ = 1;
  Dtype scale_ = 1;
  Dtype shift_ = 0;
  Dtype diff_scale_ = 1;  // power * scale; zero makes the output constant
};

}  // namespace moka
