#pragma once
#include <vector>

#include "layer.hpp"

namespace moka {

/// Softmax along `axis`: y_c = exp(x_c - max_k x_k) / sum_k exp(x_k - max_k x_k), independently
/// for every position outside that axis. Backward: dx_c = y_c * (dy_c - sum_k dy_k * y_k).
template <typename Dtype>
class SoftmaxLayer : public Layer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit SoftmaxLayer(const LayerParameter& param) : Layer<Dtype>(param) {}
  const char* type() const override { return "Softmax"; }
  int ExactNumBottomBlobs() const override { return 1; }
  int ExactNumTopBlobs() const override { return 1; }

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
  int axis_ = 1;
  int outer_num_ = 0;
  int channels_ = 0;
  int inner_num_ = 0;
  /// One value per inner position: the running max, then the sum (forward) or the dot (backward).
  std::vector<Dtype> scratch_;
};

#ifdef MOKA_CUDA
/// y = softmax(x) over the middle axis of an (outer_num, channels, inner_num) array on the device,
/// in the CPU layer's order of operations; y may be x. SoftmaxWithLoss shares it.
template <typename Dtype>
void SoftmaxGpu(int outer_num, int channels, int inner_num, const Dtype* x, Dtype* y);
#endif

}  // namespace moka
