#pragma once
#include <vector>

#include "layers/base_convolution.hpp"

namespace moka {

/// Deconvolution (transposed convolution, as Caffe): the adjoint of Convolution with the same
/// parameters. Every input value scatters a weighted copy of the kernel into the output:
///   y[o, p * stride - pad + k * dilation] += W[c, o, k] * x[c, p]   for c and o in one group,
/// plus b[o] everywhere. Weights are (C_in, num_output / group, k_1, ..., k_d), bias is
/// (num_output); output size per axis is stride * (in - 1) + dilation * (k - 1) + 1 - 2 * pad.
/// It walks the batch one image at a time (Caffe's path); the batched path is never planned.
template <typename Dtype>
class DeconvolutionLayer : public BaseConvolutionLayer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit DeconvolutionLayer(const LayerParameter& param) : BaseConvolutionLayer<Dtype>(param) {
    this->set_batching(ConvBatching::kPerImage);
  }
  const char* type() const override { return "Deconvolution"; }
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

 protected:
  bool reverse_dimensions() const override { return true; }
  void ComputeOutputShape() override;
  void Forward_cpu(const BlobVec& bottom, const BlobVec& top) override;
  void Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                    const BlobVec& bottom) override;
};

}  // namespace moka
