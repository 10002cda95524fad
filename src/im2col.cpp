#include "im2col.hpp"

#include <algorithm>
#include <array>

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
            Dtype* data_col, int col_row_stride) {
  const int out_h = OutputSize(height, kernel_h, pad_h, stride_h, dilation_h);
  const int out_w = OutputSize(width, kernel_w, pad_w, stride_w, dilation_w);
  const int row_stride = col_row_stride < 0 ? out_h * out_w : col_row_stride;
  const int image_size = height * width;
  for (int c = 0; c < channels; ++c, data_im += image_size) {
    for (int kh = 0; kh < kernel_h; ++kh) {
      const int h_offset = kh * dilation_h - pad_h;
      int oh_lo, oh_hi;
      ValidRange(height, out_h, h_offset, stride_h, &oh_lo, &oh_hi);
      for (int kw = 0; kw < kernel_w; ++kw, data_col += row_stride) {
        const int w_offset = kw * dilation_w - pad_w;
        int ow_lo, ow_hi;
        ValidRange(width, out_w, w_offset, stride_w, &ow_lo, &ow_hi);
        // Output rows that read only padding are zero; so are the padded ends of the others.
        std::fill(data_col, data_col + oh_lo * out_w, Dtype(0));
        std::fill(data_col + oh_hi * out_w, data_col + out_h * out_w, Dtype(0));
        Dtype* dst = data_col + oh_lo * out_w;
        // Index of the input read by output (oh, ow = 0); ow_lo keeps every read inside.
        int src = (oh_lo * stride_h + h_offset) * width + w_offset;
        const int src_step = stride_h * width;
        if (stride_w == 1 && ow_lo == 0 && ow_hi == out_w) {
          for (int oh = oh_lo; oh < oh_hi; ++oh, dst += out_w, src += src_step) {
            const Dtype* __restrict__ in = data_im + src;
            Dtype* __restrict__ out = dst;
            for (int ow = 0; ow < out_w; ++ow) out[ow] = in[ow];
          }
          continue;
        }
        for (int oh = oh_lo; oh < oh_hi; ++oh, dst += out_w, src += src_step) {
          std::fill(dst, dst + ow_lo, Dtype(0));
          for (int ow = ow_lo; ow < ow_hi; ++ow) dst[ow] = data_im[src + ow * stride_w];
          std::fill(dst + ow_hi, dst + out_w, Dtype(0));
        }
      }
    }
  }
}

template <typename Dtype>
void Col2im(const Dtype* data_col, int channels, int height, int width, int kernel_h, int kernel_w,
            int pad_h, int pad_w, int stride_h, int stride_w, int dilation_h, int dilation_w,
            Dtype* data_im, int col_row_stride) {
  const int out_h = OutputSize(height, kernel_h, pad_h, stride_h, dilation_h);
  const int out_w = OutputSize(width, kernel_w, pad_w, stride_w, dilation_w);
  const int row_stride = col_row_stride < 0 ? out_h * out_w : col_row_stride;
  const int image_size = height * width;
  std::fill(data_im, data_im + channels * image_size, Dtype(0));
  for (int c = 0; c < channels; ++c, data_im += image_size) {
    for (int kh = 0; kh < kernel_h; ++kh) {
      const int h_offset = kh * dilation_h - pad_h;
      int oh_lo, oh_hi;
      ValidRange(height, out_h, h_offset, stride_h, &oh_lo, &oh_hi);
      for (int kw = 0; kw < kernel_w; ++kw, data_col += row_stride) {
        const int w_offset = kw * dilation_w - pad_w;
        int ow_lo, ow_hi;
        ValidRange(width, out_w, w_offset, stride_w, &ow_lo, &ow_hi);
        const Dtype* src = data_col + oh_lo * out_w;
        int dst = (oh_lo * stride_h + h_offset) * width + w_offset;
        const int dst_step = stride_h * width;
        if (stride_w == 1) {
          for (int oh = oh_lo; oh < oh_hi; ++oh, src += out_w, dst += dst_step) {
            Dtype* __restrict__ out = data_im + dst + ow_lo;
            const Dtype* __restrict__ in = src + ow_lo;
            for (int ow = 0; ow < ow_hi - ow_lo; ++ow) out[ow] += in[ow];
          }
          continue;
        }
        for (int oh = oh_lo; oh < oh_hi; ++oh, src += out_w, dst += dst_step) {
          for (int ow = ow_lo; ow < ow_hi; ++ow) data_im[dst + ow * stride_w] += src[ow];
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
                        const int* dilation, int col_row_stride, Visit visit) {
  const int d = num_spatial_axes;
  int kernel_size = 1;
  int out_size = 1;
  for (int a = 0; a < d; ++a) {
    kernel_size *= kernel_shape[a];
    out_size *= col_shape[a + 1];
  }
  const int rows = col_shape[0];
  const int row_stride = col_row_stride < 0 ? out_size : col_row_stride;
  // Fixed-size index arrays keep the unrolling free of heap allocation.
  std::array<int, kMaxBlobAxes> kernel_index{}, out_index{};
  for (int r = 0; r < rows; ++r) {
    int rest = r % kernel_size;
    for (int a = d - 1; a >= 0; --a) {
      kernel_index[a] = rest % kernel_shape[a];
      rest /= kernel_shape[a];
    }
    const int channel = r / kernel_size;
    std::fill(out_index.begin(), out_index.begin() + d, 0);
    int col = r * row_stride;
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
              Dtype* data_col, int col_row_stride) {
  ForEachColumnEntry(num_spatial_axes, im_shape, col_shape, kernel_shape, pad, stride, dilation,
                     col_row_stride,
                     [&](int col, int im) { data_col[col] = im >= 0 ? data_im[im] : Dtype(0); });
}

template <typename Dtype>
void Col2imNd(const Dtype* data_col, int num_spatial_axes, const int* im_shape,
              const int* col_shape, const int* kernel_shape, const int* pad, const int* stride,
              const int* dilation, Dtype* data_im, int col_row_stride) {
  int im_count = 1;
  for (int a = 0; a <= num_spatial_axes; ++a) im_count *= im_shape[a];
  std::fill(data_im, data_im + im_count, Dtype(0));
  ForEachColumnEntry(num_spatial_axes, im_shape, col_shape, kernel_shape, pad, stride, dilation,
                     col_row_stride, [&](int col, int im) {
                       if (im >= 0) data_im[im] += data_col[col];
                     });
}

#define MOKA_INSTANTIATE_IM2COL(Dtype)                                                             \
  template void Im2col<Dtype>(const Dtype*, int, int, int, int, int, int, int, int, int, int, int, \
                              Dtype*, int);                                                        \
  template void Col2im<Dtype>(const Dtype*, int, int, int, int, int, int, int, int, int, int, int, \
                              Dtype*, int);                                                        \
  template void Im2colNd<Dtype>(const Dtype*, int, const int*, const int*, const int*, const int*, \
                                const int*, const int*, Dtype*, int);                              \
  template void Col2imNd<Dtype>(const Dtype*, int, const int*, const int*, const int*, const int*, \
                                const int*, const int*, Dtype*, int)

MOKA_INSTANTIATE_IM2COL(float);
MOKA_INSTANTIATE_IM2COL(double);

}  // namespace moka
