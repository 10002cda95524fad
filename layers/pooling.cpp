#include "layers/pooling.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "cpu_parallel.hpp"
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

/// Below this many input values a pooling pass runs on the calling thread (pooling does less
/// work per value than the element-wise passes).
constexpr size_t kParallelInputs = size_t(1) << 18;

/// The geometry of one max-pooling pass over a plane.
struct MaxGeometry {
  int height, width, pooled_height, pooled_width;
  int kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w;
};

/// One output of max pooling by Caffe's rule: the window scanned row by row from -FLT_MAX with a
/// strict comparison, so the first maximum wins ties and a NaN never wins (an all-NaN window
/// gives -FLT_MAX and index -1).
template <typename Dtype>
MOKA_ALWAYS_INLINE void MaxWindow(const Dtype* x, int width, int hstart, int hend, int wstart,
                                  int wend, Dtype* best_out, int* index_out) {
  Dtype best = Dtype(-FLT_MAX);
  int best_index = -1;
  for (int h = hstart; h < hend; ++h) {
    for (int w = wstart; w < wend; ++w) {
      const int index = h * width + w;
      if (x[index] > best) {
        best = x[index];
        best_index = index;
      }
    }
  }
  *best_out = best;
  *index_out = best_index;
}

/// kBytes of Dtype (32: one AVX register, two SSE registers on the baseline) and the matching
/// integer lanes, which hold comparison masks and argmax indices.
template <typename Dtype, int kBytes>
struct MaskPack;
template <int kBytes>
struct MaskPack<float, kBytes> {
  typedef float V __attribute__((vector_size(kBytes)));
  typedef int32_t I __attribute__((vector_size(kBytes)));
  static constexpr int kWidth = kBytes / 4;
};
template <int kBytes>
struct MaskPack<double, kBytes> {
  typedef double V __attribute__((vector_size(kBytes)));
  typedef int64_t I __attribute__((vector_size(kBytes)));
  static constexpr int kWidth = kBytes / 8;
};

/// Where the packed loops load row h, column c (c may lie in the padding of a padded copy):
/// base[h * stride + c].
template <typename Dtype>
struct Rows {
  const Dtype* base;
  int stride;
};

/// kPacks packs of outputs from pw on, side by side so that their comparison chains overlap.
/// Each output's taps go in the window's scan order with MaxWindow's strict comparison, so it
/// gets the same value and index.
template <int kStride, int kBytes, int kPacks, typename Dtype>
MOKA_ALWAYS_INLINE void MaxPacks(const Rows<Dtype>& x, const MaxGeometry& g, int hstart, int hend,
                                 int pw, Dtype* best_row, int* index_row) {
  using V = typename MaskPack<Dtype, kBytes>::V;
  using I = typename MaskPack<Dtype, kBytes>::I;
  constexpr int kWidth = MaskPack<Dtype, kBytes>::kWidth;
  I lane;  // the column offset of each lane's window from the first lane's
  I even;  // stride 2: the even columns of two packs, the second loaded one column early
  V best[kPacks];
  I index[kPacks];
  for (int l = 0; l < kWidth; ++l) {
    lane[l] = l * kStride;
    even[l] = 2 * l < kWidth ? 2 * l : 2 * l + 1;
    for (int p = 0; p < kPacks; ++p) {
      best[p][l] = Dtype(-FLT_MAX);
      index[p][l] = -1;
    }
  }
  for (int h = hstart; h < hend; ++h) {
    for (int kw = 0; kw < g.kernel_w; ++kw) {
      const int column = pw * kStride + kw - g.pad_w;
      const Dtype* at = x.base + h * x.stride + column;
      const I tap = lane + (h * g.width + column);
      for (int p = 0; p < kPacks; ++p) {
        const Dtype* from = at + p * kWidth * kStride;
        V v;
        if (kStride == 1) {
          std::memcpy(&v, from, sizeof(V));
        } else {
          V a, b;
          std::memcpy(&a, from, sizeof(V));
          std::memcpy(&b, from + kWidth - 1, sizeof(V));
          v = __builtin_shuffle(a, b, even);
        }
        const I higher = v > best[p];
        best[p] = higher ? v : best[p];
        index[p] = higher ? tap + p * kWidth * kStride : index[p];
      }
    }
  }
  for (int p = 0; p < kPacks; ++p) {
    std::memcpy(best_row + pw + p * kWidth, &best[p], sizeof(V));
    for (int l = 0; l < kWidth; ++l) {
      index_row[pw + p * kWidth + l] = static_cast<int>(index[p][l]);
    }
  }
}

