#include "layers/absval.hpp"

#include <cmath>

#include "layer_registry.hpp"
#include "math_functions.hpp"

namespace moka {

template <typename Dtype>
void AbsValLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  MOKA_CHECK(top[0] != bottom[0], ConfigError,
             "cannot run in place: its backward pass needs the input's sign");
  NeuronLayer<Dtype>::Reshape(bottom, top);
}

template <typename Dtype>
void AbsValLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  cpu_abs(bottom[0]->count(), bottom[0]->cpu_data(), top[0]->mutable_cpu_data());
}

template <typename Dtype>
void AbsValLayer<Dtype>::Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                      const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const Dtype* x = bottom[0]->cpu_data();
  const Dtype* dy = top[0]->cpu_diff();
  Dtype* dx = bottom[0]->mutable_cpu_diff();
  const int n = bottom[0]->count();
  for (int i = 0; i < n; ++i) {
    const Dtype sign = Dtype(x[i] > 0) - Dtype(x[i] < 0);
    dx[i] = sign * dy[i];
  }
}

MOKA_INSTANTIATE_CLASS(AbsValLayer);
MOKA_REGISTER_LAYER(AbsVal);

}  // namespace moka
