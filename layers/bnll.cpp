#include "layers/bnll.hpp"

#include <algorithm>
#include <cmath>

#include "layer_registry.hpp"

namespace moka {

namespace {
// exp() above this overflows float; sigmoid is 1 to working precision there anyway.
constexpr double kBnllThreshold = 50.0;
}  // namespace

template <typename Dtype>
void BNLLLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  const Dtype* x = bottom[0]->cpu_data();
  Dtype* y = top[0]->mutable_cpu_data();
  const int n = bottom[0]->count();
  for (int i = 0; i < n; ++i) {
    // Evaluated in double, as Caffe's expression is, so float results round the same way.
    y[i] = static_cast<Dtype>(x[i] > 0 ? x[i] + std::log(1.0 + std::exp(-x[i]))
                                       : std::log(1.0 + std::exp(x[i])));
  }
}

template <typename Dtype>
void BNLLLayer<Dtype>::Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                    const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const Dtype* x = bottom[0]->cpu_data();
  const Dtype* dy = top[0]->cpu_diff();
  Dtype* dx = bottom[0]->mutable_cpu_diff();
  const int n = bottom[0]->count();
  for (int i = 0; i < n; ++i) {
    const Dtype e = std::exp(std::min(x[i], Dtype(kBnllThreshold)));
    dx[i] = static_cast<Dtype>(dy[i] * e / (e + 1.0));
  }
}

MOKA_INSTANTIATE_CLASS(BNLLLayer);
MOKA_REGISTER_LAYER(BNLL);

}  // namespace moka
