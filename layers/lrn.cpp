#include "layers/lrn.hpp"

#include <algorithm>
#include <cmath>

#include "layer_registry.hpp"
#include "math_functions.hpp"
#include "task_pool.hpp"

namespace moka {

template <typename Dtype>
void LRNLayer<Dtype>::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  const LRNParameter& param = this->layer_param_.lrn_param();
  size_ = static_cast<int>(param.local_size());
  MOKA_CHECK(size_ % 2 == 1, ConfigError, "local_size must be odd, got " << size_);
  pre_pad_ = (size_ - 1) / 2;
  alpha_ = param.alpha();
  beta_ = param.beta();
  k_ = param.k();
  across_channels_ = param.norm_region() == LRNParameter::ACROSS_CHANNELS;
}

template <typename Dtype>
void LRNLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  MOKA_CHECK(bottom[0]->num_axes() == 4, ShapeError,
             "input must have 4 axes (num, channels, height, width), got shape "
                 << bottom[0]->shape_string());
  num_ = bottom[0]->num();
  channels_ = bottom[0]->channels();
  height_ = bottom[0]->height();
  width_ = bottom[0]->width();
  top[0]->ReshapeLike(*bottom[0]);
  scale_.ReshapeLike(*bottom[0]);
  threads_ = std::max(1, std::min(CpuThreads(), num_));
  plane_a_.Reshape({threads_, height_, width_});
  plane_b_.Reshape({threads_, height_, width_});
  if (across_channels_) {
    padded_.Reshape({threads_, channels_ + size_ - 1, height_, width_});
  } else {
    power_.ReshapeLike(*bottom[0]);
  }
}

template <typename Dtype>
void LRNLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  if (across_channels_) {
    CrossChannelForward(bottom, top);
  } else {
    WithinChannelForward(bottom, top);
  }
}

template <typename Dtype>
void LRNLayer<Dtype>::Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                   const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  if (across_channels_) {
    CrossChannelBackward(top, bottom);
  } else {
    WithinChannelBackward(top, bottom);
  }
}

// The channel window slides one channel at a time: each channel's scale is the previous one plus
// the square entering the window minus the square leaving it (the order of operations Caffe uses,
// so the results agree to the last bit as far as BLAS allows). Images are independent and run on
// the CPU threads, each with its own padded buffer.
template <typename Dtype>
void LRNLayer<Dtype>::CrossChannelForward(const BlobVec& bottom, const BlobVec& top) {
  const Dtype* x = bottom[0]->cpu_data();
  Dtype* y = top[0]->mutable_cpu_data();
  Dtype* scale = scale_.mutable_cpu_data();
  // Training keeps scale^-beta for the backward pass, which then needs no power of its own.
  const bool keep_power = this->phase() == TRAIN;
  if (keep_power) power_.ReshapeLike(*bottom[0]);
  Dtype* power = keep_power ? power_.mutable_cpu_data() : nullptr;
  Dtype* padded_all = padded_.mutable_cpu_data();
  const int plane = height_ * width_;
  const int image = channels_ * plane;
  const int padded_count = (channels_ + size_ - 1) * plane;
  const Dtype alpha_over_size = alpha_ / size_;
  auto task = [&](int n, int slot) {
    Dtype* padded = padded_all + static_cast<size_t>(slot) * padded_count;
    const size_t offset = static_cast<size_t>(n) * image;
    std::fill(padded, padded + padded_count, Dtype(0));
    cpu_sqr<Dtype>(image, x + offset, padded + pre_pad_ * plane);
    Dtype* scale_n = scale + offset;
    std::fill(scale_n, scale_n + image, k_);
    for (int c = 0; c < size_; ++c) {
      cpu_axpy<Dtype>(plane, alpha_over_size, padded + c * plane, scale_n);
    }
    for (int c = 1; c < channels_; ++c) {
      Dtype* current = scale_n + c * plane;
      cpu_copy<Dtype>(plane, current - plane, current);
      cpu_axpy<Dtype>(plane, alpha_over_size, padded + (c + size_ - 1) * plane, current);
      cpu_axpy<Dtype>(plane, -alpha_over_size, padded + (c - 1) * plane, current);
    }
    const Dtype* xn = x + offset;
    Dtype* yn = y + offset;
    for (int i = 0; i < image; ++i) {
      const Dtype p = std::pow(scale_n[i], -beta_);
      if (power != nullptr) power[offset + i] = p;
      yn[i] = p * xn[i];
    }
  };
  SingleThreadedBlas blas(threads_ > 1);
  RunTasks(num_, threads_, task);
}

