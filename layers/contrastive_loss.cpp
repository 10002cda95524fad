#include "layers/contrastive_loss.hpp"

#include <algorithm>
#include <cmath>

#include "layer_registry.hpp"
#include "math_functions.hpp"

namespace moka {

template <typename Dtype>
void ContrastiveLossLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  LossLayer<Dtype>::Reshape(bottom, top);
  const int num = bottom[0]->shape(0);
  channels_ = num == 0 ? 0 : bottom[0]->count() / num;
  MOKA_CHECK(bottom[1]->count() == bottom[0]->count(), ShapeError,
             "the two feature bottoms must match, got shapes "
                 << bottom[0]->shape_string() << " and " << bottom[1]->shape_string());
  MOKA_CHECK(bottom[2]->count() == num, ShapeError,
             "needs one similarity label per pair: " << num << " pairs, label shape "
                                                     << bottom[2]->shape_string());
  diff_.ReshapeLike(*bottom[0]);
  dist_sq_.Reshape({num});
}

template <typename Dtype>
void ContrastiveLossLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  const ContrastiveLossParameter& param = this->layer_param_.contrastive_loss_param();
  const Dtype margin = param.margin();
  const int num = bottom[0]->shape(0);
  cpu_sub(bottom[0]->count(), bottom[0]->cpu_data(), bottom[1]->cpu_data(),
          diff_.mutable_cpu_data());
  const Dtype* diff = diff_.cpu_data();
  const Dtype* similar = bottom[2]->cpu_data();
  Dtype* dist_sq = dist_sq_.mutable_cpu_data();
  Dtype loss = 0;
  for (int n = 0; n < num; ++n) {
    const Dtype* d = diff + static_cast<size_t>(n) * channels_;
    dist_sq[n] = cpu_dot(channels_, d, d);
    if (static_cast<int>(similar[n]) != 0) {
      loss += dist_sq[n];
    } else if (param.legacy_version()) {
      loss += std::max(margin - dist_sq[n], Dtype(0));
    } else {
      const Dtype gap = std::max(margin - std::sqrt(dist_sq[n]), Dtype(0));
      loss += gap * gap;
    }
  }
  top[0]->mutable_cpu_data()[0] = loss / static_cast<Dtype>(num) / Dtype(2);
}

template <typename Dtype>
void ContrastiveLossLayer<Dtype>::Backward_cpu(const BlobVec& top,
                                               const std::vector<bool>& propagate_down,
                                               const BlobVec& bottom) {
  MOKA_CHECK(!propagate_down[2], ConfigError,
             "cannot backpropagate to the similarity labels (bottom 2)");
  const ContrastiveLossParameter& param = this->layer_param_.contrastive_loss_param();
  const Dtype margin = param.margin();
  const int num = bottom[0]->shape(0);
  const Dtype* diff = diff_.cpu_data();
  const Dtype* dist_sq = dist_sq_.cpu_data();
  const Dtype* similar = bottom[2]->cpu_data();
  for (int i = 0; i < 2; ++i) {
    if (!propagate_down[i]) continue;
    const Dtype sign = i == 0 ? Dtype(1) : Dtype(-1);
    const Dtype alpha = sign * top[0]->cpu_diff()[0] / static_cast<Dtype>(num);
    Dtype* dx = bottom[i]->mutable_cpu_diff();
    for (int n = 0; n < num; ++n) {
      const size_t offset = static_cast<size_t>(n) * channels_;
      if (static_cast<int>(similar[n]) != 0) {
        cpu_scale(channels_, alpha, diff + offset, dx + offset);
        continue;
      }
      Dtype gap = 0;
      Dtype beta = 0;
      if (param.legacy_version()) {
        gap = margin - dist_sq[n];
        beta = -alpha;
      } else {
        const Dtype dist = std::sqrt(dist_sq[n]);
        gap = margin - dist;
        // The 1e-4 keeps coincident pairs finite, as in Caffe.
        beta = -alpha * gap / (dist + Dtype(1e-4));
      }
      if (gap > Dtype(0)) {
        cpu_scale(channels_, beta, diff + offset, dx + offset);
      } else {
        cpu_set(channels_, Dtype(0), dx + offset);
      }
    }
  }
}

MOKA_INSTANTIATE_CLASS(ContrastiveLossLayer);
MOKA_REGISTER_LAYER(ContrastiveLoss);

}  // namespace moka
