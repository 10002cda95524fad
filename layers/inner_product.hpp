#pragma once
#include <string>
#include <vector>

#include "layer.hpp"

namespace moka {

/// Fully connected layer: the bottom is flattened from `axis` on into M rows of K values, and
///   y (M x N) = x (M x K) * W^T + 1 * b^T,
/// with W stored (N, K), or (K, N) when `transpose` is set, and b (N). The top keeps the axes
/// before `axis` and appends N.
template <typename Dtype>
class InnerProductLayer : public Layer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit InnerProductLayer(const LayerParameter& param) : Layer<Dtype>(param) {}
  const char* type() const override { return "InnerProduct"; }
  std::string engine() const override {
    return this->context_ != nullptr && this->context_->on_gpu() ? "cublas" : "blas";
  }
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
  int M_ = 0;
  int K_ = 0;
  int N_ = 0;
  bool bias_term_ = true;
  bool transpose_ = false;
  /// M ones: the bias enters as a rank-1 product, and its gradient as a matrix-vector product.
  Blob<Dtype> bias_multiplier_;
};

}  // namespace moka
