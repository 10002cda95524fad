#include "layers/relu.hpp"

#include <algorithm>

#include "layer_registry.hpp"

namespace moka {

template <typename Dtype>
void ReLULayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  const Dtype slope = this->layer_param_.relu_param().negative_slope();
  const Dtype* x = bottom[0]->cpu_data();
  Dtype* y = top[0]->mutable_cpu_data();
  const int n = bottom[0]->count();
  for (int i = 0; i < n; ++i) y[i] = std::max(x[i], Dtype(0)) + slope * std::min(x[i], Dtype(0));
}

template <typename Dtype>
void ReLULayer<Dtype>::Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                    const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const Dtype slope = this->layer_param_.relu_param().negative_slope();
  // In place, bottom data holds the output, which is positive exactly where the input was (for
  // slope >= 0), so the branch below stays right.
  const Dtype* x = bottom[0]->cpu_data();
  const Dtype* dy = top[0]->cpu_diff();
  Dtype* dx = bottom[0]->mutable_cpu_diff();
  const int n = bottom[0]->count();
  for (int i = 0; i < n; ++i) dx[i] = dy[i] * (x[i] > 0 ? Dtype(1) : slope);
}

MOKA_INSTANTIATE_CLASS(ReLULayer);
MOKA_REGISTER_LAYER(ReLU);

}  // namespace moka
