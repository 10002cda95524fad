#pragma once
#include <vector>

#include "layer.hpp"

namespace moka {

/// Local response normalisation over (N, C, H, W) with n = local_size (odd):
///   ACROSS_CHANNELS: y = x * (k + alpha / n * sum_{c' in window(c)} x_{c'}^2)^-beta, the window
///     being the n channels centred on c (zero beyond the channel range);
///   WITHIN_CHANNEL: y = x * (1 + alpha / n^2 * sum_{n x n window} x^2)^-beta, the window centred
///   on
///     (h, w) and zero-padded; k is unused (as in Caffe, which builds it from Power and AVE
///     pooling).
template <typename Dtype>
class LRNLayer : public Layer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit LRNLayer(const LayerParameter& param) : Layer<Dtype>(param) {}
  const char* type() const override { return "LRN"; }
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
  void CrossChannelForward(const BlobVec& bottom, const BlobVec& top);
  void CrossChannelBackward(const BlobVec& top, const BlobVec& bottom);
  void WithinChannelForward(const BlobVec& bottom, const BlobVec& top);
  void WithinChannelBackward(const BlobVec& top, const BlobVec& bottom);

  bool across_channels_ = true;
  int size_ = 0;
  int pre_pad_ = 0;
  Dtype alpha_ = 0, beta_ = 0, k_ = 0;
  int num_ = 0, channels_ = 0, height_ = 0, width_ = 0;
  /// The normaliser before the power: k + alpha / n * (sum of squares), or 1 + alpha * average.
  Blob<Dtype> scale_;
  /// scale_^-beta, kept for the backward pass (ACROSS_CHANNELS: in TRAIN only).
  Blob<Dtype> power_;
  /// Threads the images of an ACROSS_CHANNELS pass are spread over.
  int threads_ = 1;
  /// ACROSS_CHANNELS, per thread: one image's squares (or gradient ratios) with n - 1 zero
  /// channels of padding.
  Blob<Dtype> padded_;
  /// One H x W plane each (per thread): running window sums, and per-element products.
  Blob<Dtype> plane_a_;
  Blob<Dtype> plane_b_;
#ifdef MOKA_CUDA
  /// WITHIN_CHANNEL on the GPU: the gradient with respect to the window averages.
  Blob<Dtype> gpu_scratch_;
#endif
};

}  // namespace moka
