#include "layers/argmax.hpp"

#include <algorithm>
#include <functional>

#include "layer_registry.hpp"

namespace moka {

template <typename Dtype>
void ArgMaxLayer<Dtype>::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  const ArgMaxParameter& param = this->layer_param_.argmax_param();
  out_max_val_ = param.out_max_val();
  top_k_ = static_cast<int>(param.top_k());
  has_axis_ = param.has_axis();
  MOKA_CHECK(top_k_ >= 1, ConfigError, "top_k must be at least 1");
  if (has_axis_) {
    axis_ = bottom[0]->CanonicalAxisIndex(param.axis());
    MOKA_CHECK(top_k_ <= bottom[0]->shape(axis_), ShapeError,
               "top_k " << top_k_ << " exceeds the size of axis " << axis_ << " of bottom shape "
                        << bottom[0]->shape_string());
  } else {
    MOKA_CHECK(top_k_ <= bottom[0]->count(1), ShapeError,
               "top_k " << top_k_ << " exceeds the " << bottom[0]->count(1)
                        << " values per sample of bottom shape " << bottom[0]->shape_string());
  }
}

template <typename Dtype>
void ArgMaxLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  std::vector<int> shape;
  if (has_axis_) {
    shape = bottom[0]->shape();
    shape[axis_] = top_k_;
  } else {
    // At least 3 axes, as Caffe's legacy (N, 1 or 2, top_k) layout.
    shape.assign(std::max(3, bottom[0]->num_axes()), 1);
    shape[0] = bottom[0]->shape(0);
    shape[2] = top_k_;
    if (out_max_val_) shape[1] = 2;
  }
  top[0]->Reshape(shape);
}

template <typename Dtype>
void ArgMaxLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  const Dtype* x = bottom[0]->cpu_data();
  Dtype* y = top[0]->mutable_cpu_data();
  const int dim = has_axis_ ? bottom[0]->shape(axis_) : bottom[0]->count(1);
  // Distance between neighbours along the searched axis.
  const int stride = has_axis_ ? bottom[0]->count(axis_) / dim : 1;
  const int num = bottom[0]->count() / dim;
  scratch_.resize(dim);
  for (int i = 0; i < num; ++i) {
    const int outer = i / stride;
    const int inner = i % stride;
    for (int j = 0; j < dim; ++j) {
      scratch_[j] = std::make_pair(x[(static_cast<size_t>(outer) * dim + j) * stride + inner], j);
    }
    // Comparing (value, index) pairs breaks ties towards the larger index, as Caffe does.
    std::partial_sort(scratch_.begin(), scratch_.begin() + top_k_, scratch_.end(),
                      std::greater<std::pair<Dtype, int>>());
    for (int j = 0; j < top_k_; ++j) {
      const size_t along_axis = (static_cast<size_t>(outer) * top_k_ + j) * stride + inner;
      if (has_axis_) {
        y[along_axis] = out_max_val_ ? scratch_[j].first : Dtype(scratch_[j].second);
      } else if (out_max_val_) {
        y[2 * i * top_k_ + j] = Dtype(scratch_[j].second);
        y[2 * i * top_k_ + top_k_ + j] = scratch_[j].first;
      } else {
        y[along_axis] = Dtype(scratch_[j].second);
      }
    }
  }
}

template <typename Dtype>
void ArgMaxLayer<Dtype>::Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                      const BlobVec& bottom) {
  MOKA_CHECK(!propagate_down[0], ConfigError,
             "has no backward pass (indices are not differentiable); set propagate_down: false");
}

MOKA_INSTANTIATE_CLASS(ArgMaxLayer);
MOKA_REGISTER_LAYER(ArgMax);

}  // namespace moka
