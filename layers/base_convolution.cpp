#include "layers/base_convolution.hpp"

#include <algorithm>
#include <cstdint>

#include "filler.hpp"
#include "im2col.hpp"
#include "layers/depthwise_conv.hpp"
#include "math_functions.hpp"
#include "task_pool.hpp"

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

/// Sum of n values with eight running sums: a single sum is a chain of dependent additions, which
/// ran the bias-gradient pass at a fraction of memory speed.
template <typename Dtype>
Dtype RowSum(const Dtype* row, int n) {
  Dtype sums[8] = {};
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; ++j) sums[j] += row[i + j];
  }
  for (; i < n; ++i) sums[0] += row[i];
  return ((sums[0] + sums[4]) + (sums[2] + sums[6])) + ((sums[1] + sums[5]) + (sums[3] + sums[7]));
}

/// Moves `images` blocks of (rows x width), stored one image after another, into one
/// (rows x images*width) matrix, image n in columns [n*width, (n+1)*width).
template <typename Dtype>
void ToChannelMajor(const Dtype* src, int images, int rows, int width, Dtype* dst) {
  const int dst_stride = images * width;
  for (int n = 0; n < images; ++n) {
    for (int r = 0; r < rows; ++r, src += width) {
      std::copy(src, src + width, dst + r * dst_stride + n * width);
    }
  }
}

/// The inverse of ToChannelMajor.
template <typename Dtype>
void FromChannelMajor(const Dtype* src, int images, int rows, int width, Dtype* dst) {
  const int src_stride = images * width;
  for (int n = 0; n < images; ++n) {
    for (int r = 0; r < rows; ++r, dst += width) {
      const Dtype* row = src + r * src_stride + n * width;
      std::copy(row, row + width, dst);
    }
  }
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
  bottom_dim_ = bottom[0]->count(channel_axis_);
  top_dim_ = top[0]->count(channel_axis_);
  out_spatial_dim_ = top[0]->count(first_spatial_axis);
  conv_input_dim_ = reverse_dimensions() ? top_dim_ : bottom_dim_;
  PlanBatching();
  if (bias_term_ && bias_multiplier_.count() != out_spatial_dim_) {
    bias_multiplier_.Reshape({out_spatial_dim_});
    bias_multiplier_.set_data(Dtype(1));
  }
}

