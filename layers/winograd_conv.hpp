#pragma once
#include <cstddef>
#include <vector>

namespace moka {

/// Geometry of a 2-D, stride-1, undilated convolution with a square kernel (3x3 or 5x5) and G
/// groups:
///   y[n, k, oh, ow] = b[k] + sum_{c in k's group, i, j} W[k, c, i, j] * x[n, c, oh - ph + i, ow -
///   pw + j]
/// reading zero outside the input; planes are (height x width) in, (out_height x out_width) out.
struct WinogradGeometry {
  int kernel = 3;
  int channels = 0;
  int out_channels = 0;
  int group = 1;
  int height = 0, width = 0;
  int pad_h = 0, pad_w = 0;
  int out_height = 0, out_width = 0;
};

/// That convolution by Winograd's minimal filtering (Lavin and Gray, 2016), F(4x4, 3x3) or
/// F(2x2, 5x5): each block of outputs (a tile, 4x4 or 2x2) comes from the 6x6 block of input
/// around it, with 36 multiplications per pair of input and output channels where the direct
/// method needs 144 or 100. Both use the interpolation points 0, +-1, +-2 and infinity, so they
/// share the input transform. Input tiles and kernels are carried to 36 transform points; at each
/// point the channels mix through one matrix product, (K x C) * (C x tiles), which BLAS computes;
/// the 36 products are carried back to the outputs.
///
/// A pass runs in three phases, each split between threads: input transform (by channel), the
/// products (by point and group), output transform (by output channel).
/// Every output is computed by one task in a fixed order, so results do not depend on the threads.
/// Images go through in chunks whose transformed data fit kBudget.
///
/// The adjoint (the input gradient of the same convolution) is again such a convolution, over the
/// output gradient, with the kernels flipped and their channel axes swapped, and padding
/// kernel - 1 - pad:
/// SetWeights(..., adjoint = true) prepares the kernels for it. The kernel gradient is the
/// transpose of the same linear map: each tile's output gradient goes to the 36 points (A dy A^T),
/// meets the transformed input there, is summed over tiles by one product per point,
/// (K x tiles) * (tiles x C), and comes back to the kernel's size through G^T . G.
template <typename Dtype>
class WinogradConvolution {
 public:
  static constexpr int kPatch = 6;
  static constexpr int kPoints = 36;
  /// Bytes of transformed input and products held at once.
  static constexpr size_t kBudget = size_t(16) << 20;

  /// Whether the method applies: a 3x3 or 5x5 kernel, channels that divide into the groups.
  static bool Possible(const WinogradGeometry& g);
  /// Whether it is expected to beat im2col + GEMM: possible, enough channels per group for the
  /// products to run well and to pay for the transforms, and output planes that waste little of
  /// their last tiles (measured on the zoo's shapes; see scripts/bench/winograd.sh).
  static bool Worthwhile(const WinogradGeometry& g);

  /// Sizes the buffers for `images` images on `threads` threads.
  void Reshape(const WinogradGeometry& g, int images, int threads);

  /// Transforms the kernels (out_channels x channels/group x k x k) of the convolution, or of its
  /// adjoint; the geometry given to Reshape is then the adjoint's. Kernels equal to those of the
  /// previous call are not transformed again.
  void SetWeights(const Dtype* weights, bool adjoint);

  /// output = conv(input) + bias for all images; bias may be null. Output is overwritten.
  void Forward(const Dtype* input, const Dtype* bias, Dtype* output);

  /// Adds the kernels' gradient for all images to weight_diff (out_channels x channels/group x
  /// k x k), from the input and the output's gradient. Chunks and points are summed in a fixed
  /// order, so the result does not depend on the threads.
  void WeightGradient(const Dtype* input, const Dtype* output_diff, Dtype* weight_diff);

 private:
  /// The input channels [channel_begin, channel_end) of a chunk of images into `points`.
  void TransformInput(const Dtype* input, int images, int channel_begin, int channel_end,
                      Dtype* points, Dtype* scratch) const;
  /// The output channels [channel_begin, channel_end) of a chunk of images from `products`.
  void TransformOutput(const Dtype* products, const Dtype* bias, int images, int channel_begin,
                       int channel_end, Dtype* output, Dtype* scratch) const;
  /// The output-gradient channels [channel_begin, channel_end) of a chunk into `points`.
  void TransformOutputDiff(const Dtype* output_diff, int images, int channel_begin, int channel_end,
                           Dtype* points, Dtype* scratch) const;

  WinogradGeometry g_;
  /// Outputs per tile side: 4 for 3x3 kernels, 2 for 5x5.
  int tile_ = 4;
  int images_ = 0;
  int threads_ = 1;
  int tiles_h_ = 0, tiles_w_ = 0;
  int chunk_ = 1;
  /// Tile columns of the current chunk (its images x tiles per image); the buffers' row length.
  int columns_ = 0;
  bool adjoint_ = false;
  /// The kernels the transformed ones were made from, to skip transforming them again.
  std::vector<Dtype> source_weights_;
  /// Transformed kernels: (points x out_channels x channels/group).
  std::vector<Dtype> transformed_weights_;
};

}  // namespace moka
