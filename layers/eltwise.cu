#include "cuda_check.hpp"
#include "layers/eltwise.hpp"
#include "math_functions_gpu.hpp"

namespace moka {
namespace {

// Bottom `which` against the running maximum; `which` == 1 starts from bottoms 0 and 1, where ties
// go to bottom 1 (as on the CPU).
template <typename Dtype>
__global__ void MaxForwardKernel(int n, const Dtype* a, const Dtype* b, int which, Dtype* y,
                                 int* index) {
  MOKA_CUDA_KERNEL_LOOP(k, n) {
    if (which == 1) {
      const bool first = a[k] > b[k];
      const Dtype best = first ? a[k] : b[k];
      index[k] = first ? 0 : 1;
      y[k] = best;
    } else if (b[k] > y[k]) {
      y[k] = b[k];
      index[k] = which;
    }
  }
}

template <typename Dtype>
__global__ void MaxBackwardKernel(int n, const Dtype* dy, const int* index, int which, Dtype* dx) {
  MOKA_CUDA_KERNEL_LOOP(k, n) dx[k] = index[k] == which ? dy[k] : Dtype(0);
}

}  // namespace

template <typename Dtype>
void EltwiseLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  const int n = top[0]->count();
  switch (op_) {
    case EltwiseParameter::PROD: {
      const Dtype* a = bottom[0]->gpu_data();
      const Dtype* b = bottom[1]->gpu_data();
      Dtype* y = top[0]->mutable_gpu_data();
      gpu_mul(n, a, b, y);
      for (size_t i = 2; i < bottom.size(); ++i) {
        gpu_mul(n, static_cast<const Dtype*>(y), bottom[i]->gpu_data(), y);
      }
      break;
    }
    case EltwiseParameter::SUM: {
      Dtype* y = top[0]->mutable_gpu_data();
      gpu_set(n, Dtype(0), y);
      for (size_t i = 0; i < bottom.size(); ++i) gpu_axpy(n, coeffs_[i], bottom[i]->gpu_data(), y);
      break;
    }
    case EltwiseParameter::MAX: {
      const size_t bytes = static_cast<size_t>(n) * sizeof(int);
      if (!gpu_max_index_ || gpu_max_index_->size() != bytes) {
        gpu_max_index_ = std::make_unique<SyncedMemory>(bytes);
      }
      int* index = static_cast<int*>(gpu_max_index_->mutable_gpu_data());
      const Dtype* a = bottom[0]->gpu_data();
      Dtype* y = top[0]->mutable_gpu_data();
      if (n == 0) break;
      for (size_t i = 1; i < bottom.size(); ++i) {
        MaxForwardKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, a, bottom[i]->gpu_data(),
                                                                 static_cast<int>(i), y, index);
        MOKA_CUDA_LAUNCH_CHECK();
      }
      break;
    }
    default:
      MOKA_THROW(ConfigError, "unknown eltwise_param.operation " << static_cast<int>(op_));
  }
}

template <typename Dtype>
void EltwiseLayer<Dtype>::Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                       const BlobVec& bottom) {
  CheckNotInPlace(top, bottom);
  const int n = top[0]->count();
  const Dtype* dy = top[0]->gpu_diff();
  for (size_t i = 0; i < bottom.size(); ++i) {
    if (!propagate_down[i]) continue;
    Dtype* dx = bottom[i]->mutable_gpu_diff();
    switch (op_) {
      case EltwiseParameter::PROD:
        if (stable_prod_grad_) {
          bool started = false;
          for (size_t j = 0; j < bottom.size(); ++j) {
            if (j == i) continue;
            if (started) {
              gpu_mul(n, static_cast<const Dtype*>(dx), bottom[j]->gpu_data(), dx);
            } else {
              gpu_copy(n, bottom[j]->gpu_data(), dx);
              started = true;
            }
          }
        } else {
          gpu_div(n, top[0]->gpu_data(), bottom[i]->gpu_data(), dx);
        }
        gpu_mul(n, dy, static_cast<const Dtype*>(dx), dx);
        break;
      case EltwiseParameter::SUM:
        if (coeffs_[i] == Dtype(1)) {
          gpu_copy(n, dy, dx);
        } else {
          gpu_scale(n, coeffs_[i], dy, dx);
        }
        break;
      case EltwiseParameter::MAX:
        MOKA_CHECK(gpu_max_index_ && gpu_max_index_->size() == static_cast<size_t>(n) * sizeof(int),
                   InternalError, "Backward without a Forward of the same shape");
        if (n > 0) {
          MaxBackwardKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(
              n, dy, static_cast<const int*>(gpu_max_index_->gpu_data()), static_cast<int>(i), dx);
          MOKA_CUDA_LAUNCH_CHECK();
        }
        break;
      default:
        MOKA_THROW(ConfigError, "unknown eltwise_param.operation " << static_cast<int>(op_));
    }
  }
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(EltwiseLayer);

}  // namespace moka
