#include "im2col_gpu.hpp"
#include "layers/im2col.hpp"

namespace moka {

template <typename Dtype>
void Im2colLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  const Dtype* x = bottom[0]->gpu_data();
  Dtype* y = top[0]->mutable_gpu_data();
  for (int n = 0; n < num_; ++n) Im2colGpu(x + n * bottom_dim_, geometry_, y + n * top_dim_);
}

template <typename Dtype>
void Im2colLayer<Dtype>::Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                      const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const Dtype* dy = top[0]->gpu_diff();
  Dtype* dx = bottom[0]->mutable_gpu_diff();
  for (int n = 0; n < num_; ++n) Col2imGpu(dy + n * top_dim_, geometry_, dx + n * bottom_dim_);
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(Im2colLayer);

}  // namespace moka
