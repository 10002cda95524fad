#include "layers/softmax_with_loss.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>

#include "layer_registry.hpp"
#include "math_functions.hpp"

namespace moka {

template <typename Dtype>
void SoftmaxWithLossLayer<Dtype>::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  LossLayer<Dtype>::LayerSetUp(bottom, top);
  const LossParameter& loss_param = this->layer_param_.loss_param();
  has_ignore_label_ = loss_param.has_ignore_label();
  ignore_label_ = loss_param.ignore_label();
  normalization_ = ResolveNormalization(loss_param, LossParameter::VALID);
}

template <typename Dtype>
void SoftmaxWithLossLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  LossLayer<Dtype>::Reshape(bottom, top);
  softmax_axis_ = bottom[0]->CanonicalAxisIndex(this->layer_param_.softmax_param().axis());
  outer_num_ = bottom[0]->count(0, softmax_axis_);
  inner_num_ = bottom[0]->count(softmax_axis_ + 1);
  MOKA_CHECK(outer_num_ * inner_num_ == bottom[1]->count(), ShapeError,
             "needs one label per prediction: predictions " << bottom[0]->shape_string()
                 << " with softmax axis " << softmax_axis_ << " need " << outer_num_ * inner_num_
                 << " labels, got label shape " << bottom[1]->shape_string());
  prob_.ReshapeLike(*bottom[0]);
  scratch_.resize(inner_num_);
  if (top.size() >= 2) top[1]->ReshapeLike(*bottom[0]);
}

template <typename Dtype>
int SoftmaxWithLossLayer<Dtype>::LabelAt(const Dtype* labels, int index) const {
  const int label = static_cast<int>(labels[index]);
  const int channels = prob_.shape(softmax_axis_);
  MOKA_CHECK(label >= 0 && label < channels, ShapeError,
             "label " << labels[index] << " at position " << index << " is outside [0, "
                      << channels << "), the classes on axis " << softmax_axis_
                      << " of predictions " << prob_.shape_string());
  return label;
}

template <typename Dtype>
void SoftmaxWithLossLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  const Dtype* x = bottom[0]->cpu_data();
  Dtype* p = prob_.mutable_cpu_data();
  const int channels = bottom[0]->shape(softmax_axis_);
  const int dim = channels * inner_num_;
  Dtype* scratch = scratch_.data();
  // Caffe's Softmax: subtract the per-position maximum, exponentiate, divide by the sum. Looping
  // with the inner index innermost keeps memory access contiguous.
  for (int i = 0; i < outer_num_; ++i) {
    const Dtype* xi = x + i * dim;
    Dtype* pi = p + i * dim;
    std::copy(xi, xi + inner_num_, scratch);
    for (int c = 1; c < channels; ++c)
      for (int j = 0; j < inner_num_; ++j) scratch[j] = std::max(scratch[j], xi[c * inner_num_ + j]);
    for (int c = 0; c < channels; ++c)
      for (int j = 0; j < inner_num_; ++j)
        pi[c * inner_num_ + j] = std::exp(xi[c * inner_num_ + j] - scratch[j]);
    std::fill(scratch, scratch + inner_num_, Dtype(0));
    for (int c = 0; c < channels; ++c)
      for (int j = 0; j < inner_num_; ++j) scratch[j] += pi[c * inner_num_ + j];
    for (int c = 0; c < channels; ++c)
      for (int j = 0; j < inner_num_; ++j) pi[c * inner_num_ + j] /= scratch[j];
  }

  const Dtype* labels = bottom[1]->cpu_data();
  Dtype loss = 0;
  int valid_count = 0;
  for (int i = 0; i < outer_num_; ++i) {
    for (int j = 0; j < inner_num_; ++j) {
      const int index = i * inner_num_ + j;
      if (has_ignore_label_ && static_cast<int>(labels[index]) == ignore_label_) continue;
      const int label = LabelAt(labels, index);
      loss -= std::log(std::max(p[i * dim + label * inner_num_ + j], Dtype(FLT_MIN)));
      ++valid_count;
    }
  }
  top[0]->mutable_cpu_data()[0] =
      loss / LossNormalizer<Dtype>(normalization_, outer_num_, inner_num_, valid_count);
  if (top.size() == 2) cpu_copy(prob_.count(), p, top[1]->mutable_cpu_data());
}

template <typename Dtype>
void SoftmaxWithLossLayer<Dtype>::Backward_cpu(const BlobVec& top,
                                               const std::vector<bool>& propagate_down,
                                               const BlobVec& bottom) {
  MOKA_CHECK(!propagate_down[1], ConfigError, "cannot backpropagate to the labels (bottom 1)");
  if (!propagate_down[0]) return;
  Dtype* dx = bottom[0]->mutable_cpu_diff();
  cpu_copy(prob_.count(), prob_.cpu_data(), dx);
  const Dtype* labels = bottom[1]->cpu_data();
  const int channels = prob_.shape(softmax_axis_);
  const int dim = channels * inner_num_;
  int valid_count = 0;
  for (int i = 0; i < outer_num_; ++i) {
    for (int j = 0; j < inner_num_; ++j) {
      const int index = i * inner_num_ + j;
      if (has_ignore_label_ && static_cast<int>(labels[index]) == ignore_label_) {
        for (int c = 0; c < channels; ++c) dx[i * dim + c * inner_num_ + j] = 0;
        continue;
      }
      dx[i * dim + LabelAt(labels, index) * inner_num_ + j] -= 1;
      ++valid_count;
    }
  }
  const Dtype scale = top[0]->cpu_diff()[0] /
                      LossNormalizer<Dtype>(normalization_, outer_num_, inner_num_, valid_count);
  cpu_scal(prob_.count(), scale, dx);
}

MOKA_INSTANTIATE_CLASS(SoftmaxWithLossLayer);
MOKA_REGISTER_LAYER(SoftmaxWithLoss);

}  // namespace moka
