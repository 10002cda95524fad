#include "layers/concat.hpp"

#include "layer_registry.hpp"
#include "math_functions.hpp"

namespace moka {

template <typename Dtype>
void ConcatLayer<Dtype>::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  const ConcatParameter& param = this->layer_param_.concat_param();
  MOKA_CHECK(!(param.has_axis() && param.has_concat_dim()), ConfigError,
             "give either concat_param.axis or concat_param.concat_dim, not both");
}

template <typename Dtype>
void ConcatLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  const ConcatParameter& param = this->layer_param_.concat_param();
  const Blob<Dtype>& first = *bottom[0];
  const int num_axes = first.num_axes();
  if (param.has_concat_dim()) {
    // concat_dim is unsigned and predates negative axes.
    MOKA_CHECK(param.concat_dim() < static_cast<uint32_t>(num_axes), ConfigError,
               "concat_dim " << param.concat_dim() << " is out of range for a bottom of shape "
                             << first.shape_string());
    axis_ = static_cast<int>(param.concat_dim());
  } else {
    axis_ = first.CanonicalAxisIndex(param.axis());
  }
  std::vector<int> shape = first.shape();
  for (size_t i = 1; i < bottom.size(); ++i) {
    const Blob<Dtype>& b = *bottom[i];
    bool compatible = b.num_axes() == num_axes;
    for (int j = 0; compatible && j < num_axes; ++j)
      compatible = j == axis_ || b.shape(j) == shape[j];
    MOKA_CHECK(compatible, ShapeError,
               "bottoms must agree in all dimensions but axis " << axis_ << ": bottom 0 has shape "
                                                                << first.shape_string()
                                                                << ", bottom " << i << " has shape "
                                                                << b.shape_string());
    shape[axis_] += b.shape(axis_);
  }
  top[0]->Reshape(shape);
  num_concats_ = first.count(0, axis_);
  inner_size_ = first.count(axis_ + 1);
  if (bottom.size() == 1) {
    top[0]->ShareData(first);
    top[0]->ShareDiff(first);
  }
}

template <typename Dtype>
void ConcatLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  if (bottom.size() == 1) return;
  Dtype* y = top[0]->mutable_cpu_data();
  const int top_axis = top[0]->shape(axis_);
  int offset = 0;
  for (auto* b : bottom) {
    const Dtype* x = b->cpu_data();
    const int slice = b->shape(axis_) * inner_size_;
    for (int n = 0; n < num_concats_; ++n)
      cpu_copy(slice, x + n * slice, y + (n * top_axis + offset) * inner_size_);
    offset += b->shape(axis_);
  }
}

template <typename Dtype>
void ConcatLayer<Dtype>::Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                      const BlobVec& bottom) {
  if (bottom.size() == 1) return;
  const Dtype* dy = top[0]->cpu_diff();
  const int top_axis = top[0]->shape(axis_);
  int offset = 0;
  for (size_t i = 0; i < bottom.size(); ++i) {
    Blob<Dtype>* b = bottom[i];
    if (propagate_down[i]) {
      Dtype* dx = b->mutable_cpu_diff();
      const int slice = b->shape(axis_) * inner_size_;
      for (int n = 0; n < num_concats_; ++n)
        cpu_copy(slice, dy + (n * top_axis + offset) * inner_size_, dx + n * slice);
    }
    offset += b->shape(axis_);
  }
}

MOKA_INSTANTIATE_CLASS(ConcatLayer);
MOKA_REGISTER_LAYER(Concat);

}  // namespace moka