template <typename Dtype>
void BaseConvolutionLayer<Dtype>::PlanBatching() {
  // One channel is an ordinary convolution, left to the general path.
  depthwise_ = allow_depthwise_ && !reverse_dimensions() && num_spatial_axes_ == 2 && group_ > 1 &&
               group_ == channels_ && num_output_ == channels_;
  winograd_ = false;
  if (!depthwise_) PlanWinograd();
  if (depthwise_ || winograd_) {
    // Both run their own kernels on ThreadsWanted() threads: no im2col tasks, no column buffer.
    batched_ = false;
    chunk_ = tasks_ = runs_ = 1;
    col_buffer_.Reshape({0});
    task_columns_.clear();
    task_products_.clear();
    const int units = depthwise_ ? num_ * channels_ : ThreadsWanted();
    threads_ = std::max(1, std::min(ThreadsWanted(), units));
    return;
  }
  batched_ = batching_ == Batching::kBatched || (batching_ == Batching::kAuto && num_ > 1);
  if (!batched_) {
    chunk_ = tasks_ = runs_ = threads_ = 1;
    // A 1x1 convolution multiplies the image itself; the column buffer is never touched.
    if (is_1x1_) {
      col_buffer_.Reshape({0});
    } else {
      col_buffer_.Reshape(col_buffer_shape_);
    }
    return;
  }
  col_buffer_.Reshape({0});
  // Images per task: enough for products kTargetWidth columns wide, as many as the budget allows.
  const size_t image_column_bytes =
      sizeof(Dtype) * static_cast<size_t>(kernel_dim_) * group_ * conv_out_spatial_dim_;
  const size_t fit = column_budget_ / std::max<size_t>(1, image_column_bytes);
  const size_t wide = (kTargetWidth + conv_out_spatial_dim_ - 1) / conv_out_spatial_dim_;
  const int images = std::max(num_, 1);
  const size_t chunk = requested_chunk_ > 0 ? requested_chunk_ : std::min(fit, wide);
  chunk_ = static_cast<int>(std::clamp<size_t>(chunk, 1, images));
  tasks_ = (images + chunk_ - 1) / chunk_;
  // Even out the tasks: 64 images in chunks of 9 would leave a task of 1.
  chunk_ = (images + tasks_ - 1) / tasks_;
  if (num_ == 0) tasks_ = 0;
  const int threads = ThreadsWanted();
  threads_ = std::max(1, std::min(threads, tasks_));

  const size_t weight_bytes = sizeof(Dtype) * this->blobs_[0]->count();
  const size_t runs = std::max<size_t>(kMinGradientRuns, kPartialBudget / weight_bytes);
  runs_ = static_cast<int>(std::min<size_t>(tasks_, requested_runs_ > 0 ? requested_runs_ : runs));

  // One task's buffers per thread; a task of one image writes its product in place, and a 1x1
  // convolution of one image takes its columns from the image itself.
  const size_t width = static_cast<size_t>(chunk_) * conv_out_spatial_dim_;
  const bool columns = !(is_1x1_ && chunk_ == 1);
  task_columns_.resize(threads_);
  task_products_.resize(threads_);
  for (int slot = 0; slot < threads_; ++slot) {
    task_columns_[slot].resize(columns ? static_cast<size_t>(kernel_dim_) * group_ * width : 0);
    task_products_[slot].resize(chunk_ > 1 ? static_cast<size_t>(conv_out_channels_) * width : 0);
  }
  bias_partials_.resize(static_cast<size_t>(runs_) * conv_out_channels_);
}

template <typename Dtype>
void BaseConvolutionLayer<Dtype>::PlanWinograd() {
  winograd_ = false;
  // engine: CAFFE asks for Caffe's own method, im2col + GEMM, as it does on the GPU.
  const bool caffe_engine =
      this->layer_param_.convolution_param().engine() == ConvolutionParameter::CAFFE;
  if (winograd_use_ == WinogradUse::kNever || caffe_engine || reverse_dimensions() ||
      num_spatial_axes_ != 2 || force_nd_im2col_) {
    return;
  }
  const int kernel = kernel_shape_[0];
  for (int i = 0; i < 2; ++i) {
    // The input gradient's padding, kernel - 1 - pad, must not be negative.
    if (kernel_shape_[i] != kernel || stride_[i] != 1 || dilation_[i] != 1 ||
        pad_[i] > kernel - 1) {
      return;
    }
  }
  WinogradGeometry forward;
  forward.kernel = kernel;
  forward.channels = channels_;
  forward.out_channels = num_output_;
  forward.group = group_;
  forward.height = input_shape(0);
  forward.width = input_shape(1);
  forward.pad_h = pad_[0];
  forward.pad_w = pad_[1];
  forward.out_height = output_shape_[0];
  forward.out_width = output_shape_[1];
  const bool chosen = winograd_use_ == WinogradUse::kWherePossible
                          ? WinogradConvolution<Dtype>::Possible(forward)
                          : WinogradConvolution<Dtype>::Worthwhile(forward);
  if (!chosen) return;
  WinogradGeometry backward = forward;
  backward.channels = num_output_;
  backward.out_channels = channels_;
  backward.height = output_shape_[0];
  backward.width = output_shape_[1];
  backward.pad_h = kernel - 1 - pad_[0];
  backward.pad_w = kernel - 1 - pad_[1];
  backward.out_height = input_shape(0);
  backward.out_width = input_shape(1);
  const int threads = ThreadsWanted();
  winograd_forward_.Reshape(forward, num_, threads);
  winograd_backward_.Reshape(backward, num_, threads);
  winograd_ = true;
}