/// Outputs [begin, end) of one row whose windows lie inside the image across (every window sees
/// all kernel_w columns), in packs. The last pack ends at `end`, overlapping the one before:
/// outputs computed twice come out the same. Returns the first output left undone: end, or
/// begin when the row is narrower than the smallest pack.
template <int kStride, typename Dtype>
MOKA_ALWAYS_INLINE int MaxRowInside(const Rows<Dtype>& x, const MaxGeometry& g, int hstart,
                                    int hend, int begin, int end, Dtype* best_row, int* index_row) {
  constexpr int kWide = MaskPack<Dtype, 32>::kWidth;
  constexpr int kNarrow = MaskPack<Dtype, 16>::kWidth;
  const int n = end - begin;
  if (n < kNarrow) return begin;
  if (n < kWide) {
    for (int pw = begin;; pw += kNarrow) {
      pw = std::min(pw, end - kNarrow);
      MaxPacks<kStride, 16, 1>(x, g, hstart, hend, pw, best_row, index_row);
      if (pw + kNarrow >= end) return end;
    }
  }
  int pw = begin;
  for (; pw + 4 * kWide <= end; pw += 4 * kWide) {
    MaxPacks<kStride, 32, 4>(x, g, hstart, hend, pw, best_row, index_row);
  }
  for (; pw + 2 * kWide <= end; pw += 2 * kWide) {
    MaxPacks<kStride, 32, 2>(x, g, hstart, hend, pw, best_row, index_row);
  }
  for (; pw < end; pw += kWide) {
    pw = std::min(pw, end - kWide);
    MaxPacks<kStride, 32, 1>(x, g, hstart, hend, pw, best_row, index_row);
  }
  return end;
}

/// The outputs [begin, end) of a row whose windows lie inside the image across.
struct Columns {
  int begin, end;
};
Columns InsideColumns(const MaxGeometry& g) {
  const int begin = std::min(g.pooled_width, (g.pad_w + g.stride_w - 1) / g.stride_w);
  const int span = g.width + g.pad_w - g.kernel_w;
  const int end =
      span < 0 ? begin : std::max(begin, std::min(g.pooled_width, span / g.stride_w + 1));
  return {begin, end};
}

/// Whether a plane should go through a padded copy, so that the windows at the left and right
/// edges take the packed loops too: worth its copy when they are a good share of a row.
bool PadPlane(const MaxGeometry& g) {
  const Columns inside = InsideColumns(g);
  const int edges = g.pooled_width - (inside.end - inside.begin);
  return (g.stride_w == 1 || g.stride_w == 2) && edges > 0 && edges * 4 >= g.pooled_width;
}

/// Columns of a padded row: every window's, from -pad_w on.
int PaddedWidth(const MaxGeometry& g) {
  return std::max(g.pad_w + g.width, (g.pooled_width - 1) * g.stride_w + g.kernel_w);
}

