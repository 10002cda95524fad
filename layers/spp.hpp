#pragma once
#include <memory>
#include <vector>

#include "layer.hpp"

namespace moka {

template <typename Dtype>
class ConcatLayer;
template <typename Dtype>
class FlattenLayer;
template <typename Dtype>
class PoolingLayer;
template <typename Dtype>
class SplitLayer;

/// Spatial pyramid pooling of an (N, C, H, W) bottom. Level l (0 <= l < pyramid_height) pools
/// the whole image into about b x b bins, b = 2^l, with kernel k = ceil(H / b), stride k and pad
/// (k * b - H + 1) / 2 (likewise for W); the levels are flattened to (N, C * bins_l) and joined
/// along axis 1. With pyramid_height 1 the single level is the top, still (N, C, 1, 1).
///
/// As in Caffe, the layer is a small net of Split, Pooling, Flatten and Concat layers run on the
/// same context, so it runs wherever those run. Its Pooling layers are built from fresh layer
/// parameters, so their phase is TRAIN whatever the net's (STOCHASTIC samples even in TEST), and
/// their padding rules apply: a level whose pad would reach the kernel size (a bottom too small
/// for the pyramid) is refused.
template <typename Dtype>
class SPPLayer : public Layer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit SPPLayer(const LayerParameter& param);
  ~SPPLayer() override;
  const char* type() const override { return "SPP"; }
  int ExactNumBottomBlobs() const override { return 1; }
  int ExactNumTopBlobs() const override { return 1; }

  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

  /// The Pooling layer definition of one pyramid level for a height x width bottom.
  static LayerParameter LevelPoolingParam(int level, int height, int width,
                                          SPPParameter::PoolMethod pool);

 protected:
  void Forward_cpu(const BlobVec& bottom, const BlobVec& top) override;
  void Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                    const BlobVec& bottom) override;
#ifdef MOKA_CUDA
  // The inner layers pick their device from the shared context.
  void Forward_gpu(const BlobVec& bottom, const BlobVec& top) override {
    RunForward(bottom, top);
  }
  void Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                    const BlobVec& bottom) override {
    RunBackward(top, propagate_down, bottom);
  }
#endif

 private:
  void RunForward(const BlobVec& bottom, const BlobVec& top);
  void RunBackward(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom);
  /// (Re)creates the Pooling layers for the current bottom size and reshapes everything.
  void BuildLevels(const BlobVec& bottom, const BlobVec& top);

  int pyramid_height_ = 0;
  SPPParameter::PoolMethod pool_ = SPPParameter::MAX;
  /// The bottom shape the levels were built for (empty before the first Reshape).
  std::vector<int> built_for_;

  std::shared_ptr<SplitLayer<Dtype>> split_;
  std::vector<std::shared_ptr<PoolingLayer<Dtype>>> pooling_;
  std::vector<std::shared_ptr<FlattenLayer<Dtype>>> flatten_;
  std::shared_ptr<ConcatLayer<Dtype>> concat_;
  /// Per level: the split copy of the bottom, the pooled blob and its flattened view.
  std::vector<std::unique_ptr<Blob<Dtype>>> split_tops_, pooled_, flat_;
  BlobVec split_top_vec_, concat_bottom_vec_;
};

}  // namespace moka
