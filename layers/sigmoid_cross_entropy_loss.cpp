#include "layers/sigmoid_cross_entropy_loss.hpp"

#include <cmath>

#include "layer_registry.hpp"
#include "math_functions.hpp"

namespace moka {

template <typename Dtype>
void SigmoidCrossEntropyLossLayer<Dtype>::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  LossLayer<Dtype>::LayerSetUp(bottom, top);
  const LossParameter& loss_param = this->layer_param_.loss_param();
  has_ignore_label_ = loss_param.has_ignore_label();
  ignore_label_ = loss_param.ignore_label();
  // Unlike SoftmaxWithLoss, Caffe keeps this layer's historic division by the batch size when
  // the definition names no normalization.
  normalization_ = ResolveNormalization(loss_param, LossParameter::BATCH_SIZE);
}

template <typename Dtype>
void SigmoidCrossEntropyLossLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  LossLayer<Dtype>::Reshape(bottom, top);
  MOKA_CHECK(bottom[0]->count() == bottom[1]->count(), ShapeError,
             "inputs must have the same count, got shapes " << bottom[0]->shape_string() << " and "
                                                            << bottom[1]->shape_string());
  outer_num_ = bottom[0]->shape(0);
  inner_num_ = bottom[0]->count(1);
}

template <typename Dtype>
void SigmoidCrossEntropyLossLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  const Dtype* x = bottom[0]->cpu_data();
  const Dtype* t = bottom[1]->cpu_data();
  const int count = bottom[0]->count();
  Dtype loss = 0;
  int valid_count = 0;
  for (int i = 0; i < count; ++i) {
    if (Ignored(t[i])) continue;
    const Dtype positive = x[i] >= 0 ? Dtype(1) : Dtype(0);
    const Dtype linear = x[i] * (t[i] - positive);
    // exp of -|x| is at most 1, so the log term cannot overflow; it is formed in double as
    // Caffe's expression is.
    const double softplus = std::log(1.0 + std::exp(static_cast<double>(x[i] - 2 * x[i] * positive)));
    loss = static_cast<Dtype>(loss - (linear - softplus));
    ++valid_count;
  }
  normalizer_ = LossNormalizer<Dtype>(normalization_, outer_num_, inner_num_, valid_count);
  top[0]->mutable_cpu_data()[0] = loss / normalizer_;
}

template <typename Dtype>
void SigmoidCrossEntropyLossLayer<Dtype>::Backward_cpu(const BlobVec& top,
                                                       const std::vector<bool>& propagate_down,
                                                       const BlobVec& bottom) {
  MOKA_CHECK(!propagate_down[1], ConfigError, "cannot backpropagate to the targets (bottom 1)");
  if (!propagate_down[0]) return;
  const Dtype* x = bottom[0]->cpu_data();
  const Dtype* t = bottom[1]->cpu_data();
  Dtype* dx = bottom[0]->mutable_cpu_diff();
  const int count = bottom[0]->count();
  const Dtype scale = top[0]->cpu_diff()[0] / normalizer_;
  for (int i = 0; i < count; ++i) {
    if (Ignored(t[i])) {
      dx[i] = 0;
      continue;
    }
    // Caffe takes the sigmoid from its Sigmoid layer, which uses this tanh form.
    const Dtype s = static_cast<Dtype>(0.5 * std::tanh(0.5 * x[i]) + 0.5);
    dx[i] = (s - t[i]) * scale;
  }
}

MOKA_INSTANTIATE_CLASS(SigmoidCrossEntropyLossLayer);
MOKA_REGISTER_LAYER(SigmoidCrossEntropyLoss);

}  // namespace moka
