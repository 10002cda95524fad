#pragma once
// im2col unrolls every receptive field of an image into a column, so that a convolution becomes
// one matrix product; col2im is its adjoint (it sums the columns back into the image).
//
// Column layout, for C channels and a kernel of k_1 x ... x k_d: row r = (c, i_1, ..., i_d) in
// row-major order (so C * k_1 * ... * k_d rows), and each row holds one value per output position,
// again in row-major order. The input position read for kernel offset i and output position o on
// spatial axis a is o * stride_a - pad_a + i * dilation_a; positions outside the image read zero.
// The output size on each axis is (in + 2 * pad - (dilation * (k - 1) + 1)) / stride + 1.
//
// col_row_stride is the distance between consecutive column rows. By default (< 0) it is one
// image's output count, a dense buffer; a batched convolution passes images * outputs and an
// offset data_col, so that several images' columns sit side by side in each row and one matrix
// product covers them all.

namespace moka {

/// 2-D im2col: data_im is (channels, height, width); data_col is
/// (channels * kernel_h * kernel_w, out_h * out_w).
template <typename Dtype>
void Im2col(const Dtype* data_im, int channels, int height, int width, int kernel_h, int kernel_w,
            int pad_h, int pad_w, int stride_h, int stride_w, int dilation_h, int dilation_w,
            Dtype* data_col, int col_row_stride = -1);

/// 2-D col2im: overwrites data_im with the sum of every column entry that reads from it.
template <typename Dtype>
void Col2im(const Dtype* data_col, int channels, int height, int width, int kernel_h, int kernel_w,
            int pad_h, int pad_w, int stride_h, int stride_w, int dilation_h, int dilation_w,
            Dtype* data_im, int col_row_stride = -1);

/// N-D im2col over num_spatial_axes axes. im_shape is (channels, in_1, ..., in_d) and col_shape is
/// (channels * k_1 * ... * k_d, out_1, ..., out_d); kernel_shape, pad, stride and dilation have one
/// entry per spatial axis.
template <typename Dtype>
void Im2colNd(const Dtype* data_im, int num_spatial_axes, const int* im_shape, const int* col_shape,
              const int* kernel_shape, const int* pad, const int* stride, const int* dilation,
              Dtype* data_col, int col_row_stride = -1);

/// N-D col2im, the adjoint of Im2colNd: overwrites data_im.
template <typename Dtype>
void Col2imNd(const Dtype* data_col, int num_spatial_axes, const int* im_shape,
              const int* col_shape, const int* kernel_shape, const int* pad, const int* stride,
              const int* dilation, Dtype* data_im, int col_row_stride = -1);

}  // namespace moka
