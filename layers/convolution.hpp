#pragma once
#include <memory>
#include <string>
#include <vector>

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
#ifdef MOKA_CUDA
  /// On a GPU context: "cudnn:fwd=...,bwd_data=...,bwd_filter=..." (the algorithms measured for
  /// the current shape), or "im2col+cublas" where cuDNN is not used.
  std::string engine() const override;
#endif

 protected:
  bool reverse_dimensions() const override { return false; }
  void ComputeOutputShape() override;
  void Forward_cpu(const BlobVec& bottom, const BlobVec& top) override;
  void Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                    const BlobVec& bottom) override;
#ifdef MOKA_CUDA
  void Forward_gpu(const BlobVec& bottom, const BlobVec& top) override;
  void Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                    const BlobVec& bottom) override;

 private:
  /// Engine choice, cuDNN descriptors and algorithms, and im2col buffers of the GPU path.
  struct GpuState;
  void PrepareGpu(const BlobVec& bottom);
  void ForwardGpuIm2col(const BlobVec& bottom, const BlobVec& top);
  void BackwardGpuIm2col(const BlobVec& top, const std::vector<bool>& propagate_down,
                         const BlobVec& bottom);
  // shared_ptr: GpuState is complete only in convolution.cu.
  std::shared_ptr<GpuState> gpu_state_;
#endif
};

}  // namespace moka
