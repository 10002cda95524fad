#include "layers/bias.hpp"

#include "filler.hpp"
#include "layer_registry.hpp"
#include "math_functions.hpp"

namespace moka {

std::vector<int> BroadcastParamShape(const std::vector<int>& bottom_shape, int axis, int num_axes) {
  MOKA_CHECK(num_axes >= -1, ConfigError,
             "num_axes must be non-negative, or -1 for all remaining axes; got " << num_axes);
  const int available = static_cast<int>(bottom_shape.size()) - axis;
  MOKA_CHECK(num_axes <= available, ShapeError,
             "a parameter of " << num_axes << " axes starting at axis " << axis
                               << " extends past the bottom's shape " << ShapeString(bottom_shape));
  const auto begin = bottom_shape.begin() + axis;
  const auto end = num_axes == -1 ? bottom_shape.end() : begin + num_axes;
  return std::vector<int>(begin, end);
}

template <typename Dtype>
void BiasLayer<Dtype>::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  if (bottom.size() > 1 || !this->blobs_.empty()) {
    this->param_propagate_down_.assign(this->blobs_.size(), true);
    return;
  }
  const BiasParameter& param = this->layer_param_.bias_param();
  const int axis = bottom[0]->CanonicalAxisIndex(param.axis());
  const std::vector<int> shape = BroadcastParamShape(bottom[0]->shape(), axis, param.num_axes());
  this->blobs_.push_back(std::make_shared<Blob<Dtype>>(shape));
  // The default filler is constant 0, which makes the layer start as the identity.
  Fill(param.filler(), this->context().rng(), this->blobs_[0].get());
  this->param_propagate_down_.assign(1, true);
}

template <typename Dtype>
void BiasLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  const Blob<Dtype>& bias = bottom.size() > 1 ? *bottom[1] : *this->blobs_[0];
  // A scalar bias broadcasts everywhere, whatever the axis says.
  const int axis = bias.num_axes() == 0
                       ? 0
                       : bottom[0]->CanonicalAxisIndex(this->layer_param_.bias_param().axis());
  bool matches = bottom[0]->num_axes() >= axis + bias.num_axes();
  for (int i = 0; matches && i < bias.num_axes(); ++i) {
    matches = bottom[0]->shape(axis + i) == bias.shape(i);
  }
  MOKA_CHECK(matches, ShapeError,
             "bias shape " << bias.shape_string() << " does not match bottom shape "
                           << bottom[0]->shape_string() << " from axis " << axis);
  outer_dim_ = bottom[0]->count(0, axis);
  bias_dim_ = bias.count();
  inner_dim_ = bottom[0]->count(axis + bias.num_axes());
  if (top[0] != bottom[0]) top[0]->ReshapeLike(*bottom[0]);
  if (bias_multiplier_.count() != inner_dim_) {
    bias_multiplier_.Reshape({inner_dim_});
    bias_multiplier_.set_data(1);
  }
}

template <typename Dtype>
void BiasLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  const Dtype* b = (bottom.size() > 1 ? bottom[1] : this->blobs_[0].get())->cpu_data();
  const Dtype* x = bottom[0]->cpu_data();
  Dtype* y = top[0]->mutable_cpu_data();
  if (x != y) cpu_copy(bottom[0]->count(), x, y);
  for (int o = 0; o < outer_dim_; ++o) {
    for (int d = 0; d < bias_dim_; ++d) {
      cpu_add_scalar(inner_dim_, b[d], y);
      y += inner_dim_;
    }
  }
}

template <typename Dtype>
void BiasLayer<Dtype>::Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                    const BlobVec& bottom) {
  if (propagate_down[0] && bottom[0] != top[0]) {
    cpu_copy(bottom[0]->count(), top[0]->cpu_diff(), bottom[0]->mutable_cpu_diff());
  }
  const bool learned = bottom.size() == 1;
  if (learned ? !this->param_propagate_down(0) : !propagate_down[1]) return;
  // A learned bias accumulates its gradient; a bottom's diff is overwritten.
  Dtype* db = (learned ? this->blobs_[0].get() : bottom[1])->mutable_cpu_diff();
  const Dtype* dy = top[0]->cpu_diff();
  Dtype beta = learned ? Dtype(1) : Dtype(0);
  for (int o = 0; o < outer_dim_; ++o) {
    cpu_gemv(Trans::kNo, bias_dim_, inner_dim_, Dtype(1), dy, bias_multiplier_.cpu_data(), beta,
             db);
    dy += static_cast<size_t>(bias_dim_) * inner_dim_;
    beta = 1;
  }
}

MOKA_INSTANTIATE_CLASS(BiasLayer);
MOKA_REGISTER_LAYER(Bias);

}  // namespace moka
