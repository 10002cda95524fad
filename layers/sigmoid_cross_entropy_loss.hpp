#pragma once
#include <vector>

#include "layers/loss.hpp"

namespace moka {

/// Cross-entropy of sigmoid(x) against targets t in [0, 1] (bottoms x and t of equal count):
///   loss = -sum_i [t_i log s(x_i) + (1 - t_i) log(1 - s(x_i))] / normalizer
///        = -sum_i [x_i (t_i - [x_i >= 0]) - log(1 + exp(x_i - 2 x_i [x_i >= 0]))] / normalizer
/// (the second form never overflows), dx = (s(x) - t) * loss_weight / normalizer. Targets equal to
/// loss_param.ignore_label add nothing. The normalizer follows loss_param, defaulting to
/// BATCH_SIZE (shape(0)) when neither normalization nor normalize is given, as in Caffe.
template <typename Dtype>
class SigmoidCrossEntropyLossLayer : public LossLayer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit SigmoidCrossEntropyLossLayer(const LayerParameter& param) : LossLayer<Dtype>(param) {}
  const char* type() const override { return "SigmoidCrossEntropyLoss"; }

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
  bool Ignored(Dtype target) const {
    return has_ignore_label_ && static_cast<int>(target) == ignore_label_;
  }

  int outer_num_ = 0;
  int inner_num_ = 0;
  bool has_ignore_label_ = false;
  int ignore_label_ = 0;
  LossParameter::NormalizationMode normalization_ = LossParameter::BATCH_SIZE;
  /// The divisor of the last forward, which backward reuses.
  Dtype normalizer_ = 1;
#ifdef MOKA_CUDA
  /// Per element: its loss term, and 1 when its target counts (0 when ignored).
  Blob<Dtype> gpu_losses_;
  Blob<Dtype> gpu_counts_;
#endif
};

}  // namespace moka
