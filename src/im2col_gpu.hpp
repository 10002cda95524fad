#pragma once
// Device im2col and col2im over any number of spatial axes (up to kMaxConvAxesGpu), with the
// column layout of im2col.hpp: row (c, k_1, ..., k_d), column (o_1, ..., o_d), both row-major.
// col2im gathers (each image element sums the column entries that read it, in increasing kernel
// offset order) instead of scattering, so it needs no atomics and is deterministic.
#ifdef MOKA_CUDA

namespace moka {

constexpr int kMaxConvAxesGpu = 6;

struct ConvGeometryGpu {
  int num_axes = 0;
  /// Channels of the image.
  int channels = 0;
  /// Spatial sizes of the image and of the output positions (the columns).
  int im_shape[kMaxConvAxesGpu] = {};
  int col_shape[kMaxConvAxesGpu] = {};
  int kernel[kMaxConvAxesGpu] = {};
  int pad[kMaxConvAxesGpu] = {};
  int stride[kMaxConvAxesGpu] = {};
  int dilation[kMaxConvAxesGpu] = {};
};

/// col (channels * prod(kernel), prod(col_shape)) from the image im (channels, im_shape...).
template <typename Dtype>
void Im2colGpu(const Dtype* im, const ConvGeometryGpu& geometry, Dtype* col);

/// Overwrites im with the adjoint of Im2colGpu applied to col.
template <typename Dtype>
void Col2imGpu(const Dtype* col, const ConvGeometryGpu& geometry, Dtype* im);

}  // namespace moka

#endif  // MOKA_CUDA
