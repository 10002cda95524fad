#include "layers/infogain_loss.hpp"

#include <algorithm>
#include <cmath>

#include "layer_registry.hpp"
#include "layers/multinomial_logistic_loss.hpp"
#include "math_functions.hpp"
#include "proto_io.hpp"

namespace moka {

template <typename Dtype>
void InfogainLossLayer<Dtype>::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  LossLayer<Dtype>::LayerSetUp(bottom, top);
  const InfogainLossParameter& param = this->layer_param_.infogain_loss_param();
  LayerParameter softmax_param;
  softmax_param.set_name(this->layer_param_.name() + "/softmax");
  softmax_param.set_type("Softmax");
  softmax_param.mutable_softmax_param()->set_axis(param.axis());
  softmax_layer_ = LayerRegistry<Dtype>::Create(softmax_param);
  softmax_layer_->set_context(&this->context());
  softmax_bottom_ = {bottom[0]};
  softmax_top_ = {&prob_};
  softmax_layer_->SetUp(softmax_bottom_, softmax_top_);

  const LossParameter& loss_param = this->layer_param_.loss_param();
  has_ignore_label_ = loss_param.has_ignore_label();
  ignore_label_ = loss_param.ignore_label();
  // This layer postdates the deprecated `normalize`, and Caffe refuses it here.
  MOKA_CHECK(!loss_param.has_normalize(), ConfigError,
             "loss_param normalize is deprecated and not accepted here; use normalization");
  normalization_ = loss_param.normalization();
  if (bottom.size() < 3) {
    MOKA_CHECK(param.has_source(), ConfigError,
               "needs the infogain matrix: infogain_loss_param source, or a third bottom");
    BlobProto proto;
    ReadProtoFromBinaryFile(param.source(), &proto);
    infogain_.FromProto(proto);
  }
}

template <typename Dtype>
void InfogainLossLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  LossLayer<Dtype>::Reshape(bottom, top);
  softmax_layer_->Reshape(softmax_bottom_, softmax_top_);
  axis_ = bottom[0]->CanonicalAxisIndex(this->layer_param_.infogain_loss_param().axis());
  outer_num_ = bottom[0]->count(0, axis_);
  inner_num_ = bottom[0]->count(axis_ + 1);
  MOKA_CHECK(outer_num_ * inner_num_ == bottom[1]->count(), ShapeError,
             "needs one label per prediction: predictions "
                 << bottom[0]->shape_string() << " with axis " << axis_ << " need "
                 << outer_num_ * inner_num_ << " labels, got label shape "
                 << bottom[1]->shape_string());
  num_labels_ = bottom[0]->shape(axis_);
  const Blob<Dtype>& infogain = Infogain(bottom);
  MOKA_CHECK(infogain.count() == num_labels_ * num_labels_, ShapeError,
             "the infogain matrix has shape " << infogain.shape_string() << ", expected "
                                              << num_labels_ << " x " << num_labels_);
  sum_rows_h_.Reshape({num_labels_});
  // A matrix from `source` never changes, so its row sums are computed here once.
  if (bottom.size() == 2) SumRowsOfH(infogain);
  if (top.size() >= 2) top[1]->ReshapeLike(*bottom[0]);
}

template <typename Dtype>
void InfogainLossLayer<Dtype>::SumRowsOfH(const Blob<Dtype>& infogain) {
  const Dtype* h = infogain.cpu_data();
  Dtype* sums = sum_rows_h_.mutable_cpu_data();
  for (int row = 0; row < num_labels_; ++row) {
    sums[row] = 0;
    for (int col = 0; col < num_labels_; ++col) sums[row] += h[row * num_labels_ + col];
  }
}

template <typename Dtype>
int InfogainLossLayer<Dtype>::LabelAt(const Dtype* labels, int index) const {
  const int label = static_cast<int>(labels[index]);
  MOKA_CHECK(label >= 0 && label < num_labels_, ShapeError,
             "label " << labels[index] << " at position " << index << " is outside [0, "
                      << num_labels_ << ")");
  return label;
}

template <typename Dtype>
void InfogainLossLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  softmax_layer_->Forward(softmax_bottom_, softmax_top_);
  const Dtype* p = prob_.cpu_data();
  const Dtype* labels = bottom[1]->cpu_data();
  const Dtype* h = Infogain(bottom).cpu_data();
  const int dim = num_labels_ * inner_num_;
  int count = 0;
  Dtype loss = 0;
  for (int i = 0; i < outer_num_; ++i) {
    for (int j = 0; j < inner_num_; ++j) {
      const int index = i * inner_num_ + j;
      if (has_ignore_label_ && static_cast<int>(labels[index]) == ignore_label_) continue;
      const int label = LabelAt(labels, index);
      for (int k = 0; k < num_labels_; ++k) {
        loss -= h[label * num_labels_ + k] *
                std::log(std::max(p[i * dim + k * inner_num_ + j], Dtype(kLogThreshold)));
      }
      ++count;
    }
  }
  top[0]->mutable_cpu_data()[0] =
      loss / LossNormalizer<Dtype>(normalization_, outer_num_, inner_num_, count);
  if (top.size() == 2) top[1]->ShareData(prob_);
}

template <typename Dtype>
void InfogainLossLayer<Dtype>::Backward_cpu(const BlobVec& top,
                                            const std::vector<bool>& propagate_down,
                                            const BlobVec& bottom) {
  MOKA_CHECK(!propagate_down[1], ConfigError, "cannot backpropagate to the labels (bottom 1)");
  MOKA_CHECK(propagate_down.size() < 3 || !propagate_down[2], ConfigError,
             "cannot backpropagate to the infogain matrix (bottom 2)");
  if (!propagate_down[0]) return;
  // A matrix given as a bottom may change between passes.
  if (bottom.size() > 2) SumRowsOfH(*bottom[2]);
  const Dtype* p = prob_.cpu_data();
  const Dtype* labels = bottom[1]->cpu_data();
  const Dtype* h = Infogain(bottom).cpu_data();
  const Dtype* sums = sum_rows_h_.cpu_data();
  Dtype* dx = bottom[0]->mutable_cpu_diff();
  const int dim = num_labels_ * inner_num_;
  int count = 0;
  for (int i = 0; i < outer_num_; ++i) {
    for (int j = 0; j < inner_num_; ++j) {
      const int index = i * inner_num_ + j;
      if (has_ignore_label_ && static_cast<int>(labels[index]) == ignore_label_) {
        for (int k = 0; k < num_labels_; ++k) dx[i * dim + k * inner_num_ + j] = 0;
        continue;
      }
      const int label = LabelAt(labels, index);
      for (int k = 0; k < num_labels_; ++k) {
        const int at = i * dim + k * inner_num_ + j;
        dx[at] = p[at] * sums[label] - h[label * num_labels_ + k];
      }
      ++count;
    }
  }
  const Dtype scale =
      top[0]->cpu_diff()[0] / LossNormalizer<Dtype>(normalization_, outer_num_, inner_num_, count);
  cpu_scal(bottom[0]->count(), scale, dx);
}

MOKA_INSTANTIATE_CLASS(InfogainLossLayer);
MOKA_REGISTER_LAYER(InfogainLoss);

}  // namespace moka
