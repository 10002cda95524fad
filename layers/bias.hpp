#pragma once
#include "layer.hpp"

namespace moka {

/// Adds a bias broadcast over the bottom: y[o, d, i] = x[o, d, i] + b[d], where b spans
/// num_axes axes of the bottom from `axis` (o indexes the axes before, i those after). b is a
/// learned blob, or the second bottom when there are two (then its shape fixes num_axes).
template <typename Dtype>
class BiasLayer : public Layer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit BiasLayer(const LayerParameter& param) : Layer<Dtype>(param) {}
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;
  const char* type() const override { return "Bias"; }
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
  int outer_dim_ = 0;
  int bias_dim_ = 0;
  int inner_dim_ = 0;
};

/// The shape of the axes [axis, axis + num_axes) of `bottom` (num_axes -1: to the end), checked.
std::vector<int> BroadcastParamShape(const std::vector<int>& bottom_shape, int axis, int num_axes);

}  // namespace moka
