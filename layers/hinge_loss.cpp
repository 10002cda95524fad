#include "layers/hinge_loss.hpp"

#include <algorithm>

#include "layer_registry.hpp"
#include "math_functions.hpp"

namespace moka {

template <typename Dtype>
void HingeLossLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  LossLayer<Dtype>::Reshape(bottom, top);
  MOKA_CHECK(bottom[1]->count() == bottom[0]->shape(0), ShapeError,
             "needs one label per sample: predictions " << bottom[0]->shape_string() << ", labels "
                                                        << bottom[1]->shape_string());
  margins_.ReshapeLike(*bottom[0]);
}

template <typename Dtype>
int HingeLossLayer<Dtype>::LabelAt(const Dtype* labels, int n, int dim) const {
  const int label = static_cast<int>(labels[n]);
  MOKA_CHECK(label >= 0 && label < dim, ShapeError,
             "label " << labels[n] << " of sample " << n << " is outside [0, " << dim << ")");
  return label;
}

template <typename Dtype>
void HingeLossLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  const int num = bottom[0]->shape(0);
  const int count = bottom[0]->count();
  const int dim = count / num;
  const Dtype* labels = bottom[1]->cpu_data();
  Dtype* t = margins_.mutable_cpu_data();
  cpu_copy(count, bottom[0]->cpu_data(), t);
  for (int n = 0; n < num; ++n) t[n * dim + LabelAt(labels, n, dim)] *= -1;
  for (int i = 0; i < count; ++i) t[i] = std::max(Dtype(0), Dtype(1) + t[i]);
  Dtype* loss = top[0]->mutable_cpu_data();
  switch (this->layer_param_.hinge_loss_param().norm()) {
    case HingeLossParameter::L1:
      loss[0] = cpu_asum(count, t) / num;
      break;
    case HingeLossParameter::L2:
      loss[0] = cpu_dot(count, t, t) / num;
      break;
    default:
      MOKA_THROW(ConfigError, "unknown hinge_loss_param norm " << static_cast<int>(
                                  this->layer_param_.hinge_loss_param().norm()));
  }
}

template <typename Dtype>
void HingeLossLayer<Dtype>::Backward_cpu(const BlobVec& top,
                                         const std::vector<bool>& propagate_down,
                                         const BlobVec& bottom) {
  MOKA_CHECK(!propagate_down[1], ConfigError, "cannot backpropagate to the labels (bottom 1)");
  if (!propagate_down[0]) return;
  const int num = bottom[0]->shape(0);
  const int count = bottom[0]->count();
  const int dim = count / num;
  const Dtype* labels = bottom[1]->cpu_data();
  Dtype* dx = bottom[0]->mutable_cpu_diff();
  cpu_copy(count, margins_.cpu_data(), dx);
  // The label's score enters the margin negated.
  for (int n = 0; n < num; ++n) dx[n * dim + LabelAt(labels, n, dim)] *= -1;
  const Dtype loss_weight = top[0]->cpu_diff()[0];
  if (this->layer_param_.hinge_loss_param().norm() == HingeLossParameter::L1) {
    cpu_sign(count, dx, dx);
    cpu_scal(count, loss_weight / num, dx);
  } else {
    cpu_scal(count, loss_weight * 2 / num, dx);
  }
}

MOKA_INSTANTIATE_CLASS(HingeLossLayer);
MOKA_REGISTER_LAYER(HingeLoss);

}  // namespace moka
