#include "layers/depthwise_conv.hpp"

#include <algorithm>
#include <cstddef>
#include <vector>

namespace moka {
namespace {

/// The outputs o in [*first, *last) whose input index o * stride + offset lies in [0, size).
inline void TapRange(int offset, int stride, int size, int outputs, int* first, int* last) {
  const int lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  const int hi = size - offset <= 0 ? 0 : (size - 1 - offset) / stride + 1;
  *first = std::min(lo, outputs);
  *last = std::max(*first, std::min(hi, outputs));
}

// Row kernels. The stride-1 loops are kept apart so that the compiler vectorises them.

/// y[o] += w * x[o * stride + offset] for o in [first, last).
template <typename Dtype>
inline void RowAxpy(const Dtype* __restrict x, int stride, int offset, Dtype w, int first, int last,
                    Dtype* __restrict y) {
  if (stride == 1) {
    const Dtype* __restrict xs = x + offset;
    for (int o = first; o < last; ++o) y[o] += w * xs[o];
  } else {
    for (int o = first; o < last; ++o) y[o] += w * x[o * stride + offset];
  }
}

/// x[o * stride + offset] += w * y[o] for o in [first, last): the adjoint of RowAxpy.
template <typename Dtype>
inline void RowScatter(const Dtype* __restrict y, int stride, int offset, Dtype w, int first,
                       int last, Dtype* __restrict x) {
  if (stride == 1) {
    Dtype* __restrict xs = x + offset;
    for (int o = first; o < last; ++o) xs[o] += w * y[o];
  } else {
    for (int o = first; o < last; ++o) x[o * stride + offset] += w * y[o];
  }
}

/// sum of y[o] * x[o * stride + offset] over [first, last), with four running sums so that the
/// additions do not form one dependent chain.
template <typename Dtype>
inline Dtype RowDot(const Dtype* __restrict y, const Dtype* __restrict x, int stride, int offset,
                    int first, int last) {
  Dtype s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int o = first;
  if (stride == 1) {
    const Dtype* xs = x + offset;
    for (; o + 4 <= last; o += 4) {
      s0 += y[o] * xs[o];
      s1 += y[o + 1] * xs[o + 1];
      s2 += y[o + 2] * xs[o + 2];
      s3 += y[o + 3] * xs[o + 3];
    }
    for (; o < last; ++o) s0 += y[o] * xs[o];
  } else {
    for (; o + 4 <= last; o += 4) {
      s0 += y[o] * x[o * stride + offset];
      s1 += y[o + 1] * x[(o + 1) * stride + offset];
      s2 += y[o + 2] * x[(o + 2) * stride + offset];
      s3 += y[o + 3] * x[(o + 3) * stride + offset];
    }
    for (; o < last; ++o) s0 += y[o] * x[o * stride + offset];
  }
  return (s0 + s2) + (s1 + s3);
}

template <typename Dtype>
Dtype PlaneSum(const Dtype* v, int n) {
  Dtype s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += v[i];
    s1 += v[i + 1];
    s2 += v[i + 2];
    s3 += v[i + 3];
  }
  for (; i < n; ++i) s0 += v[i];
  return (s0 + s2) + (s1 + s3);
}

/// Calls fn(output row oh, kernel row kh, input row ih) for every kernel row that reads inside the
/// input, in order of oh, then kh.
template <typename Fn>
inline void ForEachValidRow(const DepthwiseGeometry& g, Fn&& fn) {
  for (int oh = 0; oh < g.out_height; ++oh) {
    const int base = oh * g.stride_h - g.pad_h;
    for (int kh = 0; kh < g.kernel_h; ++kh) {
      const int ih = base + kh * g.dilation_h;
      if (ih < 0 || ih >= g.height) continue;
      fn(oh, kh, ih);
    }
  }
}

/// A per-thread buffer of at least n values, kept between calls (one per slot and type).
template <typename Dtype, int Slot>
Dtype* Scratch(size_t n) {
  thread_local std::vector<Dtype> buffer;
  if (buffer.size() < n) buffer.resize(n);
  return buffer.data();
}

/// A zero-padded copy of a plane, (h + 2 ph) x (w + 2 pw), from which the fixed-size kernels
/// below read every tap without a bounds check. For horizontal stride 2 its even and odd columns
/// are kept apart, in two planes of `row` values a row, so that the outputs of a row read
/// consecutive values there too (and the loops vectorise).
template <typename Dtype>
struct PaddedPlane {
  Dtype* part[2];
  int rows;
  int row;
  bool split;

