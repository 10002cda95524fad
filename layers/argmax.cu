#include "cuda_check.hpp"
#include "layers/argmax.hpp"

namespace moka {
namespace {

// (value, index) pairs ordered as std::greater orders std::pair: by value, ties by index.
template <typename Dtype>
__device__ __forceinline__ bool PairGreater(Dtype a, int ia, Dtype b, int ib) {
  return b < a || (!(a < b) && ib < ia);
}

// One thread per searched line: the top_k picks are found one after another, each the greatest
// pair below the previous pick, which gives partial_sort's descending order without scratch
// memory.
template <typename Dtype>
__global__ void ArgMaxKernel(int num, int dim, int stride, int top_k, bool has_axis,
                             bool out_max_val, const Dtype* x, Dtype* y) {
  MOKA_CUDA_KERNEL_LOOP(i, num) {
    const int outer = i / stride;
    const int inner = i % stride;
    const Dtype* line = x + static_cast<size_t>(outer) * dim * stride + inner;
    Dtype last_value = 0;
    int last_index = -1;
    for (int j = 0; j < top_k; ++j) {
      Dtype best_value = 0;
      int best_index = -1;
      for (int k = 0; k < dim; ++k) {
        const Dtype v = line[static_cast<size_t>(k) * stride];
        if (last_index >= 0 && !PairGreater(last_value, last_index, v, k)) continue;
        if (best_index < 0 || PairGreater(v, k, best_value, best_index)) {
          best_value = v;
          best_index = k;
        }
      }
      last_value = best_value;
      last_index = best_index;
      const size_t along_axis = (static_cast<size_t>(outer) * top_k + j) * stride + inner;
      if (has_axis) {
        y[along_axis] = out_max_val ? best_value : Dtype(best_index);
      } else if (out_max_val) {
        y[2 * static_cast<size_t>(i) * top_k + j] = Dtype(best_index);
        y[2 * static_cast<size_t>(i) * top_k + top_k + j] = best_value;
      } else {
        y[along_axis] = Dtype(best_index);
      }
    }
  }
}

}  // namespace

template <typename Dtype>
void ArgMaxLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  const int dim = has_axis_ ? bottom[0]->shape(axis_) : bottom[0]->count(1);
  if (dim == 0 || bottom[0]->count() == 0) return;
  const int stride = has_axis_ ? bottom[0]->count(axis_) / dim : 1;
  const int num = bottom[0]->count() / dim;
  ArgMaxKernel<Dtype><<<CudaBlocks(num), kCudaThreads>>>(num, dim, stride, top_k_, has_axis_,
                                                         out_max_val_, bottom[0]->gpu_data(),
                                                         top[0]->mutable_gpu_data());
  MOKA_CUDA_LAUNCH_CHECK();
}

template <typename Dtype>
void ArgMaxLayer<Dtype>::Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                      const BlobVec& bottom) {
  MOKA_CHECK(!propagate_down[0], ConfigError,
             "has no backward pass (indices are not differentiable); set propagate_down: false");
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(ArgMaxLayer);

}  // namespace moka
