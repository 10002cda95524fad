#include "cuda_check.hpp"
#include "device_math.cuh"
#include "layers/reduction.hpp"

namespace moka {
namespace {

// One block per row (grid-striding over rows): the threads sum strided parts of the row in
// double, then combine them in shared memory.
template <typename Dtype>
__global__ void ReductionForwardKernel(int num, int dim, ReductionParameter::ReductionOp op,
                                       const Dtype* x, bool scale, Dtype coeff, Dtype* y) {
  __shared__ double partial[kCudaThreads];
  for (int row = blockIdx.x; row < num; row += gridDim.x) {
    const Dtype* values = x + static_cast<size_t>(row) * dim;
    double sum = 0;
    for (int k = threadIdx.x; k < dim; k += blockDim.x) {
      const double v = values[k];
      switch (op) {
        case ReductionParameter::ASUM:
          sum += fabs(v);
          break;
        case ReductionParameter::SUMSQ:
          sum += v * v;
          break;
        default:  // SUM, MEAN
          sum += v;
          break;
      }
    }
    partial[threadIdx.x] = sum;
    __syncthreads();
    for (int width = blockDim.x / 2; width > 0; width /= 2) {
      if (static_cast<int>(threadIdx.x) < width) partial[threadIdx.x] += partial[threadIdx.x + width];
      __syncthreads();
    }
    if (threadIdx.x == 0) {
      // Rounded to Dtype before scaling, as the CPU scales the stored sums.
      const Dtype result = static_cast<Dtype>(partial[0]);
      y[row] = scale ? result * coeff : result;
    }
    __syncthreads();
  }
}

template <typename Dtype>
__global__ void ReductionBackwardKernel(int n, int dim, ReductionParameter::ReductionOp op,
                                        const Dtype* x, const Dtype* dy, Dtype coeff, Dtype* dx) {
  MOKA_CUDA_KERNEL_LOOP(i, n) {
    const Dtype g = dy[i / dim] * coeff;
    switch (op) {
      case ReductionParameter::ASUM:
        dx[i] = Dtype((Dtype(0) < x[i]) - (x[i] < Dtype(0))) * g;
        break;
      case ReductionParameter::SUMSQ:
        dx[i] = (2 * g) * x[i];
        break;
      default:  // SUM, MEAN
        dx[i] = g;
        break;
    }
  }
}

void CheckOp(ReductionParameter::ReductionOp op) {
  MOKA_CHECK(op == ReductionParameter::SUM || op == ReductionParameter::MEAN ||
                 op == ReductionParameter::ASUM || op == ReductionParameter::SUMSQ,
             ConfigError, "unknown reduction operation " << static_cast<int>(op));
}

}  // namespace

template <typename Dtype>
void ReductionLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  CheckOp(op_);
  if (num_ == 0) return;
  const int blocks = num_ < kCudaMaxBlocks ? num_ : kCudaMaxBlocks;
  ReductionForwardKernel<Dtype><<<blocks, kCudaThreads>>>(num_, dim_, op_, bottom[0]->gpu_data(),
                                                          coeff_ != Dtype(1), coeff_,
                                                          top[0]->mutable_gpu_data());
  MOKA_CUDA_LAUNCH_CHECK();
}

template <typename Dtype>
void ReductionLayer<Dtype>::Backward_gpu(const BlobVec& top,
                                         const std::vector<bool>& propagate_down,
                                         const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  CheckOp(op_);
  const int n = num_ * dim_;
  if (n == 0) return;
  ReductionBackwardKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(
      n, dim_, op_, bottom[0]->gpu_data(), top[0]->gpu_diff(), coeff_,
      bottom[0]->mutable_gpu_diff());
  MOKA_CUDA_LAUNCH_CHECK();
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(ReductionLayer);

}  // namespace moka
