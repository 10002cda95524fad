#include "layers/euclidean_loss.hpp"

#include "layer_registry.hpp"
#include "math_functions.hpp"
#ifdef MOKA_CUDA
#include "math_functions_gpu.hpp"
#endif

namespace moka {

template <typename Dtype>
void EuclideanLossLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  LossLayer<Dtype>::Reshape(bottom, top);
  MOKA_CHECK(bottom[0]->count(1) == bottom[1]->count(1), ShapeError,
             "inputs must have the same dimension per item, got shapes "
                 << bottom[0]->shape_string() << " and " << bottom[1]->shape_string());
  diff_.ReshapeLike(*bottom[0]);
}

template <typename Dtype>
void EuclideanLossLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  const int count = bottom[0]->count();
  cpu_sub(count, bottom[0]->cpu_data(), bottom[1]->cpu_data(), diff_.mutable_cpu_data());
  const Dtype dot = cpu_dot(count, diff_.cpu_data(), diff_.cpu_data());
  top[0]->mutable_cpu_data()[0] = dot / bottom[0]->shape(0) / Dtype(2);
}

template <typename Dtype>
void EuclideanLossLayer<Dtype>::Backward_cpu(const BlobVec& top,
                                             const std::vector<bool>& propagate_down,
                                             const BlobVec& bottom) {
  for (int i = 0; i < 2; ++i) {
    if (!propagate_down[i]) continue;
    const Dtype sign = i == 0 ? 1 : -1;
    const Dtype alpha = sign * top[0]->cpu_diff()[0] / bottom[i]->shape(0);
    cpu_scale(bottom[i]->count(), alpha, diff_.cpu_data(), bottom[i]->mutable_cpu_diff());
  }
}

#ifdef MOKA_CUDA

template <typename Dtype>
void EuclideanLossLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  const int count = bottom[0]->count();
  gpu_sub(count, bottom[0]->gpu_data(), bottom[1]->gpu_data(), diff_.mutable_gpu_data());
  const Dtype dot = gpu_dot(count, diff_.gpu_data(), diff_.gpu_data());
  top[0]->mutable_cpu_data()[0] = dot / bottom[0]->shape(0) / Dtype(2);
}

template <typename Dtype>
void EuclideanLossLayer<Dtype>::Backward_gpu(const BlobVec& top,
                                             const std::vector<bool>& propagate_down,
                                             const BlobVec& bottom) {
  for (int i = 0; i < 2; ++i) {
    if (!propagate_down[i]) continue;
    const Dtype sign = i == 0 ? 1 : -1;
    const Dtype alpha = sign * top[0]->cpu_diff()[0] / bottom[i]->shape(0);
    gpu_scale(bottom[i]->count(), alpha, diff_.gpu_data(), bottom[i]->mutable_gpu_diff());
  }
}

#endif  // MOKA_CUDA

MOKA_INSTANTIATE_CLASS(EuclideanLossLayer);
MOKA_REGISTER_LAYER(EuclideanLoss);

}  // namespace moka
