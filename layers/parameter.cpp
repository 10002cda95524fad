#include "layers/parameter.hpp"

#include "layer_registry.hpp"

namespace moka {

template <typename Dtype>
void ParameterLayer<Dtype>::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  const BlobShape& shape = this->layer_param_.parameter_param().shape();
  if (this->blobs_.empty()) {
    // Zero-initialised; the parameter gets its values from a trained model or from training.
    this->blobs_.push_back(std::make_shared<Blob<Dtype>>());
    this->blobs_[0]->Reshape(shape);
    this->blobs_[0]->set_data(0);
  } else {
    MOKA_CHECK(this->blobs_.size() == 1, ConfigError,
               "has " << this->blobs_.size() << " parameter blobs, expected 1");
  }
  this->param_propagate_down_.assign(1, true);
  top[0]->Reshape(shape);
  // Shared now so consumers set up against the blob's memory, and again in every Forward in
  // case the blob was reallocated since (a reshape when loading weights).
  top[0]->ShareData(*this->blobs_[0]);
  top[0]->ShareDiff(*this->blobs_[0]);
}

template <typename Dtype>
void ParameterLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  top[0]->ShareData(*this->blobs_[0]);
  top[0]->ShareDiff(*this->blobs_[0]);
}

MOKA_INSTANTIATE_CLASS(ParameterLayer);
MOKA_REGISTER_LAYER(Parameter);

}  // namespace moka
