#include "layers/softmax.hpp"

#include <algorithm>
#include <cmath>

#include "layer_registry.hpp"
#include "math_functions.hpp"

namespace moka {

template <typename Dtype>
void SoftmaxLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  axis_ = bottom[0]->CanonicalAxisIndex(this->layer_param_.softmax_param().axis());
  if (top[0] != bottom[0]) top[0]->ReshapeLike(*bottom[0]);
  outer_num_ = bottom[0]->count(0, axis_);
  channels_ = bottom[0]->shape(axis_);
  inner_num_ = bottom[0]->count(axis_ + 1);
  scratch_.resize(inner_num_);
}

// Loops run over the channel axis outermost and the contiguous inner positions innermost, so
// every pass streams through memory.
template <typename Dtype>
void SoftmaxLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  const Dtype* x = bottom[0]->cpu_data();
  Dtype* y = top[0]->mutable_cpu_data();
  Dtype* scratch = scratch_.data();
  const int dim = channels_ * inner_num_;
  for (int i = 0; i < outer_num_; ++i) {
    const Dtype* xi = x + i * dim;
    Dtype* yi = y + i * dim;
    std::copy(xi, xi + inner_num_, scratch);
    for (int c = 1; c < channels_; ++c) {
      const Dtype* xc = xi + c * inner_num_;
      for (int k = 0; k < inner_num_; ++k) scratch[k] = std::max(scratch[k], xc[k]);
    }
    for (int c = 0; c < channels_; ++c) {
      const Dtype* xc = xi + c * inner_num_;
      Dtype* yc = yi + c * inner_num_;
      for (int k = 0; k < inner_num_; ++k) yc[k] = std::exp(xc[k] - scratch[k]);
    }
    std::fill(scratch, scratch + inner_num_, Dtype(0));
    for (int c = 0; c < channels_; ++c) {
      const Dtype* yc = yi + c * inner_num_;
      for (int k = 0; k < inner_num_; ++k) scratch[k] += yc[k];
    }
    for (int c = 0; c < channels_; ++c) {
      Dtype* yc = yi + c * inner_num_;
      for (int k = 0; k < inner_num_; ++k) yc[k] /= scratch[k];
    }
  }
}

template <typename Dtype>
void SoftmaxLayer<Dtype>::Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                       const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const Dtype* y = top[0]->cpu_data();
  const Dtype* dy = top[0]->cpu_diff();
  Dtype* dx = bottom[0]->mutable_cpu_diff();
  Dtype* scratch = scratch_.data();
  const int dim = channels_ * inner_num_;
  for (int i = 0; i < outer_num_; ++i) {
    const Dtype* yi = y + i * dim;
    const Dtype* dyi = dy + i * dim;
    Dtype* dxi = dx + i * dim;
    std::fill(scratch, scratch + inner_num_, Dtype(0));
    for (int c = 0; c < channels_; ++c) {
      const Dtype* yc = yi + c * inner_num_;
      const Dtype* dyc = dyi + c * inner_num_;
      for (int k = 0; k < inner_num_; ++k) scratch[k] += dyc[k] * yc[k];
    }
    // Element-wise, so it is safe when dx and dy are the same memory (in place).
    for (int c = 0; c < channels_; ++c) {
      const Dtype* yc = yi + c * inner_num_;
      const Dtype* dyc = dyi + c * inner_num_;
      Dtype* dxc = dxi + c * inner_num_;
      for (int k = 0; k < inner_num_; ++k) dxc[k] = (dyc[k] - scratch[k]) * yc[k];
    }
  }
}

MOKA_INSTANTIATE_CLASS(SoftmaxLayer);
MOKA_REGISTER_LAYER(Softmax);

}  // namespace moka
