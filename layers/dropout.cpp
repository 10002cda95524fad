#include "layers/dropout.hpp"

#include "layer_registry.hpp"
#include "math_functions.hpp"

namespace moka {

template <typename Dtype>
void DropoutLayer<Dtype>::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  const float ratio = this->layer_param_.dropout_param().dropout_ratio();
  MOKA_CHECK(ratio >= 0 && ratio < 1, ConfigError,
             "dropout_ratio must lie in [0, 1), got " << ratio);
  ratio_ = ratio;
  // Formed in double as Caffe does, so float scales agree to the last bit.
  scale_ = static_cast<Dtype>(1.0 / (1.0 - static_cast<double>(ratio_)));
}

template <typename Dtype>
void DropoutLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  NeuronLayer<Dtype>::Reshape(bottom, top);
  mask_.resize(bottom[0]->count());
}

template <typename Dtype>
void DropoutLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  const Dtype* x = bottom[0]->cpu_data();
  Dtype* y = top[0]->mutable_cpu_data();
  const int n = bottom[0]->count();
  if (this->phase() != TRAIN) {
    cpu_copy(n, x, y);
    return;
  }
  rng_bernoulli(n, static_cast<Dtype>(1.0 - static_cast<double>(ratio_)), this->context().rng(), mask_.data());
  for (int i = 0; i < n; ++i) y[i] = x[i] * static_cast<Dtype>(mask_[i]) * scale_;
}

template <typename Dtype>
void DropoutLayer<Dtype>::Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                       const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const Dtype* dy = top[0]->cpu_diff();
  Dtype* dx = bottom[0]->mutable_cpu_diff();
  const int n = bottom[0]->count();
  if (this->phase() != TRAIN) {
    cpu_copy(n, dy, dx);
    return;
  }
  for (int i = 0; i < n; ++i) dx[i] = dy[i] * static_cast<Dtype>(mask_[i]) * scale_;
}

MOKA_INSTANTIATE_CLASS(DropoutLayer);
MOKA_REGISTER_LAYER(Dropout);

}  // namespace moka