template <typename Dtype>
std::string BaseConvolutionLayer<Dtype>::engine() const {
  if (depthwise_) {
    return "depthwise(" + std::to_string(threads_) + (threads_ == 1 ? " thread)" : " threads)");
  }
  if (winograd_) {
    const std::string method = kernel_shape_[0] == 3 ? "F(4x4,3x3)" : "F(2x2,5x5)";
    return "winograd " + method + "(" + std::to_string(threads_) +
           (threads_ == 1 ? " thread)" : " threads)");
  }
  const std::string base = is_1x1_ ? "blas-1x1" : "im2col+blas";
  if (!batched_) return base;
  return base + "(batched x" + std::to_string(chunk_) + ", " + std::to_string(threads_) +
         (threads_ == 1 ? " thread)" : " threads)");
}

template <typename Dtype>
void BaseConvolutionLayer<Dtype>::ConvIm2col(const Dtype* data, Dtype* col, int col_row_stride) {
  if (!force_nd_im2col_ && num_spatial_axes_ == 2) {
    Im2col(data, conv_in_channels_, conv_input_shape_[1], conv_input_shape_[2], kernel_shape_[0],
           kernel_shape_[1], pad_[0], pad_[1], stride_[0], stride_[1], dilation_[0], dilation_[1],
           col, col_row_stride);
  } else {
    Im2colNd(data, num_spatial_axes_, conv_input_shape_.data(), col_buffer_shape_.data(),
             kernel_shape_.data(), pad_.data(), stride_.data(), dilation_.data(), col,
             col_row_stride);
  }
}

template <typename Dtype>
void BaseConvolutionLayer<Dtype>::ConvCol2im(const Dtype* col, Dtype* data, int col_row_stride) {
  if (!force_nd_im2col_ && num_spatial_axes_ == 2) {
    Col2im(col, conv_in_channels_, conv_input_shape_[1], conv_input_shape_[2], kernel_shape_[0],
           kernel_shape_[1], pad_[0], pad_[1], stride_[0], stride_[1], dilation_[0], dilation_[1],
           data, col_row_stride);
  } else {
    Col2imNd(col, num_spatial_axes_, conv_input_shape_.data(), col_buffer_shape_.data(),
             kernel_shape_.data(), pad_.data(), stride_.data(), dilation_.data(), data,
             col_row_stride);
  }
}

template <typename Dtype>
void BaseConvolutionLayer<Dtype>::GatherColumns(const Dtype* input, int images, Dtype* col) {
  if (is_1x1_) {
    ToChannelMajor(input, images, conv_in_channels_, conv_out_spatial_dim_, col);
    return;
  }
  const int row_stride = images * conv_out_spatial_dim_;
  for (int n = 0; n < images; ++n) {
    ConvIm2col(input + n * conv_input_dim_, col + n * conv_out_spatial_dim_, row_stride);
  }
}

template <typename Dtype>
void BaseConvolutionLayer<Dtype>::ScatterColumns(const Dtype* col, int images, Dtype* input) {
  if (is_1x1_) {
    FromChannelMajor(col, images, conv_in_channels_, conv_out_spatial_dim_, input);
    return;
  }
  const int row_stride = images * conv_out_spatial_dim_;
  for (int n = 0; n < images; ++n) {
    ConvCol2im(col + n * conv_out_spatial_dim_, input + n * conv_input_dim_, row_stride);
  }
}

template <typename Dtype>
void BaseConvolutionLayer<Dtype>::GatherProduct(const Dtype* output, int images, Dtype* product,
                                                Dtype* bias_diff) {
  const int width = conv_out_spatial_dim_;
  const int stride = images * width;
  for (int n = 0; n < images; ++n) {
    for (int c = 0; c < conv_out_channels_; ++c, output += width) {
      std::copy(output, output + width, product + c * stride + n * width);
      if (bias_diff != nullptr) bias_diff[c] += RowSum(output, width);
    }
  }
}

