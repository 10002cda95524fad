#include "layers/pooling.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>

#include "layer_registry.hpp"
#include "math_functions.hpp"

namespace moka {

template <typename Dtype>
void PoolingLayer<Dtype>::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  const PoolingParameter& param = this->layer_param_.pooling_param();
  pool_ = param.pool();
  global_pooling_ = param.global_pooling();
  const bool has_kernel_hw = param.has_kernel_h() || param.has_kernel_w();
  if (global_pooling_) {
    MOKA_CHECK(!param.has_kernel_size() && !has_kernel_hw, ConfigError,
               "with global_pooling the kernel size comes from the bottom and cannot be given");
  } else {
    MOKA_CHECK(!(param.has_kernel_size() && has_kernel_hw), ConfigError,
               "the kernel is kernel_size OR kernel_h and kernel_w, not both");
    MOKA_CHECK(param.has_kernel_size() || (param.has_kernel_h() && param.has_kernel_w()),
               ConfigError, "needs kernel_size, or both kernel_h and kernel_w");
  }
  MOKA_CHECK((!param.has_pad() && param.has_pad_h() && param.has_pad_w()) ||
                 (!param.has_pad_h() && !param.has_pad_w()),
             ConfigError, "padding is pad OR both pad_h and pad_w");
  MOKA_CHECK((!param.has_stride() && param.has_stride_h() && param.has_stride_w()) ||
                 (!param.has_stride_h() && !param.has_stride_w()),
             ConfigError, "the stride is stride OR both stride_h and stride_w");

  if (global_pooling_) {
    MOKA_CHECK(bottom[0]->num_axes() == 4, ShapeError,
               "input must have 4 axes (num, channels, height, width), got shape "
                   << bottom[0]->shape_string());
    kernel_h_ = bottom[0]->height();
    kernel_w_ = bottom[0]->width();
  } else if (param.has_kernel_size()) {
    kernel_h_ = kernel_w_ = static_cast<int>(param.kernel_size());
  } else {
    kernel_h_ = static_cast<int>(param.kernel_h());
    kernel_w_ = static_cast<int>(param.kernel_w());
  }
  MOKA_CHECK(kernel_h_ > 0 && kernel_w_ > 0, ConfigError,
             "kernel size must be positive, got " << kernel_h_ << " x " << kernel_w_);
  if (param.has_pad_h()) {
    pad_h_ = static_cast<int>(param.pad_h());
    pad_w_ = static_cast<int>(param.pad_w());
  } else {
    pad_h_ = pad_w_ = static_cast<int>(param.pad());
  }
  if (param.has_stride_h()) {
    stride_h_ = static_cast<int>(param.stride_h());
    stride_w_ = static_cast<int>(param.stride_w());
  } else {
    stride_h_ = stride_w_ = static_cast<int>(param.stride());
  }
  MOKA_CHECK(stride_h_ > 0 && stride_w_ > 0, ConfigError,
             "stride must be positive, got " << stride_h_ << " x " << stride_w_);
  if (global_pooling_) {
    MOKA_CHECK(pad_h_ == 0 && pad_w_ == 0 && stride_h_ == 1 && stride_w_ == 1, ConfigError,
               "global_pooling allows only pad 0 and stride 1");
  }
  if (pad_h_ != 0 || pad_w_ != 0) {
    MOKA_CHECK(pool_ == PoolingParameter::AVE || pool_ == PoolingParameter::MAX, ConfigError,
               "padding is implemented only for MAX and AVE pooling");
    MOKA_CHECK(pad_h_ < kernel_h_ && pad_w_ < kernel_w_, ConfigError,
               "pad (" << pad_h_ << " x " << pad_w_ << ") must be smaller than the kernel ("
                       << kernel_h_ << " x " << kernel_w_ << ")");
  }
}

