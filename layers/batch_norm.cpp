#include "layers/batch_norm.hpp"

#include <algorithm>

#include "cpu_parallel.hpp"
#include "layer_registry.hpp"
#include "math_functions.hpp"

namespace moka {
namespace {

/// Rows [begin, end) of (n, c) rows: y = (x - mean[c]) / deviation[c]. x may be y.
template <typename Dtype>
MOKA_ALWAYS_INLINE void NormalizeBody(int begin, int end, int channels, int spatial,
                                      const Dtype* mean, const Dtype* deviation, const Dtype* x,
                                      Dtype* y) {
  for (int row = begin; row < end; ++row) {
    const int c = row % channels;
    const Dtype m = mean[c];
    const Dtype d = deviation[c];
    const Dtype* in = x + size_t(row) * spatial;
    Dtype* out = y + size_t(row) * spatial;
    if (in == out) {
      for (int i = 0; i < spatial; ++i) out[i] = (out[i] - m) / d;
    } else {
      const Dtype* __restrict from = in;
      Dtype* __restrict to = out;
      for (int i = 0; i < spatial; ++i) to[i] = (from[i] - m) / d;
    }
  }
}
MOKA_VECTOR_CLONES void NormalizeRows(int begin, int end, int channels, int spatial,
                                      const float* mean, const float* deviation, const float* x,
                                      float* y) {
  NormalizeBody(begin, end, channels, spatial, mean, deviation, x, y);
}
MOKA_VECTOR_CLONES void NormalizeRows(int begin, int end, int channels, int spatial,
                                      const double* mean, const double* deviation, const double* x,
                                      double* y) {
  NormalizeBody(begin, end, channels, spatial, mean, deviation, x, y);
}

/// Rows [begin, end): dx = dy / deviation[c]. dy may be dx.
template <typename Dtype>
MOKA_ALWAYS_INLINE void DivideBody(int begin, int end, int channels, int spatial,
                                   const Dtype* deviation, const Dtype* dy, Dtype* dx) {
  for (int row = begin; row < end; ++row) {
    const Dtype d = deviation[row % channels];
    const Dtype* in = dy + size_t(row) * spatial;
    Dtype* out = dx + size_t(row) * spatial;
    if (in == out) {
      for (int i = 0; i < spatial; ++i) out[i] = out[i] / d;
    } else {
      const Dtype* __restrict from = in;
      Dtype* __restrict to = out;
      for (int i = 0; i < spatial; ++i) to[i] = from[i] / d;
    }
  }
}
MOKA_VECTOR_CLONES void DivideRows(int begin, int end, int channels, int spatial,
                                   const float* deviation, const float* dy, float* dx) {
  DivideBody(begin, end, channels, spatial, deviation, dy, dx);
}
MOKA_VECTOR_CLONES void DivideRows(int begin, int end, int channels, int spatial,
                                   const double* deviation, const double* dy, double* dx) {
  DivideBody(begin, end, channels, spatial, deviation, dy, dx);
}

}  // namespace

template <typename Dtype>
BatchNormLayer<Dtype>::BatchNormLayer(const LayerParameter& param) : Layer<Dtype>(param) {
  // The statistics must never move with the solver. The net reads each layer's own ParamSpecs,
  // so pinning lr_mult to 0 here keeps them out of backward and out of every update; a
  // definition that asks to learn them is an error, as in Caffe.
  for (int i = 0; i < 3; ++i) {
    if (i < this->layer_param_.param_size()) {
      MOKA_CHECK(this->layer_param_.param(i).lr_mult() == 0, ConfigError,
                 "layer '" << param.name() << "' (BatchNorm): param " << i << " has lr_mult "
                           << this->layer_param_.param(i).lr_mult()
                           << "; batch-norm statistics cannot be learned (use lr_mult: 0)");
    } else {
      this->layer_param_.add_param()->set_lr_mult(0);
    }
  }
}

template <typename Dtype>
void BatchNormLayer<Dtype>::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  const BatchNormParameter& param = this->layer_param_.batch_norm_param();
  moving_average_fraction_ = param.moving_average_fraction();
  use_global_stats_ =
      param.has_use_global_stats() ? param.use_global_stats() : this->phase() == TEST;
  eps_ = param.eps();
  channels_ = bottom[0]->num_axes() == 1 ? 1 : bottom[0]->shape(1);
  const std::vector<std::vector<int>> shapes = {{channels_}, {channels_}, {1}};
  if (this->blobs_.empty()) {
    for (const auto& shape : shapes) {
      this->blobs_.push_back(std::make_shared<Blob<Dtype>>(shape));
      this->blobs_.back()->set_data(0);
    }
  } else {
    MOKA_CHECK(this->blobs_.size() == 3, ConfigError,
               "has " << this->blobs_.size()
                      << " parameter blobs, expected 3 (mean sum, variance sum, factor)");
    for (int i = 0; i < 3; ++i) {
      Blob<Dtype>& blob = *this->blobs_[i];
      MOKA_CHECK(blob.count() == shapes[i][0], ShapeError,
                 "parameter blob " << i << " has shape " << blob.shape_string() << ", expected "
                                   << ShapeString(shapes[i]));
      // Legacy 4-D blobs hold the same values.
      if (blob.shape() != shapes[i]) blob.Reshape(shapes[i]);
    }
  }
  this->param_propagate_down_.assign(3, false);
}

