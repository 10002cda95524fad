#pragma once
#include "layers/loss.hpp"

namespace moka {

/// Negative log-likelihood of given probabilities: loss = -sum_n log(max(p[n, l_n], 1e-20)) / N,
/// for N samples of D probabilities p (already normalised, e.g. by a Softmax layer).
template <typename Dtype>
class MultinomialLogisticLossLayer : public LossLayer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit MultinomialLogisticLossLayer(const LayerParameter& param) : LossLayer<Dtype>(param) {}
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;
  const char* type() const override { return "MultinomialLogisticLoss"; }

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
  int LabelAt(const Dtype* labels, int n, int dim) const;
#ifdef MOKA_CUDA
  /// Per sample: its loss term (summed in double on the device).
  Blob<Dtype> gpu_losses_;
#endif
};

/// Floor under probabilities before taking logs (Caffe's kLOG_THRESHOLD).
constexpr double kLogThreshold = 1e-20;

}  // namespace moka
