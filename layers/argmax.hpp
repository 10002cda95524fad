#pragma once
#include "layer.hpp"

namespace moka {

/// Indices of the top_k largest values. Without `axis` each sample (axis 0) is searched over all
/// its values and the top is (N, 1, top_k), or (N, 2, top_k) with out_max_val (indices, then
/// values); with `axis` the search runs along that axis and the top has top_k there, holding
/// values instead of indices when out_max_val. Ties go to the larger index. No backward.
template <typename Dtype>
class ArgMaxLayer : public Layer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit ArgMaxLayer(const LayerParameter& param) : Layer<Dtype>(param) {}
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;
  const char* type() const override { return "ArgMax"; }
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
  bool out_max_val_ = false;
  int top_k_ = 1;
  bool has_axis_ = false;
  int axis_ = 0;
  std::vector<std::pair<Dtype, int>> scratch_;
};

}  // namespace moka
