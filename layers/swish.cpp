#include "layers/swish.hpp"

#include <cmath>

#include "layer_registry.hpp"

namespace moka {

template <typename Dtype>
void SwishLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  NeuronLayer<Dtype>::Reshape(bottom, top);
  sigmoid_.ReshapeLike(*bottom[0]);
}

template <typename Dtype>
void SwishLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  const Dtype beta = this->layer_param_.swish_param().beta();
  const Dtype* x = bottom[0]->cpu_data();
  Dtype* s = sigmoid_.mutable_cpu_data();
  Dtype* y = top[0]->mutable_cpu_data();
  const int n = bottom[0]->count();
  for (int i = 0; i < n; ++i) {
    // The sigmoid takes Caffe's tanh form, evaluated in double as Caffe's expression is.
    const Dtype z = beta * x[i];
    s[i] = static_cast<Dtype>(0.5 * std::tanh(0.5 * z) + 0.5);
    y[i] = x[i] * s[i];
  }
}

template <typename Dtype>
void SwishLayer<Dtype>::Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                     const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const Dtype beta = this->layer_param_.swish_param().beta();
  const Dtype* y = top[0]->cpu_data();
  const Dtype* s = sigmoid_.cpu_data();
  const Dtype* dy = top[0]->cpu_diff();
  Dtype* dx = bottom[0]->mutable_cpu_diff();
  const int n = bottom[0]->count();
  for (int i = 0; i < n; ++i) {
    // The bracket is evaluated in double, as Caffe's expression is.
    const Dtype by = beta * y[i];
    dx[i] = static_cast<Dtype>(dy[i] * (by + s[i] * (1.0 - by)));
  }
}

MOKA_INSTANTIATE_CLASS(SwishLayer);
MOKA_REGISTER_LAYER(Swish);

}  // namespace moka
