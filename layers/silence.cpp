#include "layers/silence.hpp"

#include "layer_registry.hpp"
#include "math_functions.hpp"
#ifdef MOKA_CUDA
#include "math_functions_gpu.hpp"
#endif

namespace moka {

template <typename Dtype>
void SilenceLayer<Dtype>::Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                       const BlobVec& bottom) {
  for (size_t i = 0; i < bottom.size(); ++i) {
    if (propagate_down[i]) cpu_set(bottom[i]->count(), Dtype(0), bottom[i]->mutable_cpu_diff());
  }
}

#ifdef MOKA_CUDA

template <typename Dtype>
void SilenceLayer<Dtype>::Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                       const BlobVec& bottom) {
  for (size_t i = 0; i < bottom.size(); ++i) {
    if (propagate_down[i]) gpu_set(bottom[i]->count(), Dtype(0), bottom[i]->mutable_gpu_diff());
  }
}

#endif  // MOKA_CUDA

MOKA_INSTANTIATE_CLASS(SilenceLayer);
MOKA_REGISTER_LAYER(Silence);

}  // namespace moka