template <typename Dtype>
void BatchNormLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  MOKA_CHECK(bottom[0]->num_axes() >= 1, ShapeError, "bottom must have at least one axis");
  const int channels = bottom[0]->num_axes() == 1 ? 1 : bottom[0]->shape(1);
  MOKA_CHECK(channels == channels_, ShapeError,
             "bottom shape " << bottom[0]->shape_string() << " has " << channels
                             << " channels, the statistics have " << channels_);
  if (top[0] != bottom[0]) top[0]->ReshapeLike(*bottom[0]);
  num_ = bottom[0]->shape(0);
  spatial_dim_ = num_ * channels_ == 0 ? 0 : bottom[0]->count() / (num_ * channels_);
  mean_.Reshape({channels_});
  variance_.Reshape({channels_});
  temp_.ReshapeLike(*bottom[0]);
  x_norm_.ReshapeLike(*bottom[0]);
  if (batch_sum_multiplier_.count() != num_) {
    batch_sum_multiplier_.Reshape({num_});
    batch_sum_multiplier_.set_data(1);
  }
  if (spatial_sum_multiplier_.count() != spatial_dim_) {
    spatial_sum_multiplier_.Reshape({spatial_dim_});
    spatial_sum_multiplier_.set_data(1);
  }
  num_by_chans_.Reshape({channels_ * num_});
}

template <typename Dtype>
void BatchNormLayer<Dtype>::ChannelSums(const Dtype* data, Dtype alpha, Dtype* out) {
  // Sum over space (scaled), then over the batch, as Caffe orders it.
  cpu_gemv(Trans::kNo, num_ * channels_, spatial_dim_, alpha, data,
           spatial_sum_multiplier_.cpu_data(), Dtype(0), num_by_chans_.mutable_cpu_data());
  cpu_gemv(Trans::kYes, num_, channels_, Dtype(1), num_by_chans_.cpu_data(),
           batch_sum_multiplier_.cpu_data(), Dtype(0), out);
}

template <typename Dtype>
void BatchNormLayer<Dtype>::BroadcastChannels(const Dtype* values, Dtype* out) const {
  for (int n = 0; n < num_; ++n) {
    for (int c = 0; c < channels_; ++c) {
      cpu_set(spatial_dim_, values[c], out);
      out += spatial_dim_;
    }
  }
}

template <typename Dtype>
void BatchNormLayer<Dtype>::AddPerChannel(const Dtype* values, Dtype sign, Dtype* data) const {
  for (int n = 0; n < num_; ++n) {
    for (int c = 0; c < channels_; ++c) {
      cpu_add_scalar(spatial_dim_, sign * values[c], data);
      data += spatial_dim_;
    }
  }
}