// With s_c = k + alpha / n * sum_{c' in window(c)} x_{c'}^2 and y_c = x_c s_c^-beta:
//   dx_c = dy_c s_c^-beta - (2 alpha beta / n) x_c sum_{c' : c in window(c')} dy_{c'} y_{c'} /
//   s_{c'}.
// The inner sum runs over a window of n channels too, so it slides like the forward one.
template <typename Dtype>
void LRNLayer<Dtype>::CrossChannelBackward(const BlobVec& top, const BlobVec& bottom) {
  const Dtype* dy = top[0]->cpu_diff();
  const Dtype* y = top[0]->cpu_data();
  const Dtype* x = bottom[0]->cpu_data();
  const Dtype* scale = scale_.cpu_data();
  // scale^-beta from the forward pass when it kept it (the same values Caffe recomputes here).
  const bool kept = this->phase() == TRAIN && power_.count() == scale_.count();
  const Dtype* power = kept ? power_.cpu_data() : nullptr;
  Dtype* dx = bottom[0]->mutable_cpu_diff();
  Dtype* padded_all = padded_.mutable_cpu_data();
  Dtype* accum_all = plane_a_.mutable_cpu_data();
  Dtype* accum_times_x_all = plane_b_.mutable_cpu_data();
  const int plane = height_ * width_;
  const int image = channels_ * plane;
  const int padded_count = (channels_ + size_ - 1) * plane;
  const Dtype ratio_coeff = Dtype(2) * alpha_ * beta_ / size_;
  auto task = [&](int n, int slot) {
    Dtype* padded_ratio = padded_all + static_cast<size_t>(slot) * padded_count;
    Dtype* accum = accum_all + static_cast<size_t>(slot) * plane;
    Dtype* accum_times_x = accum_times_x_all + static_cast<size_t>(slot) * plane;
    const size_t offset = static_cast<size_t>(n) * image;
    Dtype* dxn = dx + offset;
    for (int i = 0; i < image; ++i) {
      const Dtype p = power != nullptr ? power[offset + i] : std::pow(scale[offset + i], -beta_);
      dxn[i] = dy[offset + i] * p;
    }
    std::fill(padded_ratio, padded_ratio + padded_count, Dtype(0));
    Dtype* ratio = padded_ratio + pre_pad_ * plane;
    cpu_mul<Dtype>(image, dy + offset, y + offset, ratio);
    cpu_div<Dtype>(image, ratio, scale + offset, ratio);
    std::fill(accum, accum + plane, Dtype(0));
    for (int c = 0; c < size_ - 1; ++c) {
      cpu_axpy<Dtype>(plane, Dtype(1), padded_ratio + c * plane, accum);
    }
    for (int c = 0; c < channels_; ++c) {
      cpu_axpy<Dtype>(plane, Dtype(1), padded_ratio + (c + size_ - 1) * plane, accum);
      cpu_mul<Dtype>(plane, x + offset + c * plane, accum, accum_times_x);
      cpu_axpy<Dtype>(plane, -ratio_coeff, accum_times_x, dxn + c * plane);
      cpu_axpy<Dtype>(plane, Dtype(-1), padded_ratio + c * plane, accum);
    }
  };
  SingleThreadedBlas blas(threads_ > 1);
  RunTasks(num_, threads_, task);
}

