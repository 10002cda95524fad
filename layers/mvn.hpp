#pragma once
#include "layer.hpp"

namespace moka {

/// Mean-variance normalisation over each sample's channel (or, with across_channels, over the
/// whole sample): y = x - mean, and with normalize_variance y = (x - mean) / (std + eps), std the
/// biased standard deviation. Backward follows Caffe's formula, which treats eps as negligible:
/// dx = (dy - mean(dy) - y * mean(dy * y)) / (std + eps).
template <typename Dtype>
class MVNLayer : public Layer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit MVNLayer(const LayerParameter& param) : Layer<Dtype>(param) {}
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;
  const char* type() const override { return "MVN"; }
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
  int num_ = 0;  // rows normalised independently
  int dim_ = 0;  // elements per row
  Blob<Dtype> mean_;
  Blob<Dtype> variance_;  // after forward: std + eps per row
  Blob<Dtype> temp_;
  Blob<Dtype> sum_multiplier_;
};

}  // namespace moka
