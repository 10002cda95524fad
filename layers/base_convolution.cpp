#include "layers/base_convolution.hpp"

#include <algorithm>
#include <cstdint>

#include "filler.hpp"
#include "im2col.hpp"
#include "math_functions.hpp"

namespace moka {
namespace {

/// Reads one of the per-axis settings (kernel, stride, pad): either the repeated field, with one
/// value for every spatial axis or one per axis, or the 2-D-only _h/_w pair. `fallback` < 0 means
/// the setting is required.
std::vector<int> SpatialSetting(const char* name,
                                const google::protobuf::RepeatedField<uint32_t>& values, bool has_h,
                                uint32_t h, bool has_w, uint32_t w, int axes, int fallback) {
  if (has_h || has_w) {
    MOKA_CHECK(axes == 2, ConfigError,
               name << "_h & " << name << "_w can only be used for 2-D convolution, the input has "
                    << axes << " spatial axes");
    MOKA_CHECK(values.empty(), ConfigError,
               "either " << name << " or " << name << "_h/" << name << "_w may be given, not both");
    return {static_cast<int>(h), static_cast<int>(w)};
  }
  const int given = values.size();
  if (given == 0 && fallback >= 0) return std::vector<int>(axes, fallback);
  MOKA_CHECK(given == 1 || given == axes, ConfigError,
             name << " must be given once, or once per spatial axis (given " << given << " times; "
                  << axes << " spatial axes)");
  std::vector<int> result(axes);
  for (int i = 0; i < axes; ++i) result[i] = static_cast<int>(values.Get(given == 1 ? 0 : i));
  return result;
}

std::string JoinShape(const std::vector<int>& values) {
  std::string text;
  for (size_t i = 0; i < values.size(); ++i) text += (i ? " x " : "") + std::to_string(values[i]);
  return text;
}

}  // namespace

template <typename Dtype>
void BaseConvolutionLayer<Dtype>::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  const ConvolutionParameter& param = this->layer_param_.convolution_param();
  force_nd_im2col_ = param.force_nd_im2col();
  channel_axis_ = bottom[0]->CanonicalAxisIndex(param.axis());
  num_spatial_axes_ = bottom[0]->num_axes() - channel_axis_ - 1;
  MOKA_CHECK(num_spatial_axes_ >= 1, ShapeError,
             "needs at least one spatial axis after channel axis "
                 << channel_axis_ << ", bottom shape " << bottom[0]->shape_string());

  kernel_shape_ =
      SpatialSetting("kernel", param.kernel_size(), param.has_kernel_h(), param.kernel_h(),
                     param.has_kernel_w(), param.kernel_w(), num_spatial_axes_, -1);
  stride_ = SpatialSetting("stride", param.stride(), param.has_stride_h(), param.stride_h(),
                           param.has_stride_w(), param.stride_w(), num_spatial_axes_, 1);
  pad_ = SpatialSetting("pad", param.pad(), param.has_pad_h(), param.pad_h(), param.has_pad_w(),
                        param.pad_w(), num_spatial_axes_, 0);
  dilation_ =
      SpatialSetting("dilation", param.dilation(), false, 0, false, 0, num_spatial_axes_, 1);
  for (int i = 0; i < num_spatial_axes_; ++i) {
    MOKA_CHECK(kernel_shape_[i] > 0, ConfigError,
               "kernel size must be positive on every axis, got " << JoinShape(kernel_shape_));
    MOKA_CHECK(stride_[i] > 0, ConfigError,
               "stride must be positive on every axis, got " << JoinShape(stride_));
    MOKA_CHECK(dilation_[i] > 0, ConfigError,
               "dilation must be positive on every axis, got " << JoinShape(dilation_));
  }
  is_1x1_ = true;
  for (int i = 0; i < num_spatial_axes_; ++i) {
    is_1x1_ = is_1x1_ && kernel_shape_[i] == 1 && stride_[i] == 1 && pad_[i] == 0;
  }

  channels_ = bottom[0]->shape(channel_axis_);
  num_output_ = static_cast<int>(param.num_output());
  MOKA_CHECK(num_output_ > 0, ConfigError, "num_output must be positive");
  group_ = static_cast<int>(param.group());
  MOKA_CHECK(group_ > 0, ConfigError, "group must be positive");
  MOKA_CHECK(channels_ % group_ == 0, ShapeError,
             "the number of input channels (" << channels_ << ") must be a multiple of group ("
                                              << group_ << "); bottom shape "
                                              << bottom[0]->shape_string());
  MOKA_CHECK(num_output_ % group_ == 0, ConfigError,
             "num_output (" << num_output_ << ") must be a multiple of group (" << group_ << ")");
  if (reverse_dimensions()) {
    conv_out_channels_ = channels_;
    conv_in_channels_ = num_output_;
  } else {
    conv_out_channels_ = num_output_;
    conv_in_channels_ = channels_;
  }
  bias_term_ = param.bias_term();
  CheckOrCreateParams();
  kernel_dim_ = this->blobs_[0]->count(1);
  weight_offset_ = conv_out_channels_ * kernel_dim_ / group_;
  this->param_propagate_down_.assign(this->blobs_.size(), true);
}

