#include "layers/log.hpp"
#include "math_functions_gpu.hpp"

namespace moka {

template <typename Dtype>
void LogLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  const int n = bottom[0]->count();
  if (n == 0) return;
  const Dtype* x = bottom[0]->gpu_data();
  Dtype* y = top[0]->mutable_gpu_data();
  if (input_scale_ == Dtype(1) && input_shift_ == Dtype(0)) {
    gpu_log(n, x, y);
  } else {
    if (x != y) gpu_copy(n, x, y);
    if (input_scale_ != Dtype(1)) gpu_scal(n, input_scale_, y);
    if (input_shift_ != Dtype(0)) gpu_add_scalar(n, input_shift_, y);
    gpu_log(n, y, y);
  }
  if (base_scale_ != Dtype(1)) gpu_scal(n, base_scale_, y);
}

template <typename Dtype>
void LogLayer<Dtype>::Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                   const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const int n = bottom[0]->count();
  if (n == 0) return;
  Dtype* u = buffer_.mutable_gpu_data();
  gpu_copy(n, bottom[0]->gpu_data(), u);
  if (input_scale_ != Dtype(1)) gpu_scal(n, input_scale_, u);
  if (input_shift_ != Dtype(0)) gpu_add_scalar(n, input_shift_, u);
  gpu_powx(n, u, Dtype(-1), u);
  if (backward_num_scale_ != Dtype(1)) gpu_scal(n, backward_num_scale_, u);
  gpu_mul(n, top[0]->gpu_diff(), u, bottom[0]->mutable_gpu_diff());
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(LogLayer);

}  // namespace moka