namespace {

/// `padded` is whether either axis has padding: Caffe then trims both axes, so that the last window
/// starts inside the image or its left padding rather than in the right padding.
int PooledSize(int in, int kernel, int pad, int stride, bool ceil_mode, bool padded) {
  const double span = static_cast<double>(in + 2 * pad - kernel) / stride;
  int pooled = static_cast<int>(ceil_mode ? std::ceil(span) : std::floor(span)) + 1;
  if (padded && (pooled - 1) * stride >= in + pad) --pooled;
  return pooled;
}


// One axis of an average-pooling window: the divisor counts padding up to in + pad (Caffe's rule),
// while [start, end) is clipped to the image.
struct AveWindow {
  int start, end, size;
};
AveWindow AveWindowAxis(int pooled_index, int stride, int pad, int kernel, int extent) {
  const int start = pooled_index * stride - pad;
  const int end = std::min(start + kernel, extent + pad);
  return {std::max(start, 0), std::min(end, extent), end - start};
}

}  // namespace

template <typename Dtype>
void PoolingLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  MOKA_CHECK(bottom[0]->num_axes() == 4, ShapeError,
             "input must have 4 axes (num, channels, height, width), got shape "
                 << bottom[0]->shape_string());
  num_ = bottom[0]->num();
  channels_ = bottom[0]->channels();
  height_ = bottom[0]->height();
  width_ = bottom[0]->width();
  if (global_pooling_) {
    kernel_h_ = height_;
    kernel_w_ = width_;
  }
  const bool ceil_mode = this->layer_param_.pooling_param().round_mode() == PoolingParameter::CEIL;
  const bool padded = pad_h_ > 0 || pad_w_ > 0;
  pooled_height_ = PooledSize(height_, kernel_h_, pad_h_, stride_h_, ceil_mode, padded);
  pooled_width_ = PooledSize(width_, kernel_w_, pad_w_, stride_w_, ceil_mode, padded);
  MOKA_CHECK(pooled_height_ > 0 && pooled_width_ > 0, ShapeError,
             "a " << kernel_h_ << " x " << kernel_w_ << " kernel (pad " << pad_h_ << " x " << pad_w_
                  << ") does not fit the bottom of shape " << bottom[0]->shape_string());
  top[0]->Reshape({num_, channels_, pooled_height_, pooled_width_});
  if (top.size() > 1) top[1]->ReshapeLike(*top[0]);
  const int count = top[0]->count();
  if (pool_ == PoolingParameter::MAX && top.size() == 1) max_idx_.resize(count);
  if (pool_ == PoolingParameter::STOCHASTIC) {
    rand_draw_.resize(count);
    rand_idx_.resize(count);
  }
}

template <typename Dtype>
void PoolingLayer<Dtype>::ForwardMax(const BlobVec& bottom, const BlobVec& top) {
  const Dtype* x = bottom[0]->cpu_data();
  Dtype* y = top[0]->mutable_cpu_data();
  const bool mask_top = top.size() > 1;
  Dtype* top_mask = mask_top ? top[1]->mutable_cpu_data() : nullptr;
  int* mask = mask_top ? nullptr : max_idx_.data();
  const int in_plane = height_ * width_;
  const int out_plane = pooled_height_ * pooled_width_;
  for (int plane = 0; plane < num_ * channels_; ++plane, x += in_plane) {
    for (int ph = 0; ph < pooled_height_; ++ph) {
      const int hstart = std::max(ph * stride_h_ - pad_h_, 0);
      const int hend = std::min(ph * stride_h_ - pad_h_ + kernel_h_, height_);
      for (int pw = 0; pw < pooled_width_; ++pw) {
        const int wstart = std::max(pw * stride_w_ - pad_w_, 0);
        const int wend = std::min(pw * stride_w_ - pad_w_ + kernel_w_, width_);
        // Caffe's starting value and strict comparison: the first maximum wins ties.
        Dtype best = Dtype(-FLT_MAX);
        int best_index = -1;
        if (hend - hstart == 2 && wend - wstart == 2) {
          // A whole 2x2 window (the common case), unrolled, in the same order: the general
          // loop's bounds kept the processor from overlapping neighbouring windows.
          const int corner = hstart * width_ + wstart;
          const int indices[4] = {corner, corner + 1, corner + width_, corner + width_ + 1};
          for (int index : indices) {
            const bool higher = x[index] > best;
            best = higher ? x[index] : best;
            best_index = higher ? index : best_index;
          }
        } else {
          for (int h = hstart; h < hend; ++h) {
            for (int w = wstart; w < wend; ++w) {
              const int index = h * width_ + w;
              if (x[index] > best) {
                best = x[index];
                best_index = index;
              }
            }
          }
        }
        const int o = plane * out_plane + ph * pooled_width_ + pw;
        y[o] = best;
        if (mask_top) {
          top_mask[o] = static_cast<Dtype>(best_index);
        } else {
          mask[o] = best_index;
        }
      }
    }
  }
}

