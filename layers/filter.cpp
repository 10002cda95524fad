#include "layers/filter.hpp"

#include "layer_registry.hpp"
#include "math_functions.hpp"

namespace moka {

template <typename Dtype>
void FilterLayer<Dtype>::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  MOKA_CHECK(top.size() == bottom.size() - 1, ConfigError,
             "needs one top per filtered bottom (all bottoms but the last, the selector): "
                 << bottom.size() - 1 << " expected, got " << top.size());
  first_reshape_ = true;
}

template <typename Dtype>
void FilterLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  const Blob<Dtype>& selector = *bottom.back();
  for (int i = 1; i < selector.num_axes(); ++i) {
    MOKA_CHECK(selector.shape(i) == 1, ShapeError,
               "selector shape " << selector.shape_string()
                                 << " must have size 1 on every axis but the first");
  }
  MOKA_CHECK(selector.num_axes() >= 1, ShapeError, "selector must have at least one axis");
  const int num = selector.shape(0);
  for (size_t i = 0; i + 1 < bottom.size(); ++i) {
    MOKA_CHECK(bottom[i]->num_axes() >= 1 && bottom[i]->shape(0) == num, ShapeError,
               "bottom " << i << " shape " << bottom[i]->shape_string()
                         << " does not have the selector's first dimension " << num);
  }
  const Dtype* select = selector.cpu_data();
  indices_to_forward_.clear();
  for (int n = 0; n < num; ++n) {
    if (select[n] != Dtype(0)) indices_to_forward_.push_back(n);
  }
  int new_num = static_cast<int>(indices_to_forward_.size());
  if (first_reshape_) {
    new_num = num;
    first_reshape_ = false;
  }
  for (size_t t = 0; t < top.size(); ++t) {
    std::vector<int> shape = bottom[t]->shape();
    shape[0] = new_num;
    top[t]->Reshape(shape);
  }
}

template <typename Dtype>
void FilterLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  for (size_t t = 0; t < top.size(); ++t) {
    const int dim = bottom[t]->count(1);
    const Dtype* x = bottom[t]->cpu_data();
    Dtype* y = top[t]->mutable_cpu_data();
    for (size_t n = 0; n < indices_to_forward_.size(); ++n) {
      cpu_copy(dim, x + static_cast<size_t>(indices_to_forward_[n]) * dim, y + n * dim);
    }
  }
}

template <typename Dtype>
void FilterLayer<Dtype>::Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                      const BlobVec& bottom) {
  MOKA_CHECK(!propagate_down.back(), ConfigError,
             "cannot backpropagate to the selector (its last bottom); set propagate_down: false");
  for (size_t i = 0; i < top.size(); ++i) {
    if (!propagate_down[i]) continue;
    const int dim = bottom[i]->count(1);
    const Dtype* dy = top[i]->cpu_diff();
    Dtype* dx = bottom[i]->mutable_cpu_diff();
    size_t next = 0;
    for (int n = 0; n < bottom[i]->shape(0); ++n) {
      Dtype* row = dx + static_cast<size_t>(n) * dim;
      if (next < indices_to_forward_.size() && indices_to_forward_[next] == n) {
        cpu_copy(dim, dy + next * dim, row);
        ++next;
      } else {
        cpu_set(dim, Dtype(0), row);
      }
    }
  }
}

MOKA_INSTANTIATE_CLASS(FilterLayer);
MOKA_REGISTER_LAYER(Filter);

}  // namespace moka
