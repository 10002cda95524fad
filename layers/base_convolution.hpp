#pragma once
#include <string>
#include <vector>

#include "layer.hpp"

namespace moka {

/// Shared machinery of the convolution-like layers (Convolution, and the transposed direction,
/// Deconvolution): ConvolutionParameter parsing, parameter blobs, shapes, and the per-image
/// im2col + GEMM kernels. Every bottom i maps to top i with the same weights.
///
/// For one image, with G groups, the layer computes per group g
///   out_g (C_out/G x P) = W_g (C_out/G x K) * col_g (K x P),  K = C_in/G * k_1 * ... * k_d,
/// where col is the im2col unrolling of the input and P the number of output positions. In the
/// transposed direction the roles of bottom and top swap: the "convolution input" is the top.
template <typename Dtype>
class BaseConvolutionLayer : public Layer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit BaseConvolutionLayer(const LayerParameter& param) : Layer<Dtype>(param) {}

  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

  int MinBottomBlobs() const override { return 1; }
  int MinTopBlobs() const override { return 1; }
  bool EqualNumBottomTopBlobs() const override { return true; }
  std::string engine() const override { return is_1x1_ ? "blas-1x1" : "im2col+blas"; }

 protected:
  /// True for the transposed direction, where the bottom is the convolution's output.
  virtual bool reverse_dimensions() const = 0;
  /// Sets output_shape_ (the top's spatial sizes) from the bottom's spatial sizes, input_shape(i).
  virtual void ComputeOutputShape() = 0;

  /// Spatial size of the bottom on spatial axis i.
  int input_shape(int i) const { return bottom_shape_[channel_axis_ + 1 + i]; }

  // Kernels for one image; weight and bias gradients accumulate.
  void ForwardGemm(const Dtype* input, const Dtype* weights, Dtype* output);
  void ForwardBias(Dtype* output, const Dtype* bias);
  void BackwardGemm(const Dtype* output_diff, const Dtype* weights, Dtype* input_diff);
  void WeightGemm(const Dtype* input, const Dtype* output_diff, Dtype* weights_diff);
  void BackwardBias(Dtype* bias_diff, const Dtype* output_diff);

  std::vector<int> kernel_shape_;
  std::vector<int> stride_;
  std::vector<int> pad_;
  std::vector<int> dilation_;
  /// Spatial sizes of the top.
  std::vector<int> output_shape_;
  std::vector<int> bottom_shape_;

  int num_spatial_axes_ = 0;
  int channel_axis_ = 1;
  /// Images per bottom: the product of the axes before the channel axis.
  int num_ = 0;
  int channels_ = 0;
  int num_output_ = 0;
  int group_ = 1;
  /// Values per image in a bottom and in a top.
  int bottom_dim_ = 0;
  int top_dim_ = 0;
  int out_spatial_dim_ = 0;
  bool bias_term_ = true;
  bool is_1x1_ = false;
  bool force_nd_im2col_ = false;

 private:
  void ConvIm2col(const Dtype* data, Dtype* col);
  void ConvCol2im(const Dtype* col, Dtype* data);
  void CheckOrCreateParams();

  int conv_out_channels_ = 0;
  int conv_in_channels_ = 0;
  int conv_out_spatial_dim_ = 0;
  /// Rows of the column buffer per group: C_in/G * prod(kernel).
  int kernel_dim_ = 0;
  int weight_offset_ = 0;
  int col_offset_ = 0;
  int output_offset_ = 0;
  /// (conv_in_channels, spatial sizes of the convolution input).
  std::vector<int> conv_input_shape_;
  /// (kernel_dim * group, spatial sizes of the convolution output).
  std::vector<int> col_buffer_shape_;
  Blob<Dtype> col_buffer_;
  Blob<Dtype> bias_multiplier_;
};

}  // namespace moka