template <typename Dtype>
void BaseConvolutionLayer<Dtype>::CheckOrCreateParams() {
  const ConvolutionParameter& param = this->layer_param_.convolution_param();
  std::vector<int> weight_shape = {conv_out_channels_, conv_in_channels_ / group_};
  weight_shape.insert(weight_shape.end(), kernel_shape_.begin(), kernel_shape_.end());
  const std::vector<int> bias_shape = {num_output_};
  const size_t expected = bias_term_ ? 2 : 1;
  if (!this->blobs_.empty()) {
    MOKA_CHECK(this->blobs_.size() == expected, ConfigError,
               "has " << this->blobs_.size() << " parameter blob(s), expected " << expected
                      << " (bias_term " << (bias_term_ ? "true" : "false") << ")");
    const std::vector<int>* shapes[2] = {&weight_shape, &bias_shape};
    for (size_t i = 0; i < expected; ++i) {
      Blob<Dtype>& blob = *this->blobs_[i];
      if (blob.shape() == *shapes[i]) continue;
      int count = 1;
      for (int d : *shapes[i]) count *= d;
      // A legacy 4-D blob (a bias stored as 1 x 1 x 1 x N) holds the same values.
      MOKA_CHECK(blob.count() == count, ShapeError,
                 (i == 0 ? "weight" : "bias") << " blob has shape " << blob.shape_string()
                                              << ", expected " << ShapeString(*shapes[i]));
      blob.Reshape(*shapes[i]);
    }
    return;
  }
  this->blobs_.push_back(std::make_shared<Blob<Dtype>>(weight_shape));
  Fill(param.weight_filler(), this->context().rng(), this->blobs_[0].get());
  if (bias_term_) {
    this->blobs_.push_back(std::make_shared<Blob<Dtype>>(bias_shape));
    Fill(param.bias_filler(), this->context().rng(), this->blobs_[1].get());
  }
}

template <typename Dtype>
void BaseConvolutionLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  MOKA_CHECK(bottom[0]->num_axes() == channel_axis_ + 1 + num_spatial_axes_, ShapeError,
             "the number of bottom axes may not change after setup: expected "
                 << channel_axis_ + 1 + num_spatial_axes_ << ", got shape "
                 << bottom[0]->shape_string());
  MOKA_CHECK(bottom[0]->shape(channel_axis_) == channels_, ShapeError,
             "bottom has " << bottom[0]->shape(channel_axis_) << " channels, the weights expect "
                           << channels_ << "; bottom shape " << bottom[0]->shape_string());
  for (size_t i = 1; i < bottom.size(); ++i) {
    MOKA_CHECK(bottom[i]->shape() == bottom[0]->shape(), ShapeError,
               "all bottoms must have the same shape: bottom 0 is " << bottom[0]->shape_string()
                                                                    << ", bottom " << i << " is "
                                                                    << bottom[i]->shape_string());
  }
  bottom_shape_ = bottom[0]->shape();
  num_ = bottom[0]->count(0, channel_axis_);
  ComputeOutputShape();
  std::vector<int> top_shape(bottom_shape_.begin(), bottom_shape_.begin() + channel_axis_);
  top_shape.push_back(num_output_);
  top_shape.insert(top_shape.end(), output_shape_.begin(), output_shape_.end());
  for (auto* blob : top) blob->Reshape(top_shape);

  const int first_spatial_axis = channel_axis_ + 1;
  conv_out_spatial_dim_ = reverse_dimensions() ? bottom[0]->count(first_spatial_axis)
                                               : top[0]->count(first_spatial_axis);
  col_offset_ = kernel_dim_ * conv_out_spatial_dim_;
  output_offset_ = conv_out_channels_ * conv_out_spatial_dim_ / group_;

  conv_input_shape_.assign(1, conv_in_channels_);
  col_buffer_shape_.assign(1, kernel_dim_ * group_);
  for (int i = 0; i < num_spatial_axes_; ++i) {
    const int in = input_shape(i);
    const int out = output_shape_[i];
    conv_input_shape_.push_back(reverse_dimensions() ? out : in);
    col_buffer_shape_.push_back(reverse_dimensions() ? in : out);
  }
  // A 1x1 convolution multiplies the image itself; the column buffer is never touched.
  if (is_1x1_) {
    col_buffer_.Reshape({0});
  } else {
    col_buffer_.Reshape(col_buffer_shape_);
  }

  bottom_dim_ = bottom[0]->count(channel_axis_);
  top_dim_ = top[0]->count(channel_axis_);
  out_spatial_dim_ = top[0]->count(first_spatial_axis);
  if (bias_term_ && bias_multiplier_.count() != out_spatial_dim_) {
    bias_multiplier_.Reshape({out_spatial_dim_});
    bias_multiplier_.set_data(Dtype(1));
  }
}

