#pragma once
#include "layers/neuron.hpp"

namespace moka {

/// Parametric ReLU: y = max(x, 0) + a_c * min(x, 0), with one learned slope a_c per channel
/// (axis 1), or one for all channels when channel_shared. dy/dx = 1 for x > 0, a_c otherwise;
/// dL/da_c sums dy * x over the non-positive inputs of channel c.
template <typename Dtype>
class PReLULayer : public NeuronLayer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit PReLULayer(const LayerParameter& param) : NeuronLayer<Dtype>(param) {}
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;
  const char* type() const override { return "PReLU"; }

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
  bool channel_shared_ = false;
  Blob<Dtype> bottom_memory_;  // the input, kept when running in place
#ifdef MOKA_CUDA
  // Per-channel partial sums of the slope gradient, one per slice of the channel's elements, added
  // in a fixed order so that the GPU result does not depend on scheduling.
  Blob<double> slope_partials_;
#endif
};

}  // namespace moka