  /// The value read by output column 0 through padded row r, column offset o; output column ow
  /// reads the value ow * step further on (step 1 when split or for stride 1).
  Dtype* At(int r, int o) const {
    return split ? part[o & 1] + r * row + (o >> 1) : part[0] + r * row + o;
  }
  size_t count() const { return static_cast<size_t>(rows) * row * (split ? 2 : 1); }
};

/// A padded plane of g's input in the per-thread buffer Slot (contents undefined). It holds every
/// tap read, even those of a kernel that overhangs the padded input (an input shorter than the
/// kernel's extent still makes one output).
template <typename Dtype, int Slot>
PaddedPlane<Dtype> MakePadded(const DepthwiseGeometry& g) {
  const int hp = std::max(g.height + 2 * g.pad_h,
                          (g.out_height - 1) * g.stride_h + g.dilation_h * (g.kernel_h - 1) + 1);
  const int wp = std::max(g.width + 2 * g.pad_w,
                          (g.out_width - 1) * g.stride_w + g.dilation_w * (g.kernel_w - 1) + 1);
  PaddedPlane<Dtype> plane;
  plane.split = g.stride_w == 2;
  plane.rows = hp;
  plane.row = plane.split ? (wp + 1) / 2 : wp;
  const size_t part = static_cast<size_t>(hp) * plane.row;
  plane.part[0] = Scratch<Dtype, Slot>(plane.count());
  plane.part[1] = plane.split ? plane.part[0] + part : plane.part[0];
  return plane;
}

template <typename Dtype>
void PadInto(const DepthwiseGeometry& g, const Dtype* x, const PaddedPlane<Dtype>& plane) {
  std::fill(plane.part[0], plane.part[0] + plane.count(), Dtype(0));
  for (int r = 0; r < g.height; ++r, x += g.width) {
    if (!plane.split) {
      std::copy(x, x + g.width, plane.At(r + g.pad_h, g.pad_w));
      continue;
    }
    // Input column c lands in padded column c + pad_w: the columns of one parity go to one part.
    for (int parity = 0; parity < 2; ++parity) {
      const int c0 = (parity + g.pad_w) & 1;  // first c with c + pad_w of this parity
      Dtype* dst = plane.At(r + g.pad_h, c0 + g.pad_w);
      for (int c = c0, k = 0; c < g.width; c += 2, ++k) dst[k] = x[c];
    }
  }
}

// Kernels over a padded plane for a KH x KW kernel and horizontal stride SW (0: any): the
// MobileNet shapes. Outputs sit side by side in the inner loops.

/// Each output adds the bias, then the taps in (kh, kw) order.
template <typename Dtype, int KH, int KW, int SW>
void ForwardPadded(const DepthwiseGeometry& g, const PaddedPlane<Dtype>& xp, const Dtype* w,
                   Dtype bias, Dtype* y) {
  const int step = SW > 0 ? 1 : g.stride_w;
  constexpr int kTaps = KH * KW;
  Dtype wk[kTaps];
  for (int i = 0; i < kTaps; ++i) wk[i] = w[i];
  for (int oh = 0; oh < g.out_height; ++oh) {
    const Dtype* taps[kTaps];
    for (int kh = 0; kh < KH; ++kh) {
      for (int kw = 0; kw < KW; ++kw) {
        taps[kh * KW + kw] = xp.At(oh * g.stride_h + kh * g.dilation_h, kw * g.dilation_w);
      }
    }
    Dtype* __restrict y_row = y + oh * g.out_width;
    for (int ow = 0; ow < g.out_width; ++ow) {
      Dtype acc = bias;
      for (int i = 0; i < kTaps; ++i) acc += wk[i] * taps[i][ow * step];
      y_row[ow] = acc;
    }
  }
}

/// Adds the plane's weight gradient to dw. Each tap is a dot product of dy with a shifted view of
/// the input, summed one tap at a time in kLanes running sums (a vector's worth, kept in
/// registers).
template <typename Dtype, int KH, int KW, int SW>
void WeightPadded(const DepthwiseGeometry& g, const PaddedPlane<Dtype>& xp, const Dtype* dy,
                  Dtype* dw) {
  const int step = SW > 0 ? 1 : g.stride_w;
  constexpr int kTaps = KH * KW;
  constexpr int kLanes = 8;
  Dtype lanes[kTaps][kLanes] = {};
  if (g.out_width < 4 * kLanes) {
    // Rows this short leave the dot products mostly remainder: take every tap of an output at
    // once instead, in kLanes / 2 outputs side by side.
    constexpr int kNarrow = kLanes / 2;
    for (int oh = 0; oh < g.out_height; ++oh) {
      const Dtype* taps[kTaps];
      for (int kh = 0; kh < KH; ++kh) {
        for (int kw = 0; kw < KW; ++kw) {
          taps[kh * KW + kw] = xp.At(oh * g.stride_h + kh * g.dilation_h, kw * g.dilation_w);
        }
      }
      const Dtype* dy_row = dy + oh * g.out_width;
      int ow = 0;
      for (; ow + kNarrow <= g.out_width; ow += kNarrow) {
        for (int i = 0; i < kTaps; ++i) {
          for (int j = 0; j < kNarrow; ++j) {
            lanes[i][j] += dy_row[ow + j] * taps[i][(ow + j) * step];
          }
        }
      }
      for (; ow < g.out_width; ++ow) {
        for (int i = 0; i < kTaps; ++i) lanes[i][kNarrow] += dy_row[ow] * taps[i][ow * step];
      }
    }
  } else {
    for (int oh = 0; oh < g.out_height; ++oh) {
      const Dtype* __restrict dy_row = dy + oh * g.out_width;
      for (int kh = 0; kh < KH; ++kh) {
        for (int kw = 0; kw < KW; ++kw) {
          const Dtype* __restrict tap =
              xp.At(oh * g.stride_h + kh * g.dilation_h, kw * g.dilation_w);
          Dtype sums[kLanes] = {};
          int ow = 0;
          for (; ow + kLanes <= g.out_width; ow += kLanes) {
            for (int j = 0; j < kLanes; ++j) sums[j] += dy_row[ow + j] * tap[(ow + j) * step];
          }
          for (int j = 0; ow < g.out_width; ++ow, ++j) sums[j] += dy_row[ow] * tap[ow * step];
          Dtype* tap_lanes = lanes[kh * KW + kw];
          for (int j = 0; j < kLanes; ++j) tap_lanes[j] += sums[j];
        }
      }
    }
  }
  for (int i = 0; i < kTaps; ++i) {
    const Dtype* l = lanes[i];
    dw[i] += ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]));
  }
}

