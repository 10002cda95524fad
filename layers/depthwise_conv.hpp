#pragma once

namespace moka {

/// Geometry of a 2-D depthwise convolution (group == input channels == num_output): every channel
/// plane is convolved with its own kernel,
///   y[n, c, oh, ow] = b[c] + sum_{kh, kw} W[c, kh, kw] * x[n, c, oh*sh - ph + kh*dh, ow*sw - pw +
///   kw*dw],
/// reading zero outside the input. Planes are (height x width) in, (out_height x out_width) out.
struct DepthwiseGeometry {
  int channels = 0;
  int height = 0, width = 0;
  int out_height = 0, out_width = 0;
  int kernel_h = 1, kernel_w = 1;
  int pad_h = 0, pad_w = 0;
  int stride_h = 1, stride_w = 1;
  int dilation_h = 1, dilation_w = 1;
};

/// Forward over the planes [plane_begin, plane_end) of (images x channels); plane p is image
/// p / channels, channel p % channels. `bias` may be null. Planes are independent, so any split of
/// the planes between threads gives the same result.
template <typename Dtype>
void DepthwiseForward(const DepthwiseGeometry& g, int plane_begin, int plane_end,
                      const Dtype* input, const Dtype* weights, const Dtype* bias, Dtype* output);

/// Backward for the channels [channel_begin, channel_end) over all `images`: weight_diff and
/// bias_diff accumulate (images summed in order), input_diff is overwritten; each may be null when
/// not wanted. Channels are independent, so any split of them gives the same result.
template <typename Dtype>
void DepthwiseBackward(const DepthwiseGeometry& g, int images, int channel_begin, int channel_end,
                       const Dtype* input, const Dtype* output_diff, const Dtype* weights,
                       Dtype* weight_diff, Dtype* bias_diff, Dtype* input_diff);

}  // namespace moka
