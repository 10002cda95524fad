#include "layers/scale.hpp"

#include "filler.hpp"
#include "layer_registry.hpp"
#include "layers/bias.hpp"
#include "math_functions.hpp"

namespace moka {

template <typename Dtype>
void ScaleLayer<Dtype>::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  const ScaleParameter& param = this->layer_param_.scale_param();
  const size_t expected_blobs = (bottom.size() == 1 ? 1 : 0) + (param.bias_term() ? 1 : 0);
  if (!this->blobs_.empty()) {
    MOKA_CHECK(this->blobs_.size() == expected_blobs, ConfigError,
               "has " << this->blobs_.size() << " parameter blob(s), expected " << expected_blobs
                      << " for " << bottom.size() << " bottom(s) and bias_term "
                      << (param.bias_term() ? "true" : "false"));
  } else {
    if (bottom.size() == 1) {
      const int axis = bottom[0]->CanonicalAxisIndex(param.axis());
      this->blobs_.push_back(std::make_shared<Blob<Dtype>>(
          BroadcastParamShape(bottom[0]->shape(), axis, param.num_axes())));
      FillerParameter filler = param.filler();
      if (!param.has_filler()) {
        // Starts as the identity.
        filler.set_type("constant");
        filler.set_value(1);
      }
      Fill(filler, this->context().rng(), this->blobs_[0].get());
    }
    if (param.bias_term()) {
      // The bias spans the same axes as the scale (a second bottom's axes when given).
      std::vector<int> shape;
      if (bottom.size() > 1) {
        shape = bottom[1]->shape();
      } else {
        shape = this->blobs_[0]->shape();
      }
      this->blobs_.push_back(std::make_shared<Blob<Dtype>>(shape));
      Fill(param.bias_filler(), this->context().rng(), this->blobs_.back().get());
    }
  }
  bias_param_id_ = param.bias_term() ? static_cast<int>(this->blobs_.size()) - 1 : -1;
  this->param_propagate_down_.assign(this->blobs_.size(), true);
}

template <typename Dtype>
void ScaleLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  const Blob<Dtype>& scale = ScaleBlob(bottom);
  // A scalar scale broadcasts everywhere, whatever the axis says.
  const int axis = scale.num_axes() == 0
                       ? 0
                       : bottom[0]->CanonicalAxisIndex(this->layer_param_.scale_param().axis());
  bool matches = bottom[0]->num_axes() >= axis + scale.num_axes();
  for (int i = 0; matches && i < scale.num_axes(); ++i) {
    matches = bottom[0]->shape(axis + i) == scale.shape(i);
  }
  MOKA_CHECK(matches, ShapeError,
             "scale shape " << scale.shape_string() << " does not match bottom shape "
                            << bottom[0]->shape_string() << " from axis " << axis);
  outer_dim_ = bottom[0]->count(0, axis);
  scale_dim_ = scale.count();
  inner_dim_ = bottom[0]->count(axis + scale.num_axes());
  if (bias_param_id_ >= 0) {
    MOKA_CHECK(this->blobs_[bias_param_id_]->count() == scale_dim_, ShapeError,
               "bias shape " << this->blobs_[bias_param_id_]->shape_string()
                             << " does not match scale shape " << scale.shape_string());
  }
  if (top[0] == bottom[0]) {
    temp_.ReshapeLike(*bottom[0]);
  } else {
    top[0]->ReshapeLike(*bottom[0]);
  }
  if (bias_multiplier_.count() != inner_dim_) {
    bias_multiplier_.Reshape({inner_dim_});
    bias_multiplier_.set_data(1);
  }
}

template <typename Dtype>
void ScaleLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  const int count = bottom[0]->count();
  if (top[0] == bottom[0]) cpu_copy(count, bottom[0]->cpu_data(), temp_.mutable_cpu_data());
  const Dtype* s = ScaleBlob(bottom).cpu_data();
  const Dtype* x = bottom[0]->cpu_data();
  Dtype* y = top[0]->mutable_cpu_data();
  for (int o = 0; o < outer_dim_; ++o) {
    for (int d = 0; d < scale_dim_; ++d) {
      cpu_scale(inner_dim_, s[d], x, y);
      x += inner_dim_;
      y += inner_dim_;
    }
  }
  if (bias_param_id_ < 0) return;
  // Added as a second pass so the rounding matches Caffe's separate Bias step.
  const Dtype* b = this->blobs_[bias_param_id_]->cpu_data();
  y = top[0]->mutable_cpu_data();
  for (int o = 0; o < outer_dim_; ++o) {
    for (int d = 0; d < scale_dim_; ++d) {
      cpu_add_scalar(inner_dim_, b[d], y);
      y += inner_dim_;
    }
  }
}

template <typename Dtype>
void ScaleLayer<Dtype>::Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                     const BlobVec& bottom) {
  const Dtype* dy = top[0]->cpu_diff();
  const size_t block = static_cast<size_t>(scale_dim_) * inner_dim_;
  if (bias_param_id_ >= 0 && this->param_propagate_down(bias_param_id_)) {
    Dtype* db = this->blobs_[bias_param_id_]->mutable_cpu_diff();
    for (int o = 0; o < outer_dim_; ++o) {
      cpu_gemv(Trans::kNo, scale_dim_, inner_dim_, Dtype(1), dy + o * block,
               bias_multiplier_.cpu_data(), Dtype(1), db);
    }
  }
  const bool learned = bottom.size() == 1;
  Blob<Dtype>& scale = ScaleBlob(bottom);
  if (learned ? this->param_propagate_down(0) : propagate_down[1]) {
    // ds[d] = sum over o, i of dy * x. A learned scale accumulates its gradient; a bottom's diff
    // is overwritten.
    const Dtype* x = (top[0] == bottom[0] ? temp_ : *bottom[0]).cpu_data();
    Dtype* ds = scale.mutable_cpu_diff();
    if (!learned) cpu_set(scale_dim_, Dtype(0), ds);
    for (int o = 0; o < outer_dim_; ++o) {
      for (int d = 0; d < scale_dim_; ++d) {
        const size_t offset = o * block + static_cast<size_t>(d) * inner_dim_;
        ds[d] += cpu_dot(inner_dim_, dy + offset, x + offset);
      }
    }
  }
  if (propagate_down[0]) {
    const Dtype* s = scale.cpu_data();
    Dtype* dx = bottom[0]->mutable_cpu_diff();
    for (int o = 0; o < outer_dim_; ++o) {
      for (int d = 0; d < scale_dim_; ++d) {
        cpu_scale(inner_dim_, s[d], dy, dx);
        dy += inner_dim_;
        dx += inner_dim_;
      }
    }
  }
}

MOKA_INSTANTIATE_CLASS(ScaleLayer);
MOKA_REGISTER_LAYER(Scale);

}  // namespace moka