template <typename Dtype>
void BatchNormLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  const int count = bottom[0]->count();
  if (use_global_stats_) {
    // Inference: one pass from bottom to top, (x - mean) / sqrt(var + eps) per channel, the
    // same operations in the same order as the general path below.
    const Dtype factor = this->blobs_[2]->cpu_data()[0];
    const Dtype scale = factor == 0 ? Dtype(0) : Dtype(1) / factor;
    cpu_scale(channels_, scale, this->blobs_[0]->cpu_data(), mean_.mutable_cpu_data());
    cpu_scale(channels_, scale, this->blobs_[1]->cpu_data(), variance_.mutable_cpu_data());
    cpu_add_scalar(channels_, eps_, variance_.mutable_cpu_data());
    cpu_sqrt(channels_, variance_.cpu_data(), variance_.mutable_cpu_data());
    const Dtype* mean = mean_.cpu_data();
    const Dtype* deviation = variance_.cpu_data();
    const Dtype* x = bottom[0]->cpu_data();
    Dtype* y = top[0]->mutable_cpu_data();
    ParallelFor(num_ * channels_, size_t(num_) * channels_ * spatial_dim_, [&](int begin, int end) {
      NormalizeRows(begin, end, channels_, spatial_dim_, mean, deviation, x, y);
    });
    return;
  }
  if (bottom[0] != top[0]) cpu_copy(count, bottom[0]->cpu_data(), top[0]->mutable_cpu_data());
  ChannelSums(bottom[0]->cpu_data(), Dtype(1. / num_ / spatial_dim_), mean_.mutable_cpu_data());
  Dtype* y = top[0]->mutable_cpu_data();
  AddPerChannel(mean_.cpu_data(), Dtype(-1), y);

  cpu_sqr(count, y, temp_.mutable_cpu_data());
  ChannelSums(temp_.cpu_data(), Dtype(1. / num_ / spatial_dim_), variance_.mutable_cpu_data());
  Dtype* factor = this->blobs_[2]->mutable_cpu_data();
  factor[0] = factor[0] * moving_average_fraction_ + Dtype(1);
  cpu_axpby(channels_, Dtype(1), mean_.cpu_data(), moving_average_fraction_,
            this->blobs_[0]->mutable_cpu_data());
  // The running variance is stored unbiased.
  const int m = count / channels_;
  const Dtype correction = m > 1 ? Dtype(m) / Dtype(m - 1) : Dtype(1);
  cpu_axpby(channels_, correction, variance_.cpu_data(), moving_average_fraction_,
            this->blobs_[1]->mutable_cpu_data());

  cpu_add_scalar(channels_, eps_, variance_.mutable_cpu_data());
  cpu_sqrt(channels_, variance_.cpu_data(), variance_.mutable_cpu_data());
  BroadcastChannels(variance_.cpu_data(), temp_.mutable_cpu_data());
  cpu_div(count, y, temp_.cpu_data(), y);
  cpu_copy(count, y, x_norm_.mutable_cpu_data());
}

template <typename Dtype>
void BatchNormLayer<Dtype>::Backward_cpu(const BlobVec& top,
                                         const std::vector<bool>& propagate_down,
                                         const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const int count = bottom[0]->count();
  const Dtype* dy = top[0]->cpu_diff();
  if (use_global_stats_) {
    // variance_ holds sqrt(var + eps) per channel since the forward pass; element by element,
    // so in place needs no copy.
    const Dtype* deviation = variance_.cpu_data();
    Dtype* dx = bottom[0]->mutable_cpu_diff();
    ParallelFor(num_ * channels_, size_t(num_) * channels_ * spatial_dim_, [&](int begin, int end) {
      DivideRows(begin, end, channels_, spatial_dim_, deviation, dy, dx);
    });
    return;
  }
  if (bottom[0] == top[0]) {
    // In place the bottom diff is the top diff; keep a copy before overwriting it.
    cpu_copy(count, dy, x_norm_.mutable_cpu_diff());
    dy = x_norm_.cpu_diff();
  }
  Dtype* dx = bottom[0]->mutable_cpu_diff();
  // dx = (dy - mean(dy) - y * mean(dy * y)) / sqrt(var + eps), means per channel.
  const Dtype* y = x_norm_.cpu_data();
  cpu_mul(count, y, dy, dx);
  ChannelSums(dx, Dtype(1), mean_.mutable_cpu_data());
  BroadcastChannels(mean_.cpu_data(), dx);
  cpu_mul(count, y, dx, dx);
  ChannelSums(dy, Dtype(1), mean_.mutable_cpu_data());
  AddPerChannel(mean_.cpu_data(), Dtype(1), dx);
  cpu_axpby(count, Dtype(1), dy, Dtype(-1. / (num_ * spatial_dim_)), dx);
  cpu_div(count, dx, temp_.cpu_data(), dx);
}

MOKA_INSTANTIATE_CLASS(BatchNormLayer);
MOKA_REGISTER_LAYER(BatchNorm);

}  // namespace moka
