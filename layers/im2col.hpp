#pragma once
#include <vector>

#include "layer.hpp"
// Sources in layers/ that include "im2col.hpp" for the library routines find this header first
// (quoted includes search the including file's folder before the include path), so it provides
// them too.
#include "src/im2col.hpp"
#ifdef MOKA_CUDA
#include "im2col_gpu.hpp"
#endif

namespace moka {

/// Unrolls every receptive field of a convolution into the channel axis, with the geometry of
/// convolution_param (kernel, stride, pad, dilation, axis; N-D, or 2-D with the _h/_w fields):
/// an (N, C, d_1, ..., d_k) bottom gives (N, C * k_1 * ... * k_k, o_1, ..., o_k) with
///   top[n, (c, i_1, ..., i_k), o_1, ..., o_k] = bottom[n, c, o_1 * s_1 - p_1 + i_1 * r_1, ...]
/// (zero outside the image) and o_a = (d_a + 2 p_a - (r_a (k_a - 1) + 1)) / s_a + 1. Backward is
/// col2im: each bottom element receives the sum of the top diffs of the entries that copied it.
template <typename Dtype>
class Im2colLayer : public Layer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit Im2colLayer(const LayerParameter& param) : Layer<Dtype>(param) {}
  const char* type() const override { return "Im2col"; }
  int ExactNumBottomBlobs() const override { return 1; }
  int ExactNumTopBlobs() const override { return 1; }

  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

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
  /// Whether the 2-D routines run (Caffe's choice: two spatial axes and no force_nd_im2col).
  bool use_2d() const {
    return !force_nd_im2col_ && num_spatial_axes_ == 2;
  }

  int channel_axis_ = 1;
  int num_spatial_axes_ = 0;
  bool force_nd_im2col_ = false;
  std::vector<int> kernel_shape_, stride_, pad_, dilation_;
  /// Images (the product of the axes before the channel axis), channels, and values per image in
  /// the bottom and the top.
  int num_ = 0, channels_ = 0, bottom_dim_ = 0, top_dim_ = 0;
  /// (channels, d_1, ..., d_k) and (channels * prod k, o_1, ..., o_k), for the N-D routines.
  std::vector<int> im_shape_, col_shape_;
#ifdef MOKA_CUDA
  ConvGeometryGpu geometry_;
#endif
};

}  // namespace moka
