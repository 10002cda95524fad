#include "layers/accuracy.hpp"

#include <algorithm>

#include "layer_registry.hpp"
#include "math_functions.hpp"

namespace moka {

template <typename Dtype>
void AccuracyLayer<Dtype>::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  const AccuracyParameter& param = this->layer_param_.accuracy_param();
  MOKA_CHECK(param.top_k() >= 1 && param.top_k() <= 0x7fffffffu, ConfigError,
             "top_k must be at least 1, got " << param.top_k());
  top_k_ = static_cast<int>(param.top_k());
  has_ignore_label_ = param.has_ignore_label();
  ignore_label_ = param.ignore_label();
}

template <typename Dtype>
void AccuracyLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  MOKA_CHECK(bottom[1]->count() > 0 && top_k_ <= bottom[0]->count() / bottom[1]->count(),
             ShapeError,
             "top_k (" << top_k_ << ") must not exceed the number of classes: predictions "
                       << bottom[0]->shape_string() << ", labels " << bottom[1]->shape_string());
  label_axis_ = bottom[0]->CanonicalAxisIndex(this->layer_param_.accuracy_param().axis());
  outer_num_ = bottom[0]->count(0, label_axis_);
  inner_num_ = bottom[0]->count(label_axis_ + 1);
  MOKA_CHECK(outer_num_ * inner_num_ == bottom[1]->count(), ShapeError,
             "needs one label per prediction: predictions " << bottom[0]->shape_string()
                 << " with label axis " << label_axis_ << " need " << outer_num_ * inner_num_
                 << " labels, got label shape " << bottom[1]->shape_string());
  top[0]->Reshape(std::vector<int>());
  if (top.size() > 1) {
    top[1]->Reshape(std::vector<int>{bottom[0]->shape(label_axis_)});
    class_counts_.resize(bottom[0]->shape(label_axis_));
  }
}

template <typename Dtype>
void AccuracyLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  const Dtype* scores = bottom[0]->cpu_data();
  const Dtype* labels = bottom[1]->cpu_data();
  const int num_labels = bottom[0]->shape(label_axis_);
  const int dim = num_labels * inner_num_;
  const bool per_class = top.size() > 1;
  Dtype* class_accuracy = per_class ? top[1]->mutable_cpu_data() : nullptr;
  if (per_class) {
    std::fill(class_counts_.begin(), class_counts_.end(), 0);
    cpu_set(num_labels, Dtype(0), class_accuracy);
  }
  int correct = 0;
  int count = 0;
  for (int i = 0; i < outer_num_; ++i) {
    for (int j = 0; j < inner_num_; ++j) {
      const Dtype raw_label = labels[i * inner_num_ + j];
      const int label = static_cast<int>(raw_label);
      if (has_ignore_label_ && label == ignore_label_) continue;
      MOKA_CHECK(label >= 0 && label < num_labels, ShapeError,
                 "label " << raw_label << " at position " << i * inner_num_ + j
                          << " is outside [0, " << num_labels << "), the classes on axis "
                          << label_axis_ << " of predictions " << bottom[0]->shape_string());
      if (per_class) ++class_counts_[label];
      const Dtype* column = scores + i * dim + j;
      const Dtype label_score = column[label * inner_num_];
      // The labelled class itself scores at least as high as itself (unless NaN), hence -1.
      int rivals = -1;
      for (int k = 0; k < num_labels && rivals < top_k_; ++k)
        rivals += column[k * inner_num_] >= label_score ? 1 : 0;
      if (rivals < top_k_) {
        ++correct;
        if (per_class) class_accuracy[label] += 1;
      }
      ++count;
    }
  }
  top[0]->mutable_cpu_data()[0] = count == 0 ? Dtype(0) : Dtype(correct) / Dtype(count);
  if (per_class) {
    for (int c = 0; c < num_labels; ++c)
      class_accuracy[c] = class_counts_[c] == 0 ? Dtype(0) : class_accuracy[c] / class_counts_[c];
  }
}

template <typename Dtype>
void AccuracyLayer<Dtype>::Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                        const BlobVec& bottom) {
  for (size_t i = 0; i < propagate_down.size(); ++i)
    MOKA_CHECK(!propagate_down[i], ConfigError,
               "accuracy is not differentiable; bottom " << i << " cannot receive a gradient");
}

MOKA_INSTANTIATE_CLASS(AccuracyLayer);
MOKA_REGISTER_LAYER(Accuracy);

}  // namespace moka
