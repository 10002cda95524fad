#include "layer.hpp"

#include "math_functions.hpp"

namespace moka {

template <typename Dtype>
Layer<Dtype>::Layer(const LayerParameter& param) : layer_param_(param), phase_(param.phase()) {
  for (int i = 0; i < param.blobs_size(); ++i) {
    blobs_.push_back(std::make_shared<Blob<Dtype>>());
    blobs_.back()->FromProto(param.blobs(i));
  }
}

template <typename Dtype>
std::string Layer<Dtype>::Describe() const {
  return "layer '" + layer_param_.name() + "' (" + type() + ")";
}

template <typename Dtype>
Context& Layer<Dtype>::context() const {
  MOKA_ASSERT(context_ != nullptr);
  return *context_;
}

template <typename Dtype>
void Layer<Dtype>::SetUp(const BlobVec& bottom, const BlobVec& top) {
  try {
    CheckBlobCounts(bottom, top);
    LayerSetUp(bottom, top);
    Reshape(bottom, top);
    SetLossWeights(top);
  } catch (Error& error) {
    error.AddContext(Describe());
    throw;
  }
}

template <typename Dtype>
void Layer<Dtype>::CheckBlobCounts(const BlobVec& bottom, const BlobVec& top) const {
  const int nb = static_cast<int>(bottom.size());
  const int nt = static_cast<int>(top.size());
  if (ExactNumBottomBlobs() >= 0)
    MOKA_CHECK(nb == ExactNumBottomBlobs(), ConfigError,
               "takes " << ExactNumBottomBlobs() << " bottom blob(s), got " << nb);
  if (MinBottomBlobs() >= 0)
    MOKA_CHECK(nb >= MinBottomBlobs(), ConfigError,
               "takes at least " << MinBottomBlobs() << " bottom blob(s), got " << nb);
  if (MaxBottomBlobs() >= 0)
    MOKA_CHECK(nb <= MaxBottomBlobs(), ConfigError,
               "takes at most " << MaxBottomBlobs() << " bottom blob(s), got " << nb);
  if (ExactNumTopBlobs() >= 0)
    MOKA_CHECK(nt == ExactNumTopBlobs(), ConfigError,
               "produces " << ExactNumTopBlobs() << " top blob(s), got " << nt);
  if (MinTopBlobs() >= 0)
    MOKA_CHECK(nt >= MinTopBlobs(), ConfigError,
               "produces at least " << MinTopBlobs() << " top blob(s), got " << nt);
  if (MaxTopBlobs() >= 0)
    MOKA_CHECK(nt <= MaxTopBlobs(), ConfigError,
               "produces at most " << MaxTopBlobs() << " top blob(s), got " << nt);
  if (EqualNumBottomTopBlobs())
    MOKA_CHECK(nb == nt, ConfigError,
               "needs as many top blobs as bottom blobs, got " << nb << " and " << nt);
}

template <typename Dtype>
void Layer<Dtype>::SetLossWeights(const BlobVec& top) {
  const int num_weights = layer_param_.loss_weight_size();
  if (num_weights == 0) return;
  MOKA_CHECK(num_weights == static_cast<int>(top.size()), ConfigError,
             "has " << num_weights << " loss_weight value(s) for " << top.size() << " top blob(s)");
  for (int i = 0; i < num_weights; ++i) {
    const Dtype weight = layer_param_.loss_weight(i);
    set_loss(i, weight);
    if (weight == Dtype(0)) continue;
    // The top diff holds the loss weight, so Backward needs no special case for it.
    top[i]->set_diff(weight);
  }
}

template <typename Dtype>
void Layer<Dtype>::set_loss(int top_index, Dtype value) {
  if (static_cast<int>(loss_.size()) <= top_index) loss_.resize(top_index + 1, Dtype(0));
  loss_[top_index] = value;
}

template <typename Dtype>
void Layer<Dtype>::set_param_propagate_down(int index, bool value) {
  if (static_cast<int>(param_propagate_down_.size()) <= index)
    param_propagate_down_.resize(index + 1, true);
  param_propagate_down_[index] = value;
}

template <typename Dtype>
Dtype Layer<Dtype>::Forward(const BlobVec& bottom, const BlobVec& top) {
  Dtype total_loss = 0;
  try {
    Reshape(bottom, top);
    if (context().on_gpu()) {
      Forward_gpu(bottom, top);
    } else {
      Forward_cpu(bottom, top);
    }
  } catch (Error& error) {
    error.AddContext(Describe());
    throw;
  }
  for (size_t i = 0; i < top.size(); ++i) {
    if (loss(static_cast<int>(i)) == Dtype(0)) continue;
    // Loss layers keep the loss weight in their top diff (SetLossWeights).
    total_loss += cpu_dot(top[i]->count(), top[i]->cpu_data(), top[i]->cpu_diff());
  }
  return total_loss;
}

template <typename Dtype>
void Layer<Dtype>::Backward(const BlobVec& top, const std::vector<bool>& propagate_down,
                            const BlobVec& bottom) {
  try {
    if (context().on_gpu()) {
      Backward_gpu(top, propagate_down, bottom);
    } else {
      Backward_cpu(top, propagate_down, bottom);
    }
  } catch (Error& error) {
    error.AddContext(Describe());
    throw;
  }
}

template <typename Dtype>
void Layer<Dtype>::Forward_gpu(const BlobVec&, const BlobVec&) {
  MOKA_THROW(DeviceError, "this layer type has no GPU forward implementation");
}

template <typename Dtype>
void Layer<Dtype>::Backward_gpu(const BlobVec&, const std::vector<bool>&, const BlobVec&) {
  MOKA_THROW(DeviceError, "this layer type has no GPU backward implementation");
}

template <typename Dtype>
void Layer<Dtype>::ToProto(LayerParameter* param, bool write_diff) const {
  param->Clear();
  param->CopyFrom(layer_param_);
  param->clear_blobs();
  for (const auto& blob : blobs_) blob->ToProto(param->add_blobs(), write_diff);
}

MOKA_INSTANTIATE_CLASS(Layer);

}  // namespace moka