template <typename Dtype>
void PoolingLayer<Dtype>::ForwardAve(const BlobVec& bottom, const BlobVec& top) {
  const Dtype* x = bottom[0]->cpu_data();
  Dtype* y = top[0]->mutable_cpu_data();
  const int in_plane = height_ * width_;
  for (int plane = 0; plane < num_ * channels_; ++plane, x += in_plane) {
    for (int ph = 0; ph < pooled_height_; ++ph) {
      const AveWindow hw = AveWindowAxis(ph, stride_h_, pad_h_, kernel_h_, height_);
      const int hstart = hw.start, hend = hw.end;
      for (int pw = 0; pw < pooled_width_; ++pw, ++y) {
        const AveWindow ww = AveWindowAxis(pw, stride_w_, pad_w_, kernel_w_, width_);
        const int wstart = ww.start, wend = ww.end;
        const int pool_size = hw.size * ww.size;
        Dtype sum = 0;
        for (int h = hstart; h < hend; ++h) {
          for (int w = wstart; w < wend; ++w) sum += x[h * width_ + w];
        }
        *y = sum / pool_size;
      }
    }
  }
}

template <typename Dtype>
void PoolingLayer<Dtype>::ForwardStochastic(const BlobVec& bottom, const BlobVec& top) {
  const Dtype* x = bottom[0]->cpu_data();
  Dtype* y = top[0]->mutable_cpu_data();
  const bool train = this->phase() == TRAIN;
  if (train) {
    rng_uniform<Dtype>(top[0]->count(), Dtype(0), Dtype(1), this->context().rng(),
                       rand_draw_.data());
  }
  const int in_plane = height_ * width_;
  int o = 0;
  for (int plane = 0; plane < num_ * channels_; ++plane) {
    const Dtype* xp = x + plane * in_plane;
    for (int ph = 0; ph < pooled_height_; ++ph) {
      const int hstart = ph * stride_h_;
      const int hend = std::min(hstart + kernel_h_, height_);
      for (int pw = 0; pw < pooled_width_; ++pw, ++o) {
        const int wstart = pw * stride_w_;
        const int wend = std::min(wstart + kernel_w_, width_);
        Dtype sum = 0;
        Dtype sum_sq = 0;
        for (int h = hstart; h < hend; ++h) {
          for (int w = wstart; w < wend; ++w) {
            sum += xp[h * width_ + w];
            sum_sq += xp[h * width_ + w] * xp[h * width_ + w];
          }
        }
        if (!train) {
          y[o] = sum > 0 ? sum_sq / sum : Dtype(0);
          continue;
        }
        // Sample by walking the running sum up to a uniform fraction of the total; rounding can
        // leave the threshold just above the final sum, so the last element is the fallback.
        const Dtype threshold = rand_draw_[o] * sum;
        int chosen = -1;
        Dtype running = 0;
        for (int h = hstart; h < hend && chosen < 0; ++h) {
          for (int w = wstart; w < wend; ++w) {
            running += xp[h * width_ + w];
            if (running >= threshold) {
              chosen = h * width_ + w;
              break;
            }
          }
        }
        if (chosen < 0) chosen = (hend - 1) * width_ + (wend - 1);
        rand_idx_[o] = plane * in_plane + chosen;
        y[o] = xp[chosen];
      }
    }
  }
}