/// Max pooling of one plane into y and index (its argmax within the plane). With `padded` (room
/// for height x PaddedWidth values) every row is copied between -infinity columns first: a
/// padding value never wins (the comparison is strict from -FLT_MAX), so the edge windows come
/// out as their clipped scans do.
template <typename Dtype>
MOKA_ALWAYS_INLINE void MaxPlaneBody(const Dtype* x, const MaxGeometry& g, Dtype* y, int* index,
                                     Dtype* padded) {
  Columns inside = InsideColumns(g);
  Rows<Dtype> rows = {x, g.width};
  if (padded != nullptr) {
    const int padded_width = PaddedWidth(g);
    const Dtype fill = -std::numeric_limits<Dtype>::infinity();
    for (int h = 0; h < g.height; ++h) {
      Dtype* row = padded + size_t(h) * padded_width;
      std::fill(row, row + g.pad_w, fill);
      std::memcpy(row + g.pad_w, x + size_t(h) * g.width, g.width * sizeof(Dtype));
      std::fill(row + g.pad_w + g.width, row + padded_width, fill);
    }
    rows = {padded + g.pad_w, padded_width};
    inside = {0, g.pooled_width};
  }
  for (int ph = 0; ph < g.pooled_height; ++ph) {
    const int hstart = std::max(ph * g.stride_h - g.pad_h, 0);
    const int hend = std::min(ph * g.stride_h - g.pad_h + g.kernel_h, g.height);
    Dtype* y_row = y + ph * g.pooled_width;
    int* index_row = index + ph * g.pooled_width;
    // The packed loops take what they can of the inside outputs; the rest go one by one.
    int done = inside.begin;
    if (g.stride_w == 1) {
      done = MaxRowInside<1>(rows, g, hstart, hend, inside.begin, inside.end, y_row, index_row);
    } else if (g.stride_w == 2) {
      done = MaxRowInside<2>(rows, g, hstart, hend, inside.begin, inside.end, y_row, index_row);
    }
    for (int pw = 0; pw < g.pooled_width; ++pw) {
      if (pw == inside.begin) pw = done;
      if (pw >= g.pooled_width) break;
      const int wstart = std::max(pw * g.stride_w - g.pad_w, 0);
      const int wend = std::min(pw * g.stride_w - g.pad_w + g.kernel_w, g.width);
      MaxWindow(x, g.width, hstart, hend, wstart, wend, y_row + pw, index_row + pw);
    }
  }
}
MOKA_VECTOR_CLONES void MaxPlane(const float* x, const MaxGeometry& g, float* y, int* index,
                                 float* padded) {
  MaxPlaneBody(x, g, y, index, padded);
}
MOKA_VECTOR_CLONES void MaxPlane(const double* x, const MaxGeometry& g, double* y, int* index,
                                 double* padded) {
  MaxPlaneBody(x, g, y, index, padded);
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
  const int in_plane = height_ * width_;
  const int out_plane = pooled_height_ * pooled_width_;
  const int planes = num_ * channels_;
  const MaxGeometry geometry = {height_,   width_,    pooled_height_, pooled_width_, kernel_h_,
                                kernel_w_, stride_h_, stride_w_,      pad_h_,        pad_w_};
  // Per thread: with a mask top an int argmax plane, converted after each plane; for planes with
  // many edge windows, a padded copy of the plane.
  const int threads = std::max(CpuThreads(), 1);
  if (mask_top && mask_scratch_.size() < size_t(threads) * out_plane) {
    mask_scratch_.resize(size_t(threads) * out_plane);
  }
  const bool pad = fast_max_ && PadPlane(geometry);
  const size_t padded_plane = pad ? size_t(height_) * PaddedWidth(geometry) : 0;
  if (pad_scratch_.size() < threads * padded_plane) pad_scratch_.resize(threads * padded_plane);
  ParallelFor(
      planes, size_t(planes) * in_plane,
      [&](int begin, int end, int slot) {
        for (int plane = begin; plane < end; ++plane) {
          const Dtype* xp = x + size_t(plane) * in_plane;
          Dtype* yp = y + size_t(plane) * out_plane;
          int* index = mask_top ? mask_scratch_.data() + size_t(slot) * out_plane
                                : max_idx_.data() + size_t(plane) * out_plane;
          if (fast_max_) {
            MaxPlane(xp, geometry, yp, index,
                     pad ? pad_scratch_.data() + slot * padded_plane : nullptr);
          } else {
            // The reference: every window scanned on its own.
            for (int ph = 0; ph < pooled_height_; ++ph) {
              const int hstart = std::max(ph * stride_h_ - pad_h_, 0);
              const int hend = std::min(ph * stride_h_ - pad_h_ + kernel_h_, height_);
              for (int pw = 0; pw < pooled_width_; ++pw) {
                const int wstart = std::max(pw * stride_w_ - pad_w_, 0);
                const int wend = std::min(pw * stride_w_ - pad_w_ + kernel_w_, width_);
                const int o = ph * pooled_width_ + pw;
                MaxWindow(xp, width_, hstart, hend, wstart, wend, yp + o, index + o);
              }
            }
          }
          if (mask_top) {
            Dtype* mp = top_mask + size_t(plane) * out_plane;
            for (int o = 0; o < out_plane; ++o) mp[o] = static_cast<Dtype>(index[o]);
          }
        }
      },
      kParallelInputs);
}

