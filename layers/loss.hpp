#pragma once
// Base of the loss layers: bottom 0 holds predictions, bottom 1 targets (labels), and top 0 is a
// scalar (0 axes) carrying the loss, weighted 1 unless the definition says otherwise.
#include <vector>

#include "layer.hpp"

namespace moka {

template <typename Dtype>
class LossLayer : public Layer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit LossLayer(const LayerParameter& param) : Layer<Dtype>(param) {}

  /// Gives the layer loss_weight 1 (on top 0; 0 on any further top) when none is set.
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  /// Checks that both bottoms agree on axis 0 and makes top 0 a scalar.
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

  int ExactNumBottomBlobs() const override { return 2; }
  int ExactNumTopBlobs() const override { return 1; }
  bool AutoTopBlobs() const override { return true; }
  /// Labels never receive a gradient, even under force_backward.
  bool AllowForceBackward(int bottom_index) const override { return bottom_index != 1; }
};

/// The normalization a loss layer applies: `normalization` when given, else the deprecated
/// `normalize` (true: VALID, false: BATCH_SIZE), else `when_unset` (which differs by layer type).
LossParameter::NormalizationMode ResolveNormalization(const LossParameter& param,
                                                      LossParameter::NormalizationMode when_unset);

/// Divisor of a summed loss over outer_num x inner_num positions: FULL counts them all, VALID the
/// non-ignored ones (valid_count; -1 means all), BATCH_SIZE outer_num, NONE 1. Never below 1, so a
/// batch whose labels are all ignored yields a zero loss rather than NaN.
template <typename Dtype>
Dtype LossNormalizer(LossParameter::NormalizationMode mode, int outer_num, int inner_num,
                     int valid_count);

}  // namespace moka
