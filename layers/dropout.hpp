#pragma once
#include <memory>
#include <vector>

#include "layers/neuron.hpp"

namespace moka {

/// Inverted dropout with ratio p. TRAIN: y = x * m / (1 - p), m ~ Bernoulli(1 - p) drawn per
/// element from the context's stream, and dx = dy * m / (1 - p) with the same mask. TEST: y = x.
template <typename Dtype>
class DropoutLayer : public NeuronLayer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit DropoutLayer(const LayerParameter& param) : NeuronLayer<Dtype>(param) {}
  const char* type() const override { return "Dropout"; }

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
  Dtype ratio_ = 0;
  Dtype scale_ = 1;
  /// The mask of the last TRAIN forward, which backward must reuse.
  std::vector<unsigned int> mask_;
#ifdef MOKA_CUDA
  /// The GPU path's mask: drawn on the host from the same stream as mask_, then copied over.
  std::unique_ptr<SyncedMemory> gpu_mask_;
#endif
};

}  // namespace moka
