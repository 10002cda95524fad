#include "layers/slice.hpp"

#include "layer_registry.hpp"
#include "math_functions.hpp"

namespace moka {

template <typename Dtype>
void SliceLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  const SliceParameter& param = this->layer_param_.slice_param();
  const int num_axes = bottom[0]->num_axes();
  if (param.has_slice_dim()) {
    // The deprecated field is unsigned; negative indexing is not available through it.
    slice_axis_ = static_cast<int>(param.slice_dim());
    MOKA_CHECK(slice_axis_ >= 0 && slice_axis_ < num_axes, ConfigError,
               "slice_dim " << param.slice_dim() << " is out of range for bottom shape "
                            << bottom[0]->shape_string());
  } else {
    slice_axis_ = bottom[0]->CanonicalAxisIndex(param.axis());
  }
  const int axis_size = bottom[0]->shape(slice_axis_);
  num_slices_ = bottom[0]->count(0, slice_axis_);
  slice_size_ = bottom[0]->count(slice_axis_ + 1);
  const int num_tops = static_cast<int>(top.size());
  std::vector<int> sizes;
  if (param.slice_point_size() > 0) {
    MOKA_CHECK(param.slice_point_size() == num_tops - 1, ConfigError,
               param.slice_point_size() << " slice_point(s) need " << param.slice_point_size() + 1
                                        << " tops, got " << num_tops);
    int prev = 0;
    for (int i = 0; i < param.slice_point_size(); ++i) {
      const int point = static_cast<int>(param.slice_point(i));
      MOKA_CHECK(
          point > prev, ConfigError,
          "slice_point values must increase and be positive, got " << point << " after " << prev);
      sizes.push_back(point - prev);
      prev = point;
    }
    MOKA_CHECK(prev < axis_size, ShapeError,
               "slice_point " << prev << " leaves nothing for the last top: axis " << slice_axis_
                              << " of bottom shape " << bottom[0]->shape_string() << " has size "
                              << axis_size);
    sizes.push_back(axis_size - prev);
  } else {
    MOKA_CHECK(axis_size % num_tops == 0, ShapeError,
               num_tops << " tops do not evenly divide axis " << slice_axis_ << " (size "
                        << axis_size << ") of bottom shape " << bottom[0]->shape_string());
    sizes.assign(num_tops, axis_size / num_tops);
  }
  std::vector<int> shape = bottom[0]->shape();
  for (int i = 0; i < num_tops; ++i) {
    shape[slice_axis_] = sizes[i];
    top[i]->Reshape(shape);
  }
  if (num_tops == 1) {
    top[0]->ShareData(*bottom[0]);
    top[0]->ShareDiff(*bottom[0]);
  }
}

template <typename Dtype>
void SliceLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  if (top.size() == 1) return;
  const Dtype* x = bottom[0]->cpu_data();
  const int bottom_axis = bottom[0]->shape(slice_axis_);
  int offset = 0;
  for (auto* t : top) {
    const int axis = t->shape(slice_axis_);
    const int run = axis * slice_size_;
    Dtype* y = t->mutable_cpu_data();
    for (int n = 0; n < num_slices_; ++n) {
      cpu_copy(run, x + (static_cast<size_t>(n) * bottom_axis + offset) * slice_size_,
               y + static_cast<size_t>(n) * run);
    }
    offset += axis;
  }
}

template <typename Dtype>
void SliceLayer<Dtype>::Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                     const BlobVec& bottom) {
  if (!propagate_down[0] || top.size() == 1) return;
  Dtype* dx = bottom[0]->mutable_cpu_diff();
  const int bottom_axis = bottom[0]->shape(slice_axis_);
  int offset = 0;
  for (auto* t : top) {
    const int axis = t->shape(slice_axis_);
    const int run = axis * slice_size_;
    const Dtype* dy = t->cpu_diff();
    for (int n = 0; n < num_slices_; ++n) {
      cpu_copy(run, dy + static_cast<size_t>(n) * run,
               dx + (static_cast<size_t>(n) * bottom_axis + offset) * slice_size_);
    }
    offset += axis;
  }
}

MOKA_INSTANTIATE_CLASS(SliceLayer);
MOKA_REGISTER_LAYER(Slice);

}  // namespace moka
