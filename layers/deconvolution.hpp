#pragma once
#include <string>
#include <vector>

#include "layers/base_convolution.hpp"
#ifdef MOKA_CUDA
#include "context.hpp"
#include "im2col_gpu.hpp"
#endif

namespace moka {

/// Deconvolution (transposed convolution, as Caffe): the adjoint of Convolution with the same
/// parameters. Every input value scatters a weighted copy of the kernel into the output:
///   y[o, p * stride - pad + k * dilation] += W[c, o, k] * x[c, p]   for c and o in one group,
/// plus b[o] everywhere. Weights are (C_in, num_output / group, k_1, ..., k_d), bias is
/// (num_output); output size per axis is stride * (in - 1) + dilation * (k - 1) + 1 - 2 * pad.
/// It walks the batch one image at a time (Caffe's path); the batched path is never planned. On a
/// GPU it does the same per image with device im2col/col2im and cuBLAS.
template <typename Dtype>
class DeconvolutionLayer : public BaseConvolutionLayer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit DeconvolutionLayer(const LayerParameter& param) : BaseConvolutionLayer<Dtype>(param) {
    this->set_batching(ConvBatching::kPerImage);
  }
  const char* type() const override { return "Deconvolution"; }
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;
#ifdef MOKA_CUDA
  std::string engine() const override {
    if (this->context_ != nullptr && this->context_->on_gpu()) return "im2col+cublas";
    return BaseConvolutionLayer<Dtype>::engine();
  }
#endif

 protected:
  bool reverse_dimensions() const override { return true; }
  void ComputeOutputShape() override;
  void Forward_cpu(const BlobVec& bottom, const BlobVec& top) override;
  void Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                    const BlobVec& bottom) override;
#ifdef MOKA_CUDA
  void Forward_gpu(const BlobVec& bottom, const BlobVec& top) override;
  void Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                    const BlobVec& bottom) override;

 private:
  /// Sets up the geometry and buffers below for the bottom's shape (once per shape).
  void PrepareGpu(const BlobVec& bottom);

  /// The bottom shape the GPU state was prepared for.
  std::vector<int> gpu_prepared_shape_;
  /// In convolution terms: the image is the top, the columns run over the bottom's positions.
  ConvGeometryGpu gpu_geometry_;
  Blob<Dtype> gpu_col_;
  Blob<Dtype> gpu_ones_;
#endif
};

}  // namespace moka
