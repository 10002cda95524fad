#include "layers/inner_product.hpp"

#include "filler.hpp"
#include "layer_registry.hpp"
#include "math_functions.hpp"
#ifdef MOKA_CUDA
#include "gpu_resources.hpp"
#include "math_functions_gpu.hpp"
#endif

namespace moka {

template <typename Dtype>
void InnerProductLayer<Dtype>::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  const InnerProductParameter& param = this->layer_param_.inner_product_param();
  N_ = static_cast<int>(param.num_output());
  MOKA_CHECK(N_ > 0, ConfigError, "num_output must be positive");
  bias_term_ = param.bias_term();
  transpose_ = param.transpose();
  const int axis = bottom[0]->CanonicalAxisIndex(param.axis());
  K_ = bottom[0]->count(axis);
  const std::vector<int> weight_shape =
      transpose_ ? std::vector<int>{K_, N_} : std::vector<int>{N_, K_};
  const std::vector<int> bias_shape = {N_};
  if (!this->blobs_.empty()) {
    const size_t expected = bias_term_ ? 2 : 1;
    MOKA_CHECK(this->blobs_.size() == expected, ConfigError,
               "has " << this->blobs_.size() << " parameter blob(s), expected " << expected
                      << " (bias_term " << (bias_term_ ? "true" : "false") << ")");
    const std::vector<int>* shapes[2] = {&weight_shape, &bias_shape};
    for (size_t i = 0; i < expected; ++i) {
      Blob<Dtype>& blob = *this->blobs_[i];
      if (blob.shape() == *shapes[i]) continue;
      const int count = i == 0 ? K_ * N_ : N_;
      // Legacy blobs are 4-D (1 x 1 x N x K, 1 x 1 x 1 x N) but hold the same values.
      MOKA_CHECK(blob.count() == count, ShapeError,
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
void InnerProductLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  const int axis = bottom[0]->CanonicalAxisIndex(this->layer_param_.inner_product_param().axis());
  const int K = bottom[0]->count(axis);
  MOKA_CHECK(K == K_, ShapeError,
             "bottom shape " << bottom[0]->shape_string() << " gives " << K
                             << " inputs per row from axis " << axis << ", the weights expect "
                             << K_);
  M_ = bottom[0]->count(0, axis);
  std::vector<int> top_shape(bottom[0]->shape().begin(), bottom[0]->shape().begin() + axis);
  top_shape.push_back(N_);
  top[0]->Reshape(top_shape);
  if (bias_term_ && bias_multiplier_.count() != M_) {
    bias_multiplier_.Reshape({M_});
    bias_multiplier_.set_data(Dtype(1));
  }
}

template <typename Dtype>
void InnerProductLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  const Dtype* x = bottom[0]->cpu_data();
  const Dtype* weights = this->blobs_[0]->cpu_data();
  Dtype* y = top[0]->mutable_cpu_data();
  cpu_gemm<Dtype>(Trans::kNo, transpose_ ? Trans::kNo : Trans::kYes, M_, N_, K_, Dtype(1), x,
                  weights, Dtype(0), y);
  if (bias_term_) {
    cpu_gemm<Dtype>(Trans::kNo, Trans::kNo, M_, N_, 1, Dtype(1), bias_multiplier_.cpu_data(),
                    this->blobs_[1]->cpu_data(), Dtype(1), y);
  }
}

template <typename Dtype>
void InnerProductLayer<Dtype>::Backward_cpu(const BlobVec& top,
                                            const std::vector<bool>& propagate_down,
                                            const BlobVec& bottom) {
  const Dtype* dy = top[0]->cpu_diff();
  const Dtype* x = bottom[0]->cpu_data();
  if (this->param_propagate_down(0)) {
    Dtype* weight_diff = this->blobs_[0]->mutable_cpu_diff();
    if (transpose_) {
      cpu_gemm<Dtype>(Trans::kYes, Trans::kNo, K_, N_, M_, Dtype(1), x, dy, Dtype(1), weight_diff);
    } else {
      cpu_gemm<Dtype>(Trans::kYes, Trans::kNo, N_, K_, M_, Dtype(1), dy, x, Dtype(1), weight_diff);
    }
  }
  if (bias_term_ && this->param_propagate_down(1)) {
    cpu_gemv<Dtype>(Trans::kYes, M_, N_, Dtype(1), dy, bias_multiplier_.cpu_data(), Dtype(1),
                    this->blobs_[1]->mutable_cpu_diff());
  }
  if (propagate_down[0]) {
    cpu_gemm<Dtype>(Trans::kNo, transpose_ ? Trans::kYes : Trans::kNo, M_, K_, N_, Dtype(1), dy,
                    this->blobs_[0]->cpu_data(), Dtype(0), bottom[0]->mutable_cpu_diff());
  }
}

#ifdef MOKA_CUDA

template <typename Dtype>
void InnerProductLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  GpuResources& gpu = this->context().gpu();
  const Dtype* x = bottom[0]->gpu_data();
  const Dtype* weights = this->blobs_[0]->gpu_data();
  Dtype* y = top[0]->mutable_gpu_data();
  gpu_gemm<Dtype>(gpu, Trans::kNo, transpose_ ? Trans::kNo : Trans::kYes, M_, N_, K_, Dtype(1), x,
                  weights, Dtype(0), y);
  if (bias_term_) {
    gpu_gemm<Dtype>(gpu, Trans::kNo, Trans::kNo, M_, N_, 1, Dtype(1), bias_multiplier_.gpu_data(),
                    this->blobs_[1]->gpu_data(), Dtype(1), y);
  }
}

template <typename Dtype>
void InnerProductLayer<Dtype>::Backward_gpu(const BlobVec& top,
                                            const std::vector<bool>& propagate_down,
                                            const BlobVec& bottom) {
  GpuResources& gpu = this->context().gpu();
  const Dtype* dy = top[0]->gpu_diff();
  if (this->param_propagate_down(0)) {
    const Dtype* x = bottom[0]->gpu_data();
    Dtype* weight_diff = this->blobs_[0]->mutable_gpu_diff();
    if (transpose_) {
      gpu_gemm<Dtype>(gpu, Trans::kYes, Trans::kNo, K_, N_, M_, Dtype(1), x, dy, Dtype(1),
                      weight_diff);
    } else {
      gpu_gemm<Dtype>(gpu, Trans::kYes, Trans::kNo, N_, K_, M_, Dtype(1), dy, x, Dtype(1),
                      weight_diff);
    }
  }
  if (bias_term_ && this->param_propagate_down(1)) {
    gpu_gemv<Dtype>(gpu, Trans::kYes, M_, N_, Dtype(1), dy, bias_multiplier_.gpu_data(), Dtype(1),
                    this->blobs_[1]->mutable_gpu_diff());
  }
  if (propagate_down[0]) {
    gpu_gemm<Dtype>(gpu, Trans::kNo, transpose_ ? Trans::kYes : Trans::kNo, M_, K_, N_, Dtype(1), dy,
                    this->blobs_[0]->gpu_data(), Dtype(0), bottom[0]->mutable_gpu_diff());
  }
}

#endif  // MOKA_CUDA

MOKA_INSTANTIATE_CLASS(InnerProductLayer);
MOKA_REGISTER_LAYER(InnerProduct);

}  // namespace moka
