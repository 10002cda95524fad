#include "layers/im2col.hpp"

#include "layer_registry.hpp"

namespace moka {
namespace {

/// One per-axis setting of convolution_param: the repeated field given once or once per spatial
/// axis, or the 2-D-only _h/_w pair (one of the pair missing reads as 0, as in Caffe: a kernel or
/// stride of 0 is refused below, a pad of 0 is fine); `fallback` < 0 marks a required setting.
std::vector<int> AxisSetting(const char* name,
                             const google::protobuf::RepeatedField<uint32_t>& values, bool has_h,
                             uint32_t h, bool has_w, uint32_t w, int axes, int fallback) {
  if (has_h || has_w) {
    MOKA_CHECK(
        axes == 2, ConfigError,
        name << "_h and " << name << "_w apply only to 2 spatial axes, the input has " << axes);
    MOKA_CHECK(values.empty(), ConfigError,
               "give either " << name << " or " << name << "_h/" << name << "_w, not both");
    return {static_cast<int>(h), static_cast<int>(w)};
  }
  const int given = values.size();
  if (given == 0 && fallback >= 0) return std::vector<int>(axes, fallback);
  MOKA_CHECK(given == 1 || given == axes, ConfigError,
             name << " must be given once or once per spatial axis (" << axes << "), got " << given
                  << " value(s)");
  std::vector<int> result(axes);
  for (int i = 0; i < axes; ++i) result[i] = static_cast<int>(values.Get(given == 1 ? 0 : i));
  return result;
}

}  // namespace

template <typename Dtype>
void Im2colLayer<Dtype>::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  const ConvolutionParameter& param = this->layer_param_.convolution_param();
  force_nd_im2col_ = param.force_nd_im2col();
  channel_axis_ = bottom[0]->CanonicalAxisIndex(param.axis());
  num_spatial_axes_ = bottom[0]->num_axes() - channel_axis_ - 1;
  MOKA_CHECK(num_spatial_axes_ >= 1, ShapeError,
             "needs at least one spatial axis after channel axis "
                 << channel_axis_ << ", bottom shape " << bottom[0]->shape_string());
  kernel_shape_ = AxisSetting("kernel", param.kernel_size(), param.has_kernel_h(), param.kernel_h(),
                              param.has_kernel_w(), param.kernel_w(), num_spatial_axes_, -1);
  stride_ = AxisSetting("stride", param.stride(), param.has_stride_h(), param.stride_h(),
                        param.has_stride_w(), param.stride_w(), num_spatial_axes_, 1);
  pad_ = AxisSetting("pad", param.pad(), param.has_pad_h(), param.pad_h(), param.has_pad_w(),
                     param.pad_w(), num_spatial_axes_, 0);
  dilation_ = AxisSetting("dilation", param.dilation(), false, 0, false, 0, num_spatial_axes_, 1);
  for (int i = 0; i < num_spatial_axes_; ++i) {
    MOKA_CHECK(kernel_shape_[i] > 0, ConfigError, "kernel size must be positive on every axis");
    MOKA_CHECK(stride_[i] > 0, ConfigError, "stride must be positive on every axis");
    MOKA_CHECK(dilation_[i] > 0, ConfigError, "dilation must be positive on every axis");
  }
}

template <typename Dtype>
void Im2colLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  MOKA_CHECK(bottom[0]->num_axes() == channel_axis_ + 1 + num_spatial_axes_, ShapeError,
             "the bottom must keep its " << channel_axis_ + 1 + num_spatial_axes_
                                         << " axes, got shape " << bottom[0]->shape_string());
  std::vector<int> top_shape = bottom[0]->shape();
  channels_ = bottom[0]->shape(channel_axis_);
  im_shape_.assign(1, channels_);
  col_shape_.assign(1, channels_);
  for (int i = 0; i < num_spatial_axes_; ++i) {
    const int axis = channel_axis_ + 1 + i;
    const int input = bottom[0]->shape(axis);
    const int extent = dilation_[i] * (kernel_shape_[i] - 1) + 1;
    const int output = (input + 2 * pad_[i] - extent) / stride_[i] + 1;
    MOKA_CHECK(input + 2 * pad_[i] >= extent && output > 0, ShapeError,
               "the kernel (extent " << extent << " with dilation) does not fit spatial axis " << i
                                     << " of the bottom of shape " << bottom[0]->shape_string()
                                     << " padded by " << pad_[i]);
    top_shape[channel_axis_] *= kernel_shape_[i];
    top_shape[axis] = output;
    im_shape_.push_back(input);
    col_shape_.push_back(output);
  }
  col_shape_[0] = top_shape[channel_axis_];
  top[0]->Reshape(top_shape);
  num_ = bottom[0]->count(0, channel_axis_);
  bottom_dim_ = bottom[0]->count(channel_axis_);
  top_dim_ = top[0]->count(channel_axis_);
#ifdef MOKA_CUDA
  if (this->context().on_gpu()) {
    MOKA_CHECK(num_spatial_axes_ <= kMaxConvAxesGpu, ConfigError,
               "the GPU im2col handles at most " << kMaxConvAxesGpu << " spatial axes, got "
                                                 << num_spatial_axes_);
    geometry_ = ConvGeometryGpu();
    geometry_.num_axes = num_spatial_axes_;
    geometry_.channels = channels_;
    for (int i = 0; i < num_spatial_axes_; ++i) {
      geometry_.im_shape[i] = im_shape_[i + 1];
      geometry_.col_shape[i] = col_shape_[i + 1];
      geometry_.kernel[i] = kernel_shape_[i];
      geometry_.pad[i] = pad_[i];
      geometry_.stride[i] = stride_[i];
      geometry_.dilation[i] = dilation_[i];
    }
  }
#endif
}

template <typename Dtype>
void Im2colLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  const Dtype* x = bottom[0]->cpu_data();
  Dtype* y = top[0]->mutable_cpu_data();
  for (int n = 0; n < num_; ++n) {
    if (use_2d()) {
      Im2col(x + n * bottom_dim_, channels_, im_shape_[1], im_shape_[2], kernel_shape_[0],
             kernel_shape_[1], pad_[0], pad_[1], stride_[0], stride_[1], dilation_[0], dilation_[1],
             y + n * top_dim_);
    } else {
      Im2colNd(x + n * bottom_dim_, num_spatial_axes_, im_shape_.data(), col_shape_.data(),
               kernel_shape_.data(), pad_.data(), stride_.data(), dilation_.data(),
               y + n * top_dim_);
    }
  }
}

template <typename Dtype>
void Im2colLayer<Dtype>::Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                      const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const Dtype* dy = top[0]->cpu_diff();
  Dtype* dx = bottom[0]->mutable_cpu_diff();
  for (int n = 0; n < num_; ++n) {
    if (use_2d()) {
      Col2im(dy + n * top_dim_, channels_, im_shape_[1], im_shape_[2], kernel_shape_[0],
             kernel_shape_[1], pad_[0], pad_[1], stride_[0], stride_[1], dilation_[0], dilation_[1],
             dx + n * bottom_dim_);
    } else {
      Col2imNd(dy + n * top_dim_, num_spatial_axes_, im_shape_.data(), col_shape_.data(),
               kernel_shape_.data(), pad_.data(), stride_.data(), dilation_.data(),
               dx + n * bottom_dim_);
    }
  }
}

MOKA_INSTANTIATE_CLASS(Im2colLayer);
MOKA_REGISTER_LAYER(Im2col);

}  // namespace moka
