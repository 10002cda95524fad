#pragma once
#include "layers/base_convolution.hpp"

namespace moka {

/// Convolution (cross-correlation, as Caffe): for output channel o of group g and output position
/// p,
///   y[o, p] = b[o] + sum_{c in g} sum_k W[o, c, k] * x[c, p * stride - pad + k * dilation],
/// reading zero outside the input. Weights are (num_output, C_in / group, k_1, ..., k_d), bias is
/// (num_output); output size per axis is (in + 2 * pad - (dilation * (k - 1) + 1)) / stride + 1.
template <typename Dtype>
class ConvolutionLayer : public BaseConvolutionLayer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit ConvolutionLayer(const LayerParameter& param) : BaseConvolutionLayer<Dtype>(param) {}
  const char* type() const override { return "Convolution"; }

 protected:
  bool reverse_dimensions() const override { return false; }
  void ComputeOutputShape() override;
  void Forward_cpu(const BlobVec& bottom, const BlobVec& top) override;
  void Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                    const BlobVec& bottom) override;
};

}  // namespace moka