// Caffe composes this mode from layers: Power (x^2), AVE pooling (kernel n, stride 1, pad
// (n - 1) / 2), Power (scale alpha, shift 1, power -beta) and an element-wise product with x. The
// steps below follow that composition, operation for operation, forward and backward.
template <typename Dtype>
void LRNLayer<Dtype>::WithinChannelForward(const BlobVec& bottom, const BlobVec& top) {
  const Dtype* x = bottom[0]->cpu_data();
  Dtype* y = top[0]->mutable_cpu_data();
  Dtype* scale = scale_.mutable_cpu_data();
  Dtype* power = power_.mutable_cpu_data();
  const int plane = height_ * width_;
  for (int p = 0; p < num_ * channels_; ++p) {
    const Dtype* xp = x + p * plane;
    Dtype* sp = scale + p * plane;
    for (int h = 0; h < height_; ++h) {
      int hstart = h - pre_pad_;
      int hend = std::min(hstart + size_, height_ + pre_pad_);
      const int pool_h = hend - hstart;
      hstart = std::max(hstart, 0);
      hend = std::min(hend, height_);
      for (int w = 0; w < width_; ++w) {
        int wstart = w - pre_pad_;
        int wend = std::min(wstart + size_, width_ + pre_pad_);
        const int pool_size = pool_h * (wend - wstart);
        wstart = std::max(wstart, 0);
        wend = std::min(wend, width_);
        Dtype sum = 0;
        for (int i = hstart; i < hend; ++i) {
          for (int j = wstart; j < wend; ++j) sum += xp[i * width_ + j] * xp[i * width_ + j];
        }
        sp[h * width_ + w] = alpha_ * (sum / pool_size) + Dtype(1);
      }
    }
  }
  cpu_powx<Dtype>(scale_.count(), scale, -beta_, power);
  cpu_mul<Dtype>(scale_.count(), x, power, y);
}

template <typename Dtype>
void LRNLayer<Dtype>::WithinChannelBackward(const BlobVec& top, const BlobVec& bottom) {
  const Dtype* dy = top[0]->cpu_diff();
  const Dtype* x = bottom[0]->cpu_data();
  const Dtype* scale = scale_.cpu_data();
  const Dtype* power = power_.cpu_data();
  Dtype* dx = bottom[0]->mutable_cpu_diff();
  Dtype* d_average = plane_a_.mutable_cpu_data();
  Dtype* d_square = plane_b_.mutable_cpu_data();
  const int plane = height_ * width_;
  // d(power)/d(average) = (-beta * alpha) * power / scale, as Caffe's Power layer computes it.
  const Dtype diff_scale = -beta_ * alpha_;
  for (int p = 0; p < num_ * channels_; ++p) {
    const int offset = p * plane;
    for (int i = 0; i < plane; ++i) {
      const Dtype d_power = x[offset + i] * dy[offset + i];
      d_average[i] = power[offset + i] / scale[offset + i] * diff_scale * d_power;
    }
    cpu_set<Dtype>(plane, Dtype(0), d_square);
    for (int h = 0; h < height_; ++h) {
      int hstart = h - pre_pad_;
      int hend = std::min(hstart + size_, height_ + pre_pad_);
      const int pool_h = hend - hstart;
      hstart = std::max(hstart, 0);
      hend = std::min(hend, height_);
      for (int w = 0; w < width_; ++w) {
        int wstart = w - pre_pad_;
        int wend = std::min(wstart + size_, width_ + pre_pad_);
        const int pool_size = pool_h * (wend - wstart);
        wstart = std::max(wstart, 0);
        wend = std::min(wend, width_);
        const Dtype share = d_average[h * width_ + w] / pool_size;
        for (int i = hstart; i < hend; ++i) {
          for (int j = wstart; j < wend; ++j) d_square[i * width_ + j] += share;
        }
      }
    }
    for (int i = 0; i < plane; ++i) {
      const Dtype through_product = power[offset + i] * dy[offset + i];
      const Dtype through_square = Dtype(2) * x[offset + i] * d_square[i];
      dx[offset + i] = through_product + through_square;
    }
  }
}

MOKA_INSTANTIATE_CLASS(LRNLayer);
MOKA_REGISTER_LAYER(LRN);

}  // namespace moka
