#pragma once
#include "layers/loss.hpp"

namespace moka {

/// One-vs-all hinge loss over N samples of D scores x with labels l:
/// t[n, d] = max(0, 1 + s * x[n, d]) with s = -1 for d = l[n] and +1 otherwise;
/// L1: loss = sum t / N, L2: loss = sum t^2 / N.
template <typename Dtype>
class HingeLossLayer : public LossLayer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit HingeLossLayer(const LayerParameter& param) : LossLayer<Dtype>(param) {}
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;
  const char* type() const override { return "HingeLoss"; }

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

  Blob<Dtype> margins_;  // t, kept for backward
};

}  // namespace moka