template <typename Dtype>
void BaseConvolutionLayer<Dtype>::ScatterProduct(const Dtype* product, int images,
                                                 const Dtype* bias, Dtype* output) {
  const int width = conv_out_spatial_dim_;
  const int stride = images * width;
  for (int n = 0; n < images; ++n) {
    for (int c = 0; c < conv_out_channels_; ++c, output += width) {
      const Dtype* src = product + c * stride + n * width;
      if (bias == nullptr) {
        std::copy(src, src + width, output);
        continue;
      }
      const Dtype b = bias[c];
      for (int p = 0; p < width; ++p) output[p] = src[p] + b;
    }
  }
}

template <typename Dtype>
void BaseConvolutionLayer<Dtype>::ForwardBatched(const Dtype* input, const Dtype* weights,
                                                 const Dtype* bias, Dtype* output) {
  MOKA_ASSERT(batched_);
  const int out_per_group = conv_out_channels_ / group_;
  const int output_dim = conv_out_channels_ * conv_out_spatial_dim_;
  auto task = [&](int t, int slot) {
    const int first = t * chunk_;
    const int images = std::min(chunk_, num_ - first);
    const int width = images * conv_out_spatial_dim_;
    const Dtype* in = input + first * conv_input_dim_;
    Dtype* out = output + first * output_dim;
    // One image needs no reordering: its product is already in the output's layout, and a 1x1
    // convolution's columns are the image itself.
    const bool single = images == 1;
    const Dtype* col = in;
    if (!(single && is_1x1_)) {
      GatherColumns(in, images, task_columns_[slot].data());
      col = task_columns_[slot].data();
    }
    Dtype* product = single ? out : task_products_[slot].data();
    for (int g = 0; g < group_; ++g) {
      cpu_gemm<Dtype>(Trans::kNo, Trans::kNo, out_per_group, width, kernel_dim_, Dtype(1),
                      weights + weight_offset_ * g, col + kernel_dim_ * width * g, Dtype(0),
                      product + out_per_group * width * g);
    }
    if (!single) {
      ScatterProduct(product, images, bias, out);
    } else if (bias != nullptr) {
      for (int c = 0; c < conv_out_channels_; ++c) {
        Dtype* row = out + c * width;
        for (int p = 0; p < width; ++p) row[p] += bias[c];
      }
    }
  };
  SingleThreadedBlas blas(threads_ > 1);
  RunTasks(tasks_, threads_, task);
}