/// Scatters the plane's input gradient into dxp (zeroed beforehand).
template <typename Dtype, int KH, int KW, int SW>
void BackwardDataPadded(const DepthwiseGeometry& g, const Dtype* dy, const Dtype* w,
                        const PaddedPlane<Dtype>& dxp) {
  const int step = SW > 0 ? 1 : g.stride_w;
  for (int oh = 0; oh < g.out_height; ++oh) {
    const Dtype* __restrict dy_row = dy + oh * g.out_width;
    for (int kh = 0; kh < KH; ++kh) {
      for (int kw = 0; kw < KW; ++kw) {
        Dtype* __restrict out = dxp.At(oh * g.stride_h + kh * g.dilation_h, kw * g.dilation_w);
        const Dtype wv = w[kh * KW + kw];
        for (int ow = 0; ow < g.out_width; ++ow) out[ow * step] += wv * dy_row[ow];
      }
    }
  }
}

/// Which fixed-size kernel serves g: 0 none (the general row loops), else KH * 10 + SW (SW 0:
/// any stride).
int FixedKernel(const DepthwiseGeometry& g) {
  const bool square3 = g.kernel_h == 3 && g.kernel_w == 3;
  const bool square5 = g.kernel_h == 5 && g.kernel_w == 5;
  if (!square3 && !square5) return 0;
  return g.kernel_h * 10 + (g.stride_w <= 2 ? g.stride_w : 0);
}

