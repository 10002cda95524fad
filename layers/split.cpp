#include "layers/split.hpp"

#include "layer_registry.hpp"
#include "math_functions.hpp"
#ifdef MOKA_CUDA
#include "math_functions_gpu.hpp"
#endif

namespace moka {

template <typename Dtype>
void SplitLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  for (size_t i = 0; i < top.size(); ++i) {
    // Backward accumulates the tops' diffs into the bottom's, so no top may be the bottom.
    MOKA_CHECK(top[i] != bottom[0], ConfigError, "Split cannot run in place (top " << i << ")");
    top[i]->ReshapeLike(*bottom[0]);
    // Sharing here, where Forward always passes, leaves nothing for Forward itself to do.
    top[i]->ShareData(*bottom[0]);
  }
}

template <typename Dtype>
void SplitLayer<Dtype>::Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                     const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const int n = bottom[0]->count();
  Dtype* dx = bottom[0]->mutable_cpu_diff();
  if (top.size() == 1) {
    cpu_copy(n, top[0]->cpu_diff(), dx);
    return;
  }
  cpu_add(n, top[0]->cpu_diff(), top[1]->cpu_diff(), dx);
  for (size_t i = 2; i < top.size(); ++i) cpu_axpy(n, Dtype(1), top[i]->cpu_diff(), dx);
}

#ifdef MOKA_CUDA

template <typename Dtype>
void SplitLayer<Dtype>::Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                     const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const int n = bottom[0]->count();
  Dtype* dx = bottom[0]->mutable_gpu_diff();
  if (top.size() == 1) {
    gpu_copy(n, top[0]->gpu_diff(), dx);
    return;
  }
  gpu_add(n, top[0]->gpu_diff(), top[1]->gpu_diff(), dx);
  for (size_t i = 2; i < top.size(); ++i) gpu_axpy(n, Dtype(1), top[i]->gpu_diff(), dx);
}

#endif  // MOKA_CUDA

MOKA_INSTANTIATE_CLASS(SplitLayer);
MOKA_REGISTER_LAYER(Split);

}  // namespace moka
