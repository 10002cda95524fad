#include "layers/convolution.hpp"

#include "layer_registry.hpp"

namespace moka {

template <typename Dtype>
void ConvolutionLayer<Dtype>::ComputeOutputShape() {
  this->output_shape_.clear();
  for (int i = 0; i < this->num_spatial_axes_; ++i) {
    const int extent = this->dilation_[i] * (this->kernel_shape_[i] - 1) + 1;
    // Integer division truncates toward zero, as Caffe's does: an input one short of the kernel
    // extent still yields one output.
    const int out = (this->input_shape(i) + 2 * this->pad_[i] - extent) / this->stride_[i] + 1;
    MOKA_CHECK(out > 0, ShapeError,
               "spatial axis " << i << " of size " << this->input_shape(i) << " (pad "
                               << this->pad_[i] << ") is too small for a kernel extent of "
                               << extent << "; bottom shape " << ShapeString(this->bottom_shape_));
    this->output_shape_.push_back(out);
  }
}

template <typename Dtype>
void ConvolutionLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  const Dtype* weights = this->blobs_[0]->cpu_data();
  const Dtype* bias = this->bias_term_ ? this->blobs_[1]->cpu_data() : nullptr;
  for (size_t i = 0; i < bottom.size(); ++i) {
    const Dtype* x = bottom[i]->cpu_data();
    Dtype* y = top[i]->mutable_cpu_data();
    if (this->depthwise()) {
      this->ForwardDepthwise(x, weights, bias, y);
      continue;
    }
    if (this->winograd()) {
      this->ForwardWinograd(x, weights, bias, y);
      continue;
    }
    if (this->batched()) {
      this->ForwardBatched(x, weights, bias, y);
      continue;
    }
    for (int n = 0; n < this->num_; ++n) {
      this->ForwardGemm(x + n * this->bottom_dim_, weights, y + n * this->top_dim_);
      if (bias != nullptr) this->ForwardBias(y + n * this->top_dim_, bias);
    }
  }
}

template <typename Dtype>
void ConvolutionLayer<Dtype>::Backward_cpu(const BlobVec& top,
                                           const std::vector<bool>& propagate_down,
                                           const BlobVec& bottom) {
  const bool weight_grad = this->param_propagate_down(0);
  const bool bias_grad = this->bias_term_ && this->param_propagate_down(1);
  const Dtype* weights = this->blobs_[0]->cpu_data();
  Dtype* weight_diff = weight_grad ? this->blobs_[0]->mutable_cpu_diff() : nullptr;
  Dtype* bias_diff = bias_grad ? this->blobs_[1]->mutable_cpu_diff() : nullptr;
  for (size_t i = 0; i < top.size(); ++i) {
    if (!weight_grad && !bias_grad && !propagate_down[i]) continue;
    const Dtype* dy = top[i]->cpu_diff();
    const Dtype* x = bottom[i]->cpu_data();
    Dtype* dx = propagate_down[i] ? bottom[i]->mutable_cpu_diff() : nullptr;
    if (this->depthwise()) {
      this->BackwardDepthwise(x, dy, weights, weight_diff, bias_diff, dx);
      continue;
    }
    if (this->winograd()) {
      this->BackwardWinograd(x, dy, weights, weight_diff, bias_diff, dx);
      continue;
    }
    if (this->batched()) {
      this->BackwardBatched(x, dy, weights, weight_diff, bias_diff, dx);
      continue;
    }
    for (int n = 0; n < this->num_; ++n) {
      if (bias_diff != nullptr) this->BackwardBias(bias_diff, dy + n * this->top_dim_);
      if (weight_diff != nullptr)
        this->WeightGemm(x + n * this->bottom_dim_, dy + n * this->top_dim_, weight_diff);
      if (dx != nullptr)
        this->BackwardGemm(dy + n * this->top_dim_, weights, dx + n * this->bottom_dim_);
    }
  }
}

MOKA_INSTANTIATE_CLASS(ConvolutionLayer);
MOKA_REGISTER_LAYER(Convolution);

}  // namespace moka
