#include "layers/prelu.hpp"

#include <algorithm>

#include "filler.hpp"
#include "layer_registry.hpp"
#include "math_functions.hpp"

namespace moka {

template <typename Dtype>
void PReLULayer<Dtype>::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  MOKA_CHECK(bottom[0]->num_axes() >= 2, ShapeError,
             "bottom must have at least 2 axes (the channel axis is 1), got shape "
                 << bottom[0]->shape_string());
  const PReLUParameter& param = this->layer_param_.prelu_param();
  channel_shared_ = param.channel_shared();
  const int channels = bottom[0]->shape(1);
  if (this->blobs_.empty()) {
    // A shared slope is a scalar blob (no axes), as Caffe stores it.
    const std::vector<int> shape =
        channel_shared_ ? std::vector<int>{} : std::vector<int>{channels};
    this->blobs_.push_back(std::make_shared<Blob<Dtype>>(shape));
    FillerParameter filler = param.filler();
    if (!param.has_filler()) {
      filler.set_type("constant");
      filler.set_value(0.25f);
    }
    Fill(filler, this->context().rng(), this->blobs_[0].get());
  }
  MOKA_CHECK(this->blobs_.size() == 1, ConfigError,
             "has " << this->blobs_.size() << " parameter blobs, expected 1 (the slopes)");
  const int expected = channel_shared_ ? 1 : channels;
  MOKA_CHECK(this->blobs_[0]->count() == expected, ShapeError,
             "slope blob has shape " << this->blobs_[0]->shape_string() << ", expected " << expected
                                     << " value(s) (channel_shared "
                                     << (channel_shared_ ? "true" : "false") << ", " << channels
                                     << " channels)");
  this->param_propagate_down_.assign(1, true);
}

template <typename Dtype>
void PReLULayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  MOKA_CHECK(bottom[0]->num_axes() >= 2, ShapeError,
             "bottom must have at least 2 axes, got shape " << bottom[0]->shape_string());
  const int expected = channel_shared_ ? 1 : bottom[0]->shape(1);
  MOKA_CHECK(this->blobs_[0]->count() == expected, ShapeError,
             "bottom shape " << bottom[0]->shape_string() << " does not match "
                             << this->blobs_[0]->count() << " slope(s)");
  NeuronLayer<Dtype>::Reshape(bottom, top);
  if (bottom[0] == top[0]) bottom_memory_.ReshapeLike(*bottom[0]);
}

template <typename Dtype>
void PReLULayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  const int n = bottom[0]->count();
  const int dim = bottom[0]->count(2);
  const int channels = bottom[0]->shape(1);
  const Dtype* x = bottom[0]->cpu_data();
  Dtype* y = top[0]->mutable_cpu_data();
  const Dtype* slope = this->blobs_[0]->cpu_data();
  if (bottom[0] == top[0]) cpu_copy(n, x, bottom_memory_.mutable_cpu_data());
  for (int i = 0; i < n; ++i) {
    const int c = channel_shared_ ? 0 : (i / dim) % channels;
    y[i] = std::max(x[i], Dtype(0)) + slope[c] * std::min(x[i], Dtype(0));
  }
}

template <typename Dtype>
void PReLULayer<Dtype>::Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                     const BlobVec& bottom) {
  const int n = bottom[0]->count();
  const int dim = bottom[0]->count(2);
  const int channels = bottom[0]->shape(1);
  const Dtype* x = bottom[0] == top[0] ? bottom_memory_.cpu_data() : bottom[0]->cpu_data();
  const Dtype* dy = top[0]->cpu_diff();
  // The slope gradient comes first: in place, writing the bottom diff overwrites the top diff.
  if (this->param_propagate_down(0)) {
    Dtype* slope_diff = this->blobs_[0]->mutable_cpu_diff();
    for (int i = 0; i < n; ++i) {
      const int c = channel_shared_ ? 0 : (i / dim) % channels;
      if (x[i] <= 0) slope_diff[c] += dy[i] * x[i];
    }
  }
  if (propagate_down[0]) {
    const Dtype* slope = this->blobs_[0]->cpu_data();
    Dtype* dx = bottom[0]->mutable_cpu_diff();
    for (int i = 0; i < n; ++i) {
      const int c = channel_shared_ ? 0 : (i / dim) % channels;
      dx[i] = dy[i] * (x[i] > 0 ? Dtype(1) : slope[c]);
    }
  }
}

MOKA_INSTANTIATE_CLASS(PReLULayer);
MOKA_REGISTER_LAYER(PReLU);

}  // namespace moka
