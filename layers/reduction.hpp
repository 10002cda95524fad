#pragma once
#include "layer.hpp"

namespace moka {

/// Reduces all axes from `axis` on to one value per leading index, times coeff:
/// SUM: sum x, ASUM: sum |x|, SUMSQ: sum x^2, MEAN: sum x / n. The top keeps the axes before
/// `axis` (a scalar when axis is 0).
template <typename Dtype>
class ReductionLayer : public Layer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit ReductionLayer(const LayerParameter& param) : Layer<Dtype>(param) {}
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;
  const char* type() const override { return "Reduction"; }
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
  ReductionParameter::ReductionOp op_ = ReductionParameter::SUM;
  Dtype coeff_ = 1;  // includes the 1/n of MEAN
  int num_ = 0;
  int dim_ = 0;
  Blob<Dtype> sum_multiplier_;
};

}  // namespace moka
