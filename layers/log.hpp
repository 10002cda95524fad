#pragma once
#include "layers/neuron.hpp"

namespace moka {

/// Logarithm: y = log_base(shift + scale * x) (base -1 means e);
/// dy/dx = scale / (ln(base) * (shift + scale * x)).
template <typename Dtype>
class LogLayer : public NeuronLayer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit LogLayer(const LayerParameter& param) : NeuronLayer<Dtype>(param) {}
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;
  const char* type() const override { return "Log"; }

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
  Dtype base_scale_ = 1;  // 1 / ln(base)
  Dtype input_scale_ = 1;
  Dtype input_shift_ = 0;
  Dtype backward_num_scale_ = 1;  // input_scale * base_scale
  Blob<Dtype> buffer_;            // shift + scale * x
};

}  // namespace moka
