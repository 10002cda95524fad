#include "im2col.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "common.hpp"

namespace moka {
namespace {

int OutputSize(int in, int kernel, int pad, int stride, int dilation) {
  return (in + 2 * pad - (dilation * (kernel - 1) + 1)) / stride + 1;
}

/// The output positions o in [0, out) whose input position o * stride + offset lies in [0, in):
/// they form one interval [*lo, *hi), which lets the inner loops run without bounds tests.
void ValidRange(int in, int out, int offset, int stride, int* lo, int* hi) {
  *lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  const int last = in - 1 - offset;
  *hi = last < 0 ? 0 : std::min(out, last / stride + 1);
  *lo = std::min(*lo, out);
  if (*hi < *lo) *hi = *lo;
}

}  // namespace

template <typename Dtype>
void Im2col(const Dtype* data_im, int channels, int height, int width, int kernel_h, int kernel_w,
            int pad_h, int pad_w, int stride_h, int stride_w, int dilation_h, int dilation_w,
            Dtype* data_col) {
  const int out_h = OutputSize(height, kernel_h, pad_h, stride_h, dilation_h);
  const int out_w = OutputSize(width, kernel_w, pad_w, stride_w, dilation_w);
  const int image_size = height * width;
  for (int c = 0; c < channels; ++c, data_im += image_size) {
    for (int kh = 0; kh < kernel_h; ++kh) {
      for (int kw = 0; kw < kernel_w; ++kw) {
        const int w_offset = kw * dilation_w - pad_w;
        int ow_lo, ow_hi;
        ValidRange(width, out_w, w_offset, stride_w, &ow_lo, &ow_hi);
        int ih = kh * dilation_h - pad_h;
        for (int oh = 0; oh < out_h; ++oh, ih += stride_h, data_col += out_w) {
          if (ih < 0 || ih >= height) {
            std::fill(data_col, data_col + out_w, Dtype(0));
            continue;
          }
          std::fill(data_col, data_col + ow_lo, Dtype(0));
          const Dtype* src = data_im + ih * width + w_offset + ow_lo * stride_w;
          if (stride_w == 1) {
            std::memcpy(data_col + ow_lo, src, sizeof(Dtype) * (ow_hi - ow_lo));
          } else {
            for (int ow = ow_lo; ow < ow_hi; ++ow, src += stride_w) data_col[ow] = *src;
          }
          std::fill(data_col + ow_hi, data_col + out_w, Dtype(0));
        }
      }
    }
  }
}

template <typename Dtype>
void Col2im(const Dtype* data_col, int channels, int height, int width, int kernel_h, int kernel_w,
            int pad_h, int pad_w, int stride_h, int stride_w, int dilation_h, int dilation_w,
            Dtype* data_im) {
  const int out_h = OutputSize(height, kernel_h, pad_h, stride_h, dilation_h);
  const int out_w = OutputSize(width, kernel_w, pad_w, stride_w, dilation_w);
  const int image_size = height * width;
  std::fill(data_im, data_im + channels * image_size, Dtype(0));
  for (int c = 0; c < channels; ++c, data_im += image_size) {
    for (int kh = 0; kh < kernel_h; ++kh) {
      for (int kw = 0; kw < kernel_w; ++kw) {
        const int w_offset = kw * dilation_w - pad_w;
        int ow_lo, ow_hi;
        ValidRange(width, out_w, w_offset, stride_w, &ow_lo, &ow_hi);
        int ih = kh * dilation_h - pad_h;
        for (int oh = 0; oh < out_h; ++oh, ih += stride_h, data_col += out_w) {
          if (ih < 0 || ih >= height) continue;
          Dtype* dst = data_im + ih * width + w_offset + ow_lo * stride_w;
          for (int ow = ow_lo; ow < ow_hi; ++ow, dst += stride_w) *dst += data_col[ow];
        }
      }
    }
  }
}

namespace {

/// Walks every (column row, output position) pair of an N-D unrolling and hands each visitor the
/// column index and the image index (or -1 for padding). im2col and col2im differ only in what
/// they do with that pair.
template <typename Visit>
void ForEachColumnEntry(int num_spatial_axes, const int* im_shape, const int* col_shape,
                        const int* kernel_shape, const int* pad, const int* stride,
                        const int* dilation, Visit visit) {
  const int d = num_spatial_axes;
  int kernel_size = 1;
  int out_size = 1;
  for (int a = 0; a < d; ++a) {
    kernel_size *= kernel_shape[a];
    out_size *= col_shape[a + 1];
  }
  const int rows = col_shape[0];
  // Fixed-size index arrays keep the unrolling free of heap allocation.
  std::array<int, kMaxBlobAxes> kernel_index{}, out_index{};
  int col = 0;
  for (int r = 0; r < rows; ++r) {
    int rest = r % kernel_size;
    for (int a = d - 1; a >= 0; --a) {
      kernel_index[a] = rest % kernel_shape[a];
      rest /= kernel_shape[a];
    }
    const int channel = r / kernel_size;
    std::fill(out_index.begin(), out_index.begin() + d, 0);
    for (int o = 0; o < out_size; ++o, ++col) {
      int im = channel;
      bool inside = true;
      for (int a = 0; a < d; ++a) {
        const int pos = out_index[a] * stride[a] - pad[a] + kernel_index[a] * dilation[a];
        if (pos < 0 || pos >= im_shape[a + 1]) {
          inside = false;
          break;
        }
        im = im * im_shape[a + 1] + pos;
      }
      visit(col, inside ? im : -1);
      for (int a = d - 1; a >= 0; --a) {
        if (++out_index[a] < col_shape[a + 1]) break;
        out_index[a] = 0;
      }
    }
  }
}

}  // namespace

template <typename Dtype>
void Im2colNd(const Dtype* data_im, int num_spatial_axes, const int* im_shape, const int* col_shape,
              const int* kernel_shape, const int* pad, const int* stride, const int* dilation,
              Dtype* data_col) {
  ForEachColumnEntry(num_spatial_axes, im_shape, col_shape, kernel_shape, pad, stride, dilation,
                     [&](int col, int im) { data_col[col] = im >= 0 ? data_im[im] : Dtype(0); });
}

template <typename Dtype>
void Col2imNd(const Dtype* data_col, int num_spatial_axes, const int* im_shape,
              const int* col_shape, const int* kernel_shape, const int* pad, const int* stride,
              const int* dilation, Dtype* data_im) {
  int im_count = 1;
  for (int a = 0; a <= num_spatial_axes; ++a) im_count *= im_shape[a];
  std::fill(data_im, data_im + im_count, Dtype(0));
  ForEachColumnEntry(num_spatial_axes, im_shape, col_shape, kernel_shape, pad, stride, dilation,
                     [&](int col, int im) {
                       if (im >= 0) data_im[im] += data_col[col];
                     });
}

#define MOKA_INSTANTIATE_IM2COL(Dtype)                                                             \
  template void Im2col<Dtype>(const Dtype*, int, int, int, int, int, int, int, int, int, int, int, \
                              Dtype*);                                                             \
  template void Col2im<Dtype>(const Dtype*, int, int, int, int, int, int, int, int, int, int, int, \
                              Dtype*);                                                             \
  template void Im2colNd<Dtype>(const Dtype*, int, const int*, const int*, const int*, const int*, \
                                const int*, const int*, Dtype*);                                   \
  template void Col2imNd<Dtype>(const Dtype*, int, const int*, const int*, const int*, const int*, \
                                const int*, const int*, Dtype*)

MOKA_INSTANTIATE_IM2COL(float);
MOKA_INSTANTIATE_IM2COL(double);

}  // namespace moka
