#include "layers/deconvolution.hpp"

#include "layer_registry.hpp"

namespace moka {

template <typename Dtype>
void DeconvolutionLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  // Forward and backward below use the per-image kernels, whose column buffer exists only when
  // the batched path is off; a test hook asking for batching must not change that.
  this->set_batching(ConvBatching::kPerImage);
  BaseConvolutionLayer<Dtype>::Reshape(bottom, top);
}

template <typename Dtype>
void DeconvolutionLayer<Dtype>::ComputeOutputShape() {
  this->output_shape_.clear();
  for (int i = 0; i < this->num_spatial_axes_; ++i) {
    const int extent = this->dilation_[i] * (this->kernel_shape_[i] - 1) + 1;
    const int out = this->stride_[i] * (this->input_shape(i) - 1) + extent - 2 * this->pad_[i];
    MOKA_CHECK(out > 0, ShapeError,
               "spatial axis " << i << " of size " << this->input_shape(i) << " (stride "
                               << this->stride_[i] << ", kernel extent " << extent
                               << ") cannot absorb a pad of " << this->pad_[i] << "; bottom shape "
                               << ShapeString(this->bottom_shape_));
    this->output_shape_.push_back(out);
  }
}

template <typename Dtype>
void DeconvolutionLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  MOKA_ASSERT(!this->batched());
  const Dtype* weights = this->blobs_[0]->cpu_data();
  const Dtype* bias = this->bias_term_ ? this->blobs_[1]->cpu_data() : nullptr;
  for (size_t i = 0; i < bottom.size(); ++i) {
    const Dtype* x = bottom[i]->cpu_data();
    Dtype* y = top[i]->mutable_cpu_data();
    // In convolution terms the bottom is an output gradient and the top the input it flows to.
    for (int n = 0; n < this->num_; ++n) {
      this->BackwardGemm(x + n * this->bottom_dim_, weights, y + n * this->top_dim_);
      if (bias != nullptr) this->ForwardBias(y + n * this->top_dim_, bias);
    }
  }
}

template <typename Dtype>
void DeconvolutionLayer<Dtype>::Backward_cpu(const BlobVec& top,
                                             const std::vector<bool>& propagate_down,
                                             const BlobVec& bottom) {
  MOKA_ASSERT(!this->batched());
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
    for (int n = 0; n < this->num_; ++n) {
      if (bias_diff != nullptr) this->BackwardBias(bias_diff, dy + n * this->top_dim_);
      // The top gradient plays the convolution's input and the bottom its output gradient.
      if (weight_diff != nullptr)
        this->WeightGemm(dy + n * this->top_dim_, x + n * this->bottom_dim_, weight_diff);
      if (dx != nullptr)
        this->ForwardGemm(dy + n * this->top_dim_, weights, dx + n * this->bottom_dim_);
    }
  }
}

MOKA_INSTANTIATE_CLASS(DeconvolutionLayer);
MOKA_REGISTER_LAYER(Deconvolution);

}  // namespace moka
