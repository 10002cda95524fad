#include "layers/sigmoid.hpp"

#include <cmath>

#include "layer_registry.hpp"

namespace moka {

template <typename Dtype>
void SigmoidLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  const Dtype* x = bottom[0]->cpu_data();
  Dtype* y = top[0]->mutable_cpu_data();
  const int n = bottom[0]->count();
  // Evaluated in double, as Caffe's expression is, so float results round the same way.
  for (int i = 0; i < n; ++i) y[i] = static_cast<Dtype>(0.5 * std::tanh(0.5 * x[i]) + 0.5);
}

template <typename Dtype>
void SigmoidLayer<Dtype>::Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                       const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const Dtype* y = top[0]->cpu_data();
  const Dtype* dy = top[0]->cpu_diff();
  Dtype* dx = bottom[0]->mutable_cpu_diff();
  const int n = bottom[0]->count();
  // Caffe forms (1 - y) in double; doing the same keeps float gradients bit-identical.
  for (int i = 0; i < n; ++i) dx[i] = static_cast<Dtype>(dy[i] * y[i] * (1.0 - y[i]));
}

MOKA_INSTANTIATE_CLASS(SigmoidLayer);
MOKA_REGISTER_LAYER(Sigmoid);

}  // namespace moka