template <typename Dtype>
void ForwardPlane(const DepthwiseGeometry& g, const Dtype* x, const Dtype* w, Dtype bias,
                  Dtype* y) {
  const int fixed = FixedKernel(g);
  if (fixed != 0) {
    const PaddedPlane<Dtype> xp = MakePadded<Dtype, 0>(g);
    PadInto(g, x, xp);
    switch (fixed) {
      case 31:
        return ForwardPadded<Dtype, 3, 3, 1>(g, xp, w, bias, y);
      case 32:
        return ForwardPadded<Dtype, 3, 3, 2>(g, xp, w, bias, y);
      case 30:
        return ForwardPadded<Dtype, 3, 3, 0>(g, xp, w, bias, y);
      case 51:
        return ForwardPadded<Dtype, 5, 5, 1>(g, xp, w, bias, y);
      case 52:
        return ForwardPadded<Dtype, 5, 5, 2>(g, xp, w, bias, y);
      default:
        return ForwardPadded<Dtype, 5, 5, 0>(g, xp, w, bias, y);
    }
  }
  std::fill(y, y + g.out_height * g.out_width, bias);
  ForEachValidRow(g, [&](int oh, int kh, int ih) {
    const Dtype* x_row = x + ih * g.width;
    Dtype* y_row = y + oh * g.out_width;
    for (int kw = 0; kw < g.kernel_w; ++kw) {
      const int offset = kw * g.dilation_w - g.pad_w;
      int first, last;
      TapRange(offset, g.stride_w, g.width, g.out_width, &first, &last);
      RowAxpy(x_row, g.stride_w, offset, w[kh * g.kernel_w + kw], first, last, y_row);
    }
  });
}

template <typename Dtype>
void BackwardDataPlane(const DepthwiseGeometry& g, const Dtype* dy, const Dtype* w, Dtype* dx) {
  // With stride 1 the adjoint is itself a convolution: of dy, by the kernel turned half a turn,
  // padded so that every tap that reached x reaches back, giving the input's size. It then gathers
  // (vectorised) instead of scattering. A pad beyond the kernel's extent would be negative there.
  const int extent_h = g.dilation_h * (g.kernel_h - 1);
  const int extent_w = g.dilation_w * (g.kernel_w - 1);
  const int taps = g.kernel_h * g.kernel_w;
  const int fixed = FixedKernel(g);
  if (fixed != 0 && g.stride_h == 1 && g.stride_w == 1 && g.pad_h <= extent_h &&
      g.pad_w <= extent_w) {
    DepthwiseGeometry adjoint = g;
    adjoint.height = g.out_height;
    adjoint.width = g.out_width;
    adjoint.out_height = g.height;
    adjoint.out_width = g.width;
    adjoint.pad_h = extent_h - g.pad_h;
    adjoint.pad_w = extent_w - g.pad_w;
    Dtype turned[25];
    for (int i = 0; i < taps; ++i) turned[i] = w[taps - 1 - i];
    ForwardPlane(adjoint, dy, turned, Dtype(0), dx);
    return;
  }
  if (fixed != 0) {
    // Scatter into a padded plane, where every tap lands inside, then keep its middle.
    const PaddedPlane<Dtype> dxp = MakePadded<Dtype, 1>(g);
    std::fill(dxp.part[0], dxp.part[0] + dxp.count(), Dtype(0));
    switch (fixed) {
      case 31:
        BackwardDataPadded<Dtype, 3, 3, 1>(g, dy, w, dxp);
        break;
      case 32:
        BackwardDataPadded<Dtype, 3, 3, 2>(g, dy, w, dxp);
        break;
      case 30:
        BackwardDataPadded<Dtype, 3, 3, 0>(g, dy, w, dxp);
        break;
      case 51:
        BackwardDataPadded<Dtype, 5, 5, 1>(g, dy, w, dxp);
        break;
      case 52:
        BackwardDataPadded<Dtype, 5, 5, 2>(g, dy, w, dxp);
        break;
      default:
        BackwardDataPadded<Dtype, 5, 5, 0>(g, dy, w, dxp);
        break;
    }
    for (int ih = 0; ih < g.height; ++ih, dx += g.width) {
      if (!dxp.split) {
        const Dtype* row = dxp.At(ih + g.pad_h, g.pad_w);
        std::copy(row, row + g.width, dx);
        continue;
      }
      for (int parity = 0; parity < 2; ++parity) {
        const int c0 = (parity + g.pad_w) & 1;
        const Dtype* src = dxp.At(ih + g.pad_h, c0 + g.pad_w);
        for (int c = c0, k = 0; c < g.width; c += 2, ++k) dx[c] = src[k];
      }
    }
    return;
  }
  std::fill(dx, dx + g.height * g.width, Dtype(0));
  ForEachValidRow(g, [&](int oh, int kh, int ih) {
    const Dtype* dy_row = dy + oh * g.out_width;
    Dtype* dx_row = dx + ih * g.width;
    for (int kw = 0; kw < g.kernel_w; ++kw) {
      const int offset = kw * g.dilation_w - g.pad_w;
      int first, last;
      TapRange(offset, g.stride_w, g.width, g.out_width, &first, &last);
      RowScatter(dy_row, g.stride_w, offset, w[kh * g.kernel_w + kw], first, last, dx_row);
    }
  });
}

