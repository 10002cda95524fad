#include "layers/multinomial_logistic_loss.hpp"

#include <algorithm>
#include <cmath>

#include "layer_registry.hpp"
#include "math_functions.hpp"

namespace moka {

template <typename Dtype>
void MultinomialLogisticLossLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  LossLayer<Dtype>::Reshape(bottom, top);
  MOKA_CHECK(bottom[1]->count() == bottom[0]->shape(0), ShapeError,
             "needs one label per sample: predictions " << bottom[0]->shape_string() << ", labels "
                                                        << bottom[1]->shape_string());
}

template <typename Dtype>
int MultinomialLogisticLossLayer<Dtype>::LabelAt(const Dtype* labels, int n, int dim) const {
  const int label = static_cast<int>(labels[n]);
  MOKA_CHECK(label >= 0 && label < dim, ShapeError,
             "label " << labels[n] << " of sample " << n << " is outside [0, " << dim << ")");
  return label;
}

template <typename Dtype>
void MultinomialLogisticLossLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  const int num = bottom[0]->shape(0);
  const int dim = bottom[0]->count() / num;
  const Dtype* p = bottom[0]->cpu_data();
  const Dtype* labels = bottom[1]->cpu_data();
  Dtype loss = 0;
  for (int n = 0; n < num; ++n) {
    const Dtype prob = std::max(p[n * dim + LabelAt(labels, n, dim)], Dtype(kLogThreshold));
    loss -= std::log(prob);
  }
  top[0]->mutable_cpu_data()[0] = loss / num;
}

template <typename Dtype>
void MultinomialLogisticLossLayer<Dtype>::Backward_cpu(const BlobVec& top,
                                                       const std::vector<bool>& propagate_down,
                                                       const BlobVec& bottom) {
  MOKA_CHECK(!propagate_down[1], ConfigError, "cannot backpropagate to the labels (bottom 1)");
  if (!propagate_down[0]) return;
  const int num = bottom[0]->shape(0);
  const int dim = bottom[0]->count() / num;
  const Dtype* p = bottom[0]->cpu_data();
  const Dtype* labels = bottom[1]->cpu_data();
  Dtype* dx = bottom[0]->mutable_cpu_diff();
  cpu_set(bottom[0]->count(), Dtype(0), dx);
  const Dtype scale = -top[0]->cpu_diff()[0] / num;
  for (int n = 0; n < num; ++n) {
    const int index = n * dim + LabelAt(labels, n, dim);
    dx[index] = scale / std::max(p[index], Dtype(kLogThreshold));
  }
}

MOKA_INSTANTIATE_CLASS(MultinomialLogisticLossLayer);
MOKA_REGISTER_LAYER(MultinomialLogisticLoss);

}  // namespace moka
