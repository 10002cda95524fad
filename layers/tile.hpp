#pragma once
#include "layer.hpp"

namespace moka {

/// Repeats the bottom `tiles` times along `axis`: the block of axes from `axis` on is copied
/// that many times, so top shape[axis] = tiles * bottom shape[axis]. Backward sums the copies.
template <typename Dtype>
class TileLayer : public Layer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit TileLayer(const LayerParameter& param) : Layer<Dtype>(param) {}
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;
  const char* type() const override { return "Tile"; }
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
  int tiles_ = 1;
  int outer_dim_ = 0;
  int inner_dim_ = 0;
};

}  // namespace moka
