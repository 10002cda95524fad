#include <vector>

#include "cuda_check.hpp"
#include "gpu_resources.hpp"
#include "im2col_gpu.hpp"
#include "layers/deconvolution.hpp"
#include "math_functions_gpu.hpp"

namespace moka {

template <typename Dtype>
void DeconvolutionLayer<Dtype>::PrepareGpu(const BlobVec& bottom) {
  if (gpu_prepared_shape_ == bottom[0]->shape()) return;
  const int axes = this->num_spatial_axes_;
  MOKA_CHECK(axes <= kMaxConvAxesGpu, ConfigError,
             "the GPU deconvolution handles at most " << kMaxConvAxesGpu << " spatial axes, got "
                                                      << axes);
  ConvGeometryGpu& g = gpu_geometry_;
  g = ConvGeometryGpu();
  g.num_axes = axes;
  g.channels = this->num_output_;
  for (int a = 0; a < axes; ++a) {
    g.im_shape[a] = this->output_shape_[a];
    g.col_shape[a] = this->input_shape(a);
    g.kernel[a] = this->kernel_shape_[a];
    g.pad[a] = this->pad_[a];
    g.stride[a] = this->stride_[a];
    g.dilation[a] = this->dilation_[a];
  }
  if (this->is_1x1_) {
    gpu_col_.Reshape({0});
  } else {
    std::vector<int> col_shape = {this->blobs_[0]->count(1) * this->group_};
    for (int a = 0; a < axes; ++a) col_shape.push_back(this->input_shape(a));
    gpu_col_.Reshape(col_shape);
  }
  if (this->bias_term_ && gpu_ones_.count() != this->out_spatial_dim_) {
    gpu_ones_.Reshape({this->out_spatial_dim_});
    gpu_ones_.set_data(Dtype(1));
  }
  gpu_prepared_shape_ = bottom[0]->shape();
}

// Per image and group, as the CPU path (the convolution's data gradient):
// col_g = W_g^T * x_g, then col2im into the top, then the bias.
template <typename Dtype>
void DeconvolutionLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  PrepareGpu(bottom);
  GpuResources& gpu = this->context().gpu();
  const int group = this->group_;
  const int in_per_group = this->channels_ / group;
  const int kernel_dim = this->blobs_[0]->count(1);
  const int positions = this->bottom_dim_ / this->channels_;
  const Dtype* w = this->blobs_[0]->gpu_data();
  const Dtype* bias = this->bias_term_ ? this->blobs_[1]->gpu_data() : nullptr;
  const Dtype* ones = this->bias_term_ ? gpu_ones_.gpu_data() : nullptr;
  for (size_t i = 0; i < bottom.size(); ++i) {
    const Dtype* x = bottom[i]->gpu_data();
    Dtype* y = top[i]->mutable_gpu_data();
    for (int n = 0; n < this->num_; ++n) {
      const Dtype* x_n = x + static_cast<size_t>(n) * this->bottom_dim_;
      Dtype* y_n = y + static_cast<size_t>(n) * this->top_dim_;
      Dtype* col = this->is_1x1_ ? y_n : gpu_col_.mutable_gpu_data();
      for (int g = 0; g < group; ++g) {
        gpu_gemm<Dtype>(gpu, Trans::kYes, Trans::kNo, kernel_dim, positions, in_per_group,
                        Dtype(1), w + static_cast<size_t>(g) * in_per_group * kernel_dim,
                        x_n + static_cast<size_t>(g) * in_per_group * positions, Dtype(0),
                        col + static_cast<size_t>(g) * kernel_dim * positions);
      }
      if (!this->is_1x1_) Col2imGpu(static_cast<const Dtype*>(col), gpu_geometry_, y_n);
      if (bias != nullptr) {
        gpu_gemm<Dtype>(gpu, Trans::kNo, Trans::kNo, this->num_output_, this->out_spatial_dim_, 1,
                        Dtype(1), bias, ones, Dtype(1), y_n);
      }
    }
  }
}

// The top gradient plays the convolution's input and the bottom its output gradient: one im2col
// of the top gradient serves both the weight gradient and the bottom gradient.
template <typename Dtype>
void DeconvolutionLayer<Dtype>::Backward_gpu(const BlobVec& top,
                                             const std::vector<bool>& propagate_down,
                                             const BlobVec& bottom) {
  PrepareGpu(bottom);
  GpuResources& gpu = this->context().gpu();
  const int group = this->group_;
  const int in_per_group = this->channels_ / group;
  const int kernel_dim = this->blobs_[0]->count(1);
  const int positions = this->bottom_dim_ / this->channels_;
  const bool weight_grad = this->param_propagate_down(0);
  const bool bias_grad = this->bias_term_ && this->param_propagate_down(1);
  const Dtype* w = this->blobs_[0]->gpu_data();
  for (size_t i = 0; i < top.size(); ++i) {
    if (!weight_grad && !bias_grad && !propagate_down[i]) continue;
    const Dtype* dy = top[i]->gpu_diff();
    const Dtype* x = bottom[i]->gpu_data();
    Dtype* weight_diff = weight_grad ? this->blobs_[0]->mutable_gpu_diff() : nullptr;
    Dtype* bias_diff = bias_grad ? this->blobs_[1]->mutable_gpu_diff() : nullptr;
    Dtype* dx = propagate_down[i] ? bottom[i]->mutable_gpu_diff() : nullptr;
    for (int n = 0; n < this->num_; ++n) {
      const Dtype* dy_n = dy + static_cast<size_t>(n) * this->top_dim_;
      if (bias_diff != nullptr) {
        gpu_gemv<Dtype>(gpu, Trans::kNo, this->num_output_, this->out_spatial_dim_, Dtype(1),
                        dy_n, gpu_ones_.gpu_data(), Dtype(1), bias_diff);
      }
      if (weight_diff == nullptr && dx == nullptr) continue;
      const Dtype* col = dy_n;
      if (!this->is_1x1_) {
        Im2colGpu(dy_n, gpu_geometry_, gpu_col_.mutable_gpu_data());
        col = gpu_col_.gpu_data();
      }
      if (weight_diff != nullptr) {
        const Dtype* x_n = x + static_cast<size_t>(n) * this->bottom_dim_;
        for (int g = 0; g < group; ++g) {
          gpu_gemm<Dtype>(gpu, Trans::kNo, Trans::kYes, in_per_group, kernel_dim, positions,
                          Dtype(1), x_n + static_cast<size_t>(g) * in_per_group * positions,
                          col + static_cast<size_t>(g) * kernel_dim * positions, Dtype(1),
                          weight_diff + static_cast<size_t>(g) * in_per_group * kernel_dim);
        }
      }
      if (dx != nullptr) {
        Dtype* dx_n = dx + static_cast<size_t>(n) * this->bottom_dim_;
        for (int g = 0; g < group; ++g) {
          gpu_gemm<Dtype>(gpu, Trans::kNo, Trans::kNo, in_per_group, positions, kernel_dim,
                          Dtype(1), w + static_cast<size_t>(g) * in_per_group * kernel_dim,
                          col + static_cast<size_t>(g) * kernel_dim * positions, Dtype(0),
                          dx_n + static_cast<size_t>(g) * in_per_group * positions);
        }
      }
    }
  }
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(DeconvolutionLayer);

}  // namespace moka