template <typename Dtype>
void BaseConvolutionLayer<Dtype>::BackwardBatched(const Dtype* input, const Dtype* output_diff,
                                                  const Dtype* weights, Dtype* weight_diff,
                                                  Dtype* bias_diff, Dtype* input_diff) {
  MOKA_ASSERT(batched_);
  const int out_per_group = conv_out_channels_ / group_;
  const int output_dim = conv_out_channels_ * conv_out_spatial_dim_;
  const int weight_count = this->blobs_[0]->count();
  // The weight and bias gradients are summed per run of consecutive tasks, each run done in task
  // order by one thread into its own partial, and the partials are then added in run order: the
  // result is the same on every run of the program, with any number of threads.
  const size_t weight_partial_count = static_cast<size_t>(runs_) * weight_count;
  if (weight_diff != nullptr && weight_partials_.size() < weight_partial_count) {
    // Sized on the first backward pass rather than in Reshape: a net that only runs forward (a
    // TEST net) never needs them.
    weight_partials_.resize(weight_partial_count);
  }
  auto run = [&](int r, int slot) {
    const int first_task = static_cast<int>(static_cast<int64_t>(tasks_) * r / runs_);
    const int end_task = static_cast<int>(static_cast<int64_t>(tasks_) * (r + 1) / runs_);
    Dtype* weight_partial = weight_diff == nullptr
                                ? nullptr
                                : weight_partials_.data() + static_cast<size_t>(r) * weight_count;
    Dtype* bias_partial = nullptr;
    if (bias_diff != nullptr) {
      bias_partial = bias_partials_.data() + static_cast<size_t>(r) * conv_out_channels_;
      std::fill(bias_partial, bias_partial + conv_out_channels_, Dtype(0));
    }
    for (int t = first_task; t < end_task; ++t) {
      const int first = t * chunk_;
      const int images = std::min(chunk_, num_ - first);
      const int width = images * conv_out_spatial_dim_;
      const Dtype* in = input + first * conv_input_dim_;
      const Dtype* out_diff = output_diff + first * output_dim;
      Dtype* in_diff = input_diff == nullptr ? nullptr : input_diff + first * conv_input_dim_;
      // As in ForwardBatched, one image needs no reordering.
      const bool single = images == 1;
      const bool direct_columns = single && is_1x1_;
      Dtype* col = task_columns_[slot].data();
      const Dtype* product = out_diff;
      if (!single) {
        GatherProduct(out_diff, images, task_products_[slot].data(), bias_partial);
        product = task_products_[slot].data();
      } else if (bias_partial != nullptr) {
        for (int c = 0; c < conv_out_channels_; ++c) {
          bias_partial[c] += RowSum(out_diff + c * width, width);
        }
      }
      if (weight_partial != nullptr) {
        const Dtype* columns = in;
        if (!direct_columns) {
          GatherColumns(in, images, col);
          columns = col;
        }
        const Dtype beta = t == first_task ? Dtype(0) : Dtype(1);
        for (int g = 0; g < group_; ++g) {
          cpu_gemm<Dtype>(Trans::kNo, Trans::kYes, out_per_group, kernel_dim_, width, Dtype(1),
                          product + out_per_group * width * g, columns + kernel_dim_ * width * g,
                          beta, weight_partial + weight_offset_ * g);
        }
      }
      if (in_diff != nullptr) {
        Dtype* columns = direct_columns ? in_diff : col;
        for (int g = 0; g < group_; ++g) {
          cpu_gemm<Dtype>(Trans::kYes, Trans::kNo, kernel_dim_, width, out_per_group, Dtype(1),
                          weights + weight_offset_ * g, product + out_per_group * width * g,
                          Dtype(0), columns + kernel_dim_ * width * g);
        }
        if (!direct_columns) ScatterColumns(col, images, in_diff);
      }
    }
  };
  SingleThreadedBlas blas(threads_ > 1);
  RunTasks(runs_, threads_, run);
  // The threads split the weights between them for the final sums.
  auto reduce = [&](int part, int) {
    if (weight_diff != nullptr) {
      const int begin = static_cast<int>(static_cast<int64_t>(weight_count) * part / threads_);
      const int end = static_cast<int>(static_cast<int64_t>(weight_count) * (part + 1) / threads_);
      for (int r = 0; r < runs_; ++r) {
        const Dtype* partial = weight_partials_.data() + static_cast<size_t>(r) * weight_count;
        for (int i = begin; i < end; ++i) weight_diff[i] += partial[i];
      }
    }
    if (bias_diff != nullptr && part == 0) {
      for (int r = 0; r < runs_; ++r) {
        const Dtype* partial = bias_partials_.data() + static_cast<size_t>(r) * conv_out_channels_;
        for (int c = 0; c < conv_out_channels_; ++c) bias_diff[c] += partial[c];
      }
    }
  };
  RunTasks(threads_, threads_, reduce);
}