template <typename Dtype>
void PoolingLayer<Dtype>::ForwardAve(const BlobVec& bottom, const BlobVec& top) {
  const Dtype* x = bottom[0]->cpu_data();
  Dtype* y = top[0]->mutable_cpu_data();
  const int in_plane = height_ * width_;
  const int out_plane = pooled_height_ * pooled_width_;
  ParallelFor(
      num_ * channels_, size_t(num_) * channels_ * in_plane,
      [&](int begin, int end, int) {
        for (int plane = begin; plane < end; ++plane) {
          const Dtype* xp = x + size_t(plane) * in_plane;
          Dtype* yp = y + size_t(plane) * out_plane;
          for (int ph = 0; ph < pooled_height_; ++ph) {
            const AveWindow hw = AveWindowAxis(ph, stride_h_, pad_h_, kernel_h_, height_);
            for (int pw = 0; pw < pooled_width_; ++pw, ++yp) {
              const AveWindow ww = AveWindowAxis(pw, stride_w_, pad_w_, kernel_w_, width_);
              const int pool_size = hw.size * ww.size;
              Dtype sum = 0;
              for (int h = hw.start; h < hw.end; ++h) {
                for (int w = ww.start; w < ww.end; ++w) sum += xp[h * width_ + w];
              }
              *yp = sum / pool_size;
            }
          }
        }
      },
      kParallelInputs);
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
  const int in_plane = height_ * width_;
  const int out_plane = pooled_height_ * pooled_width_;
  const int planes = num_ * channels_;
  if (pool_ == PoolingParameter::MAX || pool_ == PoolingParameter::AVE) {
    // Each plane's gradient comes from its own outputs only, added in output order, so planes
    // split across threads give the same sums.
    const bool mask_top = top.size() > 1;
    const Dtype* top_mask = mask_top ? top[1]->cpu_data() : nullptr;
    ParallelFor(
        planes, size_t(planes) * in_plane,
        [&](int begin, int end, int) {
          for (int plane = begin; plane < end; ++plane) {
            Dtype* dxp = dx + size_t(plane) * in_plane;
            const Dtype* dyp = dy + size_t(plane) * out_plane;
            std::fill(dxp, dxp + in_plane, Dtype(0));
            if (pool_ == PoolingParameter::MAX) {
              const size_t first = size_t(plane) * out_plane;
              for (int i = 0; i < out_plane; ++i) {
                const int index =
                    mask_top ? static_cast<int>(top_mask[first + i]) : max_idx_[first + i];
                // A window of NaNs selects nothing and passes no gradient.
                if (index >= 0) dxp[index] += dyp[i];
              }
              continue;
            }
            for (int ph = 0; ph < pooled_height_; ++ph) {
              const AveWindow hw = AveWindowAxis(ph, stride_h_, pad_h_, kernel_h_, height_);
              for (int pw = 0; pw < pooled_width_; ++pw, ++dyp) {
                const AveWindow ww = AveWindowAxis(pw, stride_w_, pad_w_, kernel_w_, width_);
                const int pool_size = hw.size * ww.size;
                const Dtype share = *dyp / pool_size;
                for (int h = hw.start; h < hw.end; ++h) {
                  for (int w = ww.start; w < ww.end; ++w) dxp[h * width_ + w] += share;
                }
              }
            }
          }
        },
        kParallelInputs);
    return;
  }
  cpu_set<Dtype>(bottom[0]->count(), Dtype(0), dx);
  if (this->phase() == TRAIN) {
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
