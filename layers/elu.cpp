#include "layers/elu.hpp"

#include <cmath>

#include "layer_registry.hpp"

namespace moka {

template <typename Dtype>
void ELULayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  const Dtype alpha = this->layer_param_.elu_param().alpha();
  const Dtype* x = bottom[0]->cpu_data();
  Dtype* y = top[0]->mutable_cpu_data();
  const int n = bottom[0]->count();
  for (int i = 0; i < n; ++i) y[i] = x[i] > 0 ? x[i] : alpha * (std::exp(x[i]) - Dtype(1));
}

template <typename Dtype>
void ELULayer<Dtype>::Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                   const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const Dtype alpha = this->layer_param_.elu_param().alpha();
  // The negative branch's derivative alpha * exp(x) equals y + alpha, which stays available
  // when the layer runs in place (the sign test then reads y, positive exactly where x was).
  const Dtype* x = bottom[0]->cpu_data();
  const Dtype* y = top[0]->cpu_data();
  const Dtype* dy = top[0]->cpu_diff();
  Dtype* dx = bottom[0]->mutable_cpu_diff();
  const int n = bottom[0]->count();
  for (int i = 0; i < n; ++i) dx[i] = dy[i] * (x[i] > 0 ? Dtype(1) : y[i] + alpha);
}

MOKA_INSTANTIATE_CLASS(ELULayer);
MOKA_REGISTER_LAYER(ELU);

}  // namespace moka
