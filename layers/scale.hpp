#pragma once
#include "layer.hpp"

namespace moka {

/// Multiplies by a scale broadcast over the bottom, plus an optional bias:
/// y[o, d, i] = x[o, d, i] * s[d] (+ b[d] with bias_term), where s spans num_axes axes of the
/// bottom from `axis`. s is a learned blob (default filler constant 1), or the second bottom
/// when there are two. Blobs: s (if learned), then b (if bias_term).
template <typename Dtype>
class ScaleLayer : public Layer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit ScaleLayer(const LayerParameter& param) : Layer<Dtype>(param) {}
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;
  const char* type() const override { return "Scale"; }
  int MinBottomBlobs() const override { return 1; }
  int MaxBottomBlobs() const override { return 2; }
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
  Blob<Dtype>& ScaleBlob(const BlobVec& bottom) {
    return bottom.size() > 1 ? *bottom[1] : *this->blobs_[0];
  }

  int bias_param_id_ = -1;  // index of b in blobs_, or -1 without bias_term
  int outer_dim_ = 0;
  int scale_dim_ = 0;
  int inner_dim_ = 0;
  Blob<Dtype> temp_;  // the input, kept when running in place
};

}  // namespace moka
