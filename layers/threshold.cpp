#include "layers/threshold.hpp"

#include "layer_registry.hpp"

namespace moka {

template <typename Dtype>
void ThresholdLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  const Dtype threshold = this->layer_param_.threshold_param().threshold();
  const Dtype* x = bottom[0]->cpu_data();
  Dtype* y = top[0]->mutable_cpu_data();
  const int n = bottom[0]->count();
  for (int i = 0; i < n; ++i) y[i] = x[i] > threshold ? Dtype(1) : Dtype(0);
}

template <typename Dtype>
void ThresholdLayer<Dtype>::Backward_cpu(const BlobVec& top,
                                         const std::vector<bool>& propagate_down,
                                         const BlobVec& bottom) {
  MOKA_CHECK(!propagate_down[0], ConfigError,
             "has no backward pass (a step function has no useful gradient); set "
             "propagate_down: false on its bottom");
}

MOKA_INSTANTIATE_CLASS(ThresholdLayer);
MOKA_REGISTER_LAYER(Threshold);

}  // namespace moka
