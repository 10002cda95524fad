#include "layers/embed.hpp"

#include "filler.hpp"
#include "layer_registry.hpp"
#include "math_functions.hpp"

namespace moka {

template <typename Dtype>
void EmbedLayer<Dtype>::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  const EmbedParameter& param = this->layer_param_.embed_param();
  N_ = static_cast<int>(param.num_output());
  K_ = static_cast<int>(param.input_dim());
  MOKA_CHECK(N_ > 0, ConfigError, "embed_param num_output must be positive");
  MOKA_CHECK(K_ > 0, ConfigError, "embed_param input_dim must be positive");
  bias_term_ = param.bias_term();
  const std::vector<int> weight_shape = {K_, N_};
  const std::vector<int> bias_shape = {N_};
  if (!this->blobs_.empty()) {
    const size_t expected = bias_term_ ? 2 : 1;
    MOKA_CHECK(this->blobs_.size() == expected, ConfigError,
               "has " << this->blobs_.size() << " parameter blob(s), expected " << expected);
    const std::vector<int>* shapes[2] = {&weight_shape, &bias_shape};
    for (size_t i = 0; i < expected; ++i) {
      Blob<Dtype>& blob = *this->blobs_[i];
      if (blob.shape() == *shapes[i]) continue;
      MOKA_CHECK(blob.count() == (i == 0 ? K_ * N_ : N_), ShapeError,
                 (i == 0 ? "weight" : "bias") << " blob has shape " << blob.shape_string()
                                              << ", expected " << ShapeString(*shapes[i]));
      blob.Reshape(*shapes[i]);
    }
  } else {
    this->blobs_.push_back(std::make_shared<Blob<Dtype>>(weight_shape));
    Fill(param.weight_filler(), this->context().rng(), this->blobs_[0].get());
    if (bias_term_) {
      this->blobs_.push_back(std::make_shared<Blob<Dtype>>(bias_shape));
      Fill(param.bias_filler(), this->context().rng(), this->blobs_[1].get());
    }
  }
  this->param_propagate_down_.assign(this->blobs_.size(), true);
}

template <typename Dtype>
void EmbedLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  M_ = bottom[0]->count();
  std::vector<int> shape = bottom[0]->shape();
  shape.push_back(N_);
  top[0]->Reshape(shape);
  if (bias_term_ && bias_multiplier_.count() != M_) {
    bias_multiplier_.Reshape({M_});
    bias_multiplier_.set_data(1);
  }
}

template <typename Dtype>
int EmbedLayer<Dtype>::Index(const Dtype* x, int n) const {
  const int index = static_cast<int>(x[n]);
  MOKA_CHECK(index >= 0 && index < K_ && Dtype(index) == x[n], ShapeError,
             "bottom value " << x[n] << " at position " << n << " is not an integer index in [0, "
                             << K_ << ")");
  return index;
}

template <typename Dtype>
void EmbedLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  const Dtype* x = bottom[0]->cpu_data();
  const Dtype* weight = this->blobs_[0]->cpu_data();
  Dtype* y = top[0]->mutable_cpu_data();
  for (int n = 0; n < M_; ++n) {
    cpu_copy(N_, weight + static_cast<size_t>(Index(x, n)) * N_, y + static_cast<size_t>(n) * N_);
  }
  if (bias_term_) {
    cpu_gemm(Trans::kNo, Trans::kNo, M_, N_, 1, Dtype(1), bias_multiplier_.cpu_data(),
             this->blobs_[1]->cpu_data(), Dtype(1), y);
  }
}

template <typename Dtype>
void EmbedLayer<Dtype>::Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                     const BlobVec& bottom) {
  MOKA_CHECK(!propagate_down[0], ConfigError,
             "cannot backpropagate to its input (indices); set propagate_down: false");
  const Dtype* dy = top[0]->cpu_diff();
  if (this->param_propagate_down(0)) {
    const Dtype* x = bottom[0]->cpu_data();
    Dtype* dw = this->blobs_[0]->mutable_cpu_diff();
    for (int n = 0; n < M_; ++n) {
      cpu_axpy(N_, Dtype(1), dy + static_cast<size_t>(n) * N_,
               dw + static_cast<size_t>(Index(x, n)) * N_);
    }
  }
  if (bias_term_ && this->param_propagate_down(1)) {
    cpu_gemv(Trans::kYes, M_, N_, Dtype(1), dy, bias_multiplier_.cpu_data(), Dtype(1),
             this->blobs_[1]->mutable_cpu_diff());
  }
}

MOKA_INSTANTIATE_CLASS(EmbedLayer);
MOKA_REGISTER_LAYER(Embed);

}  // namespace moka