namespace {

DepthwiseGeometry MakeDepthwiseGeometry(int channels, const std::vector<int>& bottom_shape,
                                        const std::vector<int>& output_shape,
                                        const std::vector<int>& kernel, const std::vector<int>& pad,
                                        const std::vector<int>& stride,
                                        const std::vector<int>& dilation) {
  DepthwiseGeometry g;
  g.channels = channels;
  g.height = bottom_shape[bottom_shape.size() - 2];
  g.width = bottom_shape[bottom_shape.size() - 1];
  g.out_height = output_shape[0];
  g.out_width = output_shape[1];
  g.kernel_h = kernel[0];
  g.kernel_w = kernel[1];
  g.pad_h = pad[0];
  g.pad_w = pad[1];
  g.stride_h = stride[0];
  g.stride_w = stride[1];
  g.dilation_h = dilation[0];
  g.dilation_w = dilation[1];
  return g;
}

/// Tasks for `units` independent units on `threads` threads: a few per thread, so that a thread
/// that is descheduled delays little, but no more than there are units.
int DepthwiseTasks(int units, int threads) {
  return std::min(units, threads > 1 ? 8 * threads : 1);
}

}  // namespace

template <typename Dtype>
void BaseConvolutionLayer<Dtype>::ForwardDepthwise(const Dtype* input, const Dtype* weights,
                                                   const Dtype* bias, Dtype* output) {
  MOKA_ASSERT(depthwise_);
  const DepthwiseGeometry g = MakeDepthwiseGeometry(channels_, bottom_shape_, output_shape_,
                                                    kernel_shape_, pad_, stride_, dilation_);
  const int planes = num_ * channels_;
  const int tasks = DepthwiseTasks(planes, threads_);
  auto task = [&](int t, int) {
    const int begin = static_cast<int>(static_cast<int64_t>(planes) * t / tasks);
    const int end = static_cast<int>(static_cast<int64_t>(planes) * (t + 1) / tasks);
    DepthwiseForward(g, begin, end, input, weights, bias, output);
  };
  RunTasks(tasks, threads_, task);
}

template <typename Dtype>
void BaseConvolutionLayer<Dtype>::BackwardDepthwise(const Dtype* input, const Dtype* output_diff,
                                                    const Dtype* weights, Dtype* weight_diff,
                                                    Dtype* bias_diff, Dtype* input_diff) {
  MOKA_ASSERT(depthwise_);
  const DepthwiseGeometry g = MakeDepthwiseGeometry(channels_, bottom_shape_, output_shape_,
                                                    kernel_shape_, pad_, stride_, dilation_);
  // Split by channel: each channel's gradients are summed over the images by one thread, in image
  // order, so the result does not depend on the threads.
  const int tasks = DepthwiseTasks(channels_, threads_);
  auto task = [&](int t, int) {
    const int begin = static_cast<int>(static_cast<int64_t>(channels_) * t / tasks);
    const int end = static_cast<int>(static_cast<int64_t>(channels_) * (t + 1) / tasks);
    DepthwiseBackward(g, num_, begin, end, input, output_diff, weights, weight_diff, bias_diff,
                      input_diff);
  };
  RunTasks(tasks, threads_, task);
}

template <typename Dtype>
void BaseConvolutionLayer<Dtype>::ForwardWinograd(const Dtype* input, const Dtype* weights,
                                                  const Dtype* bias, Dtype* output) {
  MOKA_ASSERT(winograd_);
  winograd_forward_.SetWeights(weights, /*adjoint=*/false);
  winograd_forward_.Forward(input, bias, output);
}

template <typename Dtype>
void BaseConvolutionLayer<Dtype>::BackwardWinograd(const Dtype* input, const Dtype* output_diff,
                                                   const Dtype* weights, Dtype* weight_diff,
                                                   Dtype* bias_diff, Dtype* input_diff) {
  MOKA_ASSERT(winograd_);
  if (bias_diff != nullptr) {
    const Dtype* plane = output_diff;
    for (int n = 0; n < num_; ++n) {
      for (int c = 0; c < num_output_; ++c, plane += out_spatial_dim_) {
        bias_diff[c] += RowSum(plane, out_spatial_dim_);
      }
    }
  }
  if (weight_diff != nullptr) winograd_forward_.WeightGradient(input, output_diff, weight_diff);
  if (input_diff != nullptr) {
    winograd_backward_.SetWeights(weights, /*adjoint=*/true);
    winograd_backward_.Forward(output_diff, nullptr, input_diff);
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
