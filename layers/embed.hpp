#pragma once
#include "layer.hpp"

namespace moka {

/// Table lookup: each bottom value is an integer index k in [0, input_dim), and the output row
/// is W[k, :] (+ b). W has shape (input_dim, num_output); the top appends num_output to the
/// bottom's shape. Gradients reach W and b only: the indices are not differentiable.
template <typename Dtype>
class EmbedLayer : public Layer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit EmbedLayer(const LayerParameter& param) : Layer<Dtype>(param) {}
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;
  const char* type() const override { return "Embed"; }
  int ExactNumBottomBlobs() const override { return 1; }
  int ExactNumTopBlobs() const override { return 1; }
  bool AllowForceBackward(int bottom_index) const override { return false; }

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
  /// The row index held at bottom position n, checked.
  int Index(const Dtype* x, int n) const;

  int M_ = 0;  // lookups per batch
  int K_ = 0;  // input_dim
  int N_ = 0;  // num_output
  bool bias_term_ = true;
  Blob<Dtype> bias_multiplier_;
#ifdef MOKA_CUDA
  /// Set by the GPU forward when some bottom value is not a valid index.
  Blob<Dtype> gpu_bad_index_;
#endif
};

}  // namespace moka