template <typename Dtype>
void WeightPlane(const DepthwiseGeometry& g, const Dtype* x, const Dtype* dy, Dtype* dw) {
  const int fixed = FixedKernel(g);
  if (fixed != 0) {
    const PaddedPlane<Dtype> xp = MakePadded<Dtype, 0>(g);
    PadInto(g, x, xp);
    switch (fixed) {
      case 31:
        return WeightPadded<Dtype, 3, 3, 1>(g, xp, dy, dw);
      case 32:
        return WeightPadded<Dtype, 3, 3, 2>(g, xp, dy, dw);
      case 30:
        return WeightPadded<Dtype, 3, 3, 0>(g, xp, dy, dw);
      case 51:
        return WeightPadded<Dtype, 5, 5, 1>(g, xp, dy, dw);
      case 52:
        return WeightPadded<Dtype, 5, 5, 2>(g, xp, dy, dw);
      default:
        return WeightPadded<Dtype, 5, 5, 0>(g, xp, dy, dw);
    }
  }
  ForEachValidRow(g, [&](int oh, int kh, int ih) {
    const Dtype* dy_row = dy + oh * g.out_width;
    const Dtype* x_row = x + ih * g.width;
    for (int kw = 0; kw < g.kernel_w; ++kw) {
      const int offset = kw * g.dilation_w - g.pad_w;
      int first, last;
      TapRange(offset, g.stride_w, g.width, g.out_width, &first, &last);
      dw[kh * g.kernel_w + kw] += RowDot(dy_row, x_row, g.stride_w, offset, first, last);
    }
  });
}

}  // namespace

template <typename Dtype>
void DepthwiseForward(const DepthwiseGeometry& g, int plane_begin, int plane_end,
                      const Dtype* input, const Dtype* weights, const Dtype* bias, Dtype* output) {
  const long in_plane = static_cast<long>(g.height) * g.width;
  const long out_plane = static_cast<long>(g.out_height) * g.out_width;
  const int kernel = g.kernel_h * g.kernel_w;
  for (int p = plane_begin; p < plane_end; ++p) {
    const int c = p % g.channels;
    ForwardPlane(g, input + p * in_plane, weights + c * kernel,
                 bias != nullptr ? bias[c] : Dtype(0), output + p * out_plane);
  }
}

template <typename Dtype>
void DepthwiseBackward(const DepthwiseGeometry& g, int images, int channel_begin, int channel_end,
                       const Dtype* input, const Dtype* output_diff, const Dtype* weights,
                       Dtype* weight_diff, Dtype* bias_diff, Dtype* input_diff) {
  const long in_plane = static_cast<long>(g.height) * g.width;
  const long out_plane = static_cast<long>(g.out_height) * g.out_width;
  const int kernel = g.kernel_h * g.kernel_w;
  for (int c = channel_begin; c < channel_end; ++c) {
    for (int n = 0; n < images; ++n) {
      const long p = static_cast<long>(n) * g.channels + c;
      const Dtype* dy = output_diff + p * out_plane;
      if (bias_diff != nullptr) bias_diff[c] += PlaneSum(dy, static_cast<int>(out_plane));
      if (weight_diff != nullptr) {
        WeightPlane(g, input + p * in_plane, dy, weight_diff + c * kernel);
      }
      if (input_diff != nullptr) {
        BackwardDataPlane(g, dy, weights + c * kernel, input_diff + p * in_plane);
      }
    }
  }
}

#define MOKA_INSTANTIATE_DEPTHWISE(Dtype)                                                       \
  template void DepthwiseForward<Dtype>(const DepthwiseGeometry&, int, int, const Dtype*,       \
                                        const Dtype*, const Dtype*, Dtype*);                    \
  template void DepthwiseBackward<Dtype>(const DepthwiseGeometry&, int, int, int, const Dtype*, \
                                         const Dtype*, const Dtype*, Dtype*, Dtype*, Dtype*)
MOKA_INSTANTIATE_DEPTHWISE(float);
MOKA_INSTANTIATE_DEPTHWISE(double);
#undef MOKA_INSTANTIATE_DEPTHWISE

}  // namespace moka