template <typename Dtype>
void PoolingLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  switch (pool_) {
    case PoolingParameter::MAX:
      ForwardMax(bottom, top);
      break;
    case PoolingParameter::AVE:
      ForwardAve(bottom, top);
      break;
    case PoolingParameter::STOCHASTIC:
      ForwardStochastic(bottom, top);
      break;
    default:
      MOKA_THROW(ConfigError, "unknown pooling method " << static_cast<int>(pool_));
  }
}

template <typename Dtype>
void PoolingLayer<Dtype>::Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                       const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const Dtype* dy = top[0]->cpu_diff();
  Dtype* dx = bottom[0]->mutable_cpu_diff();
  cpu_set<Dtype>(bottom[0]->count(), Dtype(0), dx);
  const int in_plane = height_ * width_;
  const int out_plane = pooled_height_ * pooled_width_;
  const int planes = num_ * channels_;
  if (pool_ == PoolingParameter::MAX) {
    const bool mask_top = top.size() > 1;
    const Dtype* top_mask = mask_top ? top[1]->cpu_data() : nullptr;
    for (int plane = 0; plane < planes; ++plane, dx += in_plane) {
      for (int i = 0; i < out_plane; ++i) {
        const int o = plane * out_plane + i;
        const int index = mask_top ? static_cast<int>(top_mask[o]) : max_idx_[o];
        // A window of NaNs selects nothing and passes no gradient.
        if (index >= 0) dx[index] += dy[o];
      }
    }
  } else if (pool_ == PoolingParameter::AVE) {
    for (int plane = 0; plane < planes; ++plane, dx += in_plane) {
      for (int ph = 0; ph < pooled_height_; ++ph) {
        const AveWindow hw = AveWindowAxis(ph, stride_h_, pad_h_, kernel_h_, height_);
        const int hstart = hw.start, hend = hw.end;
        for (int pw = 0; pw < pooled_width_; ++pw, ++dy) {
          const AveWindow ww = AveWindowAxis(pw, stride_w_, pad_w_, kernel_w_, width_);
          const int wstart = ww.start, wend = ww.end;
          const int pool_size = hw.size * ww.size;
          const Dtype share = *dy / pool_size;
          for (int h = hstart; h < hend; ++h) {
            for (int w = wstart; w < wend; ++w) dx[h * width_ + w] += share;
          }
        }
      }
    }
  } else if (this->phase() == TRAIN) {
    for (int o = 0; o < top[0]->count(); ++o) dx[rand_idx_[o]] += dy[o];
  } else {
    // TEST output is sum(x^2) / sum(x); its derivative is (2 x_j sum(x) - sum(x^2)) / sum(x)^2.
    const Dtype* x = bottom[0]->cpu_data();
    for (int plane = 0; plane < planes; ++plane, x += in_plane, dx += in_plane) {
      for (int ph = 0; ph < pooled_height_; ++ph) {
        const int hstart = ph * stride_h_;
        const int hend = std::min(hstart + kernel_h_, height_);
        for (int pw = 0; pw < pooled_width_; ++pw, ++dy) {
          const int wstart = pw * stride_w_;
          const int wend = std::min(wstart + kernel_w_, width_);
          Dtype sum = 0;
          Dtype sum_sq = 0;
          for (int h = hstart; h < hend; ++h) {
            for (int w = wstart; w < wend; ++w) {
              sum += x[h * width_ + w];
              sum_sq += x[h * width_ + w] * x[h * width_ + w];
            }
          }
          if (!(sum > 0)) continue;
          for (int h = hstart; h < hend; ++h) {
            for (int w = wstart; w < wend; ++w) {
              dx[h * width_ + w] += *dy * (2 * x[h * width_ + w] * sum - sum_sq) / (sum * sum);
            }
          }
        }
      }
    }
  }
}

MOKA_INSTANTIATE_CLASS(PoolingLayer);
MOKA_REGISTER_LAYER(Pooling);

}  // namespace moka
