#include "layers/loss.hpp"

#include <algorithm>

namespace moka {

template <typename Dtype>
void LossLayer<Dtype>::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  if (this->layer_param_.loss_weight_size() > 0) return;
  // Caffe adds a single weight of 1, which only fits a one-top layer; a further top (such as
  // SoftmaxWithLoss's probabilities) is an output, not a loss, so it gets weight 0.
  this->layer_param_.add_loss_weight(1);
  for (size_t i = 1; i < top.size(); ++i) this->layer_param_.add_loss_weight(0);
}

template <typename Dtype>
void LossLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  MOKA_CHECK(bottom[0]->num_axes() > 0 && bottom[1]->num_axes() > 0 &&
                 bottom[0]->shape(0) == bottom[1]->shape(0),
             ShapeError,
             "predictions and labels must have the same first dimension, got shapes "
                 << bottom[0]->shape_string() << " and " << bottom[1]->shape_string());
  top[0]->Reshape(std::vector<int>());
}

LossParameter::NormalizationMode ResolveNormalization(const LossParameter& param,
                                                      LossParameter::NormalizationMode when_unset) {
  if (param.has_normalization()) return param.normalization();
  if (param.has_normalize()) return param.normalize() ? LossParameter::VALID : LossParameter::BATCH_SIZE;
  return when_unset;
}

template <typename Dtype>
Dtype LossNormalizer(LossParameter::NormalizationMode mode, int outer_num, int inner_num,
                     int valid_count) {
  Dtype normalizer = 1;
  switch (mode) {
    case LossParameter::FULL:
      normalizer = Dtype(outer_num * inner_num);
      break;
    case LossParameter::VALID:
      normalizer = valid_count == -1 ? Dtype(outer_num * inner_num) : Dtype(valid_count);
      break;
    case LossParameter::BATCH_SIZE:
      normalizer = Dtype(outer_num);
      break;
    case LossParameter::NONE:
      normalizer = Dtype(1);
      break;
    default:
      MOKA_THROW(ConfigError, "unknown loss normalization mode " << static_cast<int>(mode));
  }
  return std::max(Dtype(1), normalizer);
}

template float LossNormalizer<float>(LossParameter::NormalizationMode, int, int, int);
template double LossNormalizer<double>(LossParameter::NormalizationMode, int, int, int);

MOKA_INSTANTIATE_CLASS(LossLayer);

}  // namespace moka
