#pragma once
#include "layer.hpp"

namespace moka {

/// Batch normalisation per channel (axis 1): y = (x - mean_c) / sqrt(var_c + eps).
/// In TRAIN (unless use_global_stats) mean and (biased) variance come from the batch, and the
/// three parameter blobs accumulate running sums: factor = factor * f + 1,
/// mean_sum = mean_sum * f + mean, var_sum = var_sum * f + m/(m-1) * var (f the
/// moving_average_fraction, m = count / channels). With global statistics the layer uses
/// mean_sum / factor and var_sum / factor (0 when factor is 0). The blobs are statistics, not
/// learned weights: the layer pins their lr_mult to 0 and never writes their diffs.
template <typename Dtype>
class BatchNormLayer : public Layer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit BatchNormLayer(const LayerParameter& param);
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;
  const char* type() const override { return "BatchNorm"; }
  int ExactNumBottomBlobs() const override { return 1; }
  int ExactNumTopBlobs() const override { return 1; }

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
  /// Per-channel sums over batch and spatial positions of `data`, times `alpha`, into `out`.
  void ChannelSums(const Dtype* data, Dtype alpha, Dtype* out);
  /// out[n, c, s] = values[c] over the whole blob.
  void BroadcastChannels(const Dtype* values, Dtype* out) const;
  /// data[n, c, s] += sign * values[c] over the whole blob.
  void AddPerChannel(const Dtype* values, Dtype sign, Dtype* data) const;
#ifdef MOKA_CUDA
  /// ChannelSums on device pointers (the same two products, through cuBLAS).
  void ChannelSumsGpu(const Dtype* data, Dtype alpha, Dtype* out);
#endif

  bool use_global_stats_ = false;
  Dtype moving_average_fraction_ = Dtype(0.999);
  Dtype eps_ = Dtype(1e-5);
  int channels_ = 0;
  int num_ = 0;
  int spatial_dim_ = 0;
  Blob<Dtype> mean_;
  Blob<Dtype> variance_;  // after forward: sqrt(var + eps)
  Blob<Dtype> temp_;      // after forward: sqrt(var + eps) broadcast to the input
  Blob<Dtype> x_norm_;    // the output, kept for backward (later layers may overwrite it)
  Blob<Dtype> batch_sum_multiplier_;  // ones, length num
  Blob<Dtype> spatial_sum_multiplier_;
  Blob<Dtype> num_by_chans_;
};

}  // namespace moka