template <typename Dtype>
void BaseConvolutionLayer<Dtype>::ConvIm2col(const Dtype* data, Dtype* col) {
  if (!force_nd_im2col_ && num_spatial_axes_ == 2) {
    Im2col(data, conv_in_channels_, conv_input_shape_[1], conv_input_shape_[2], kernel_shape_[0],
           kernel_shape_[1], pad_[0], pad_[1], stride_[0], stride_[1], dilation_[0], dilation_[1],
           col);
  } else {
    Im2colNd(data, num_spatial_axes_, conv_input_shape_.data(), col_buffer_shape_.data(),
             kernel_shape_.data(), pad_.data(), stride_.data(), dilation_.data(), col);
  }
}

template <typename Dtype>
void BaseConvolutionLayer<Dtype>::ConvCol2im(const Dtype* col, Dtype* data) {
  if (!force_nd_im2col_ && num_spatial_axes_ == 2) {
    Col2im(col, conv_in_channels_, conv_input_shape_[1], conv_input_shape_[2], kernel_shape_[0],
           kernel_shape_[1], pad_[0], pad_[1], stride_[0], stride_[1], dilation_[0], dilation_[1],
           data);
  } else {
    Col2imNd(col, num_spatial_axes_, conv_input_shape_.data(), col_buffer_shape_.data(),
             kernel_shape_.data(), pad_.data(), stride_.data(), dilation_.data(), data);
  }
}

template <typename Dtype>
void BaseConvolutionLayer<Dtype>::ForwardGemm(const Dtype* input, const Dtype* weights,
                                              Dtype* output) {
  const Dtype* col = input;
  if (!is_1x1_) {
    ConvIm2col(input, col_buffer_.mutable_cpu_data());
    col = col_buffer_.cpu_data();
  }
  for (int g = 0; g < group_; ++g) {
    cpu_gemm<Dtype>(Trans::kNo, Trans::kNo, conv_out_channels_ / group_, conv_out_spatial_dim_,
                    kernel_dim_, Dtype(1), weights + weight_offset_ * g, col + col_offset_ * g,
                    Dtype(0), output + output_offset_ * g);
  }
}

template <typename Dtype>
void BaseConvolutionLayer<Dtype>::ForwardBias(Dtype* output, const Dtype* bias) {
  cpu_gemm<Dtype>(Trans::kNo, Trans::kNo, num_output_, out_spatial_dim_, 1, Dtype(1), bias,
                  bias_multiplier_.cpu_data(), Dtype(1), output);
}

template <typename Dtype>
void BaseConvolutionLayer<Dtype>::BackwardGemm(const Dtype* output_diff, const Dtype* weights,
                                               Dtype* input_diff) {
  Dtype* col = is_1x1_ ? input_diff : col_buffer_.mutable_cpu_data();
  for (int g = 0; g < group_; ++g) {
    cpu_gemm<Dtype>(Trans::kYes, Trans::kNo, kernel_dim_, conv_out_spatial_dim_,
                    conv_out_channels_ / group_, Dtype(1), weights + weight_offset_ * g,
                    output_diff + output_offset_ * g, Dtype(0), col + col_offset_ * g);
  }
  if (!is_1x1_) ConvCol2im(col, input_diff);
}

template <typename Dtype>
void BaseConvolutionLayer<Dtype>::WeightGemm(const Dtype* input, const Dtype* output_diff,
                                             Dtype* weights_diff) {
  const Dtype* col = input;
  if (!is_1x1_) {
    ConvIm2col(input, col_buffer_.mutable_cpu_data());
    col = col_buffer_.cpu_data();
  }
  for (int g = 0; g < group_; ++g) {
    cpu_gemm<Dtype>(Trans::kNo, Trans::kYes, conv_out_channels_ / group_, kernel_dim_,
                    conv_out_spatial_dim_, Dtype(1), output_diff + output_offset_ * g,
                    col + col_offset_ * g, Dtype(1), weights_diff + weight_offset_ * g);
  }
}

template <typename Dtype>
void BaseConvolutionLayer<Dtype>::BackwardBias(Dtype* bias_diff, const Dtype* output_diff) {
  cpu_gemv<Dtype>(Trans::kNo, num_output_, out_spatial_dim_, Dtype(1), output_diff,
                  bias_multiplier_.cpu_data(), Dtype(1), bias_diff);
}

MOKA_INSTANTIATE_CLASS(BaseConvolutionLayer);

}  // namespace moka
