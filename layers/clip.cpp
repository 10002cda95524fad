#include "layers/clip.hpp"

#include <algorithm>

#include "layer_registry.hpp"

namespace moka {

template <typename Dtype>
void ClipLayer<Dtype>::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  const ClipParameter& param = this->layer_param_.clip_param();
  MOKA_CHECK(param.has_min() && param.has_max(), ConfigError, "clip_param needs both min and max");
  MOKA_CHECK(param.min() <= param.max(), ConfigError,
             "clip_param min " << param.min() << " exceeds max " << param.max());
}

template <typename Dtype>
void ClipLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  const Dtype lo = this->layer_param_.clip_param().min();
  const Dtype hi = this->layer_param_.clip_param().max();
  const Dtype* x = bottom[0]->cpu_data();
  Dtype* y = top[0]->mutable_cpu_data();
  const int n = bottom[0]->count();
  for (int i = 0; i < n; ++i) y[i] = std::max(lo, std::min(x[i], hi));
}

template <typename Dtype>
void ClipLayer<Dtype>::Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                    const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const Dtype lo = this->layer_param_.clip_param().min();
  const Dtype hi = this->layer_param_.clip_param().max();
  const Dtype* x = bottom[0]->cpu_data();
  const Dtype* dy = top[0]->cpu_diff();
  Dtype* dx = bottom[0]->mutable_cpu_diff();
  const int n = bottom[0]->count();
  for (int i = 0; i < n; ++i) dx[i] = (x[i] >= lo && x[i] <= hi) ? dy[i] : Dtype(0);
}

MOKA_INSTANTIATE_CLASS(ClipLayer);
MOKA_REGISTER_LAYER(Clip);

}  // namespace moka
