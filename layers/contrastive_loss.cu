#include "cuda_check.hpp"
#include "device_math.cuh"
#include "layers/contrastive_loss.hpp"
#include "math_functions_gpu.hpp"

namespace moka {
namespace {

// One block per pair (grid-striding over pairs): the squared distance, summed in double in
// shared memory, and the pair's loss term.
template <typename Dtype>
__global__ void ContrastiveForwardKernel(int num, int channels, const Dtype* diff,
                                         const Dtype* similar, bool legacy, Dtype margin,
                                         Dtype* dist_sq, Dtype* losses) {
  __shared__ double partial[kCudaThreads];
  for (int n = blockIdx.x; n < num; n += gridDim.x) {
    const Dtype* d = diff + static_cast<size_t>(n) * channels;
    double sum = 0;
    for (int c = threadIdx.x; c < channels; c += blockDim.x) sum += static_cast<double>(d[c]) * d[c];
    partial[threadIdx.x] = sum;
    __syncthreads();
    for (int width = blockDim.x / 2; width > 0; width /= 2) {
      if (static_cast<int>(threadIdx.x) < width) partial[threadIdx.x] += partial[threadIdx.x + width];
      __syncthreads();
    }
    if (threadIdx.x == 0) {
      const Dtype dsq = static_cast<Dtype>(partial[0]);
      dist_sq[n] = dsq;
      if (device::ToInt(similar[n]) != 0) {
        losses[n] = dsq;
      } else if (legacy) {
        const Dtype gap = margin - dsq;
        losses[n] = gap < Dtype(0) ? Dtype(0) : gap;
      } else {
        Dtype gap = margin - device::Sqrt(dsq);
        gap = gap < Dtype(0) ? Dtype(0) : gap;
        losses[n] = gap * gap;
      }
    }
    __syncthreads();
  }
}

// alpha = +-loss_weight / N for the first and second bottom.
template <typename Dtype>
__global__ void ContrastiveBackwardKernel(int n, int channels, const Dtype* diff,
                                          const Dtype* dist_sq, const Dtype* similar, bool legacy,
                                          Dtype margin, Dtype alpha, Dtype* dx) {
  MOKA_CUDA_KERNEL_LOOP(i, n) {
    const int pair = i / channels;
    if (device::ToInt(similar[pair]) != 0) {
      dx[i] = alpha * diff[i];
      continue;
    }
    Dtype gap;
    Dtype beta;
    if (legacy) {
      gap = margin - dist_sq[pair];
      beta = -alpha;
    } else {
      const Dtype dist = device::Sqrt(dist_sq[pair]);
      gap = margin - dist;
      // The 1e-4 keeps coincident pairs finite, as on the CPU.
      beta = -alpha * gap / (dist + Dtype(1e-4));
    }
    dx[i] = gap > Dtype(0) ? beta * diff[i] : Dtype(0);
  }
}

}  // namespace

template <typename Dtype>
void ContrastiveLossLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  const ContrastiveLossParameter& param = this->layer_param_.contrastive_loss_param();
  const int num = bottom[0]->shape(0);
  const int count = bottom[0]->count();
  double loss = 0;
  if (count > 0) {
    gpu_sub(count, bottom[0]->gpu_data(), bottom[1]->gpu_data(), diff_.mutable_gpu_data());
  }
  if (num > 0) {
    gpu_losses_.Reshape({num});
    const int blocks = num < kCudaMaxBlocks ? num : kCudaMaxBlocks;
    ContrastiveForwardKernel<Dtype><<<blocks, kCudaThreads>>>(
        num, channels_, diff_.gpu_data(), bottom[2]->gpu_data(), param.legacy_version(),
        Dtype(param.margin()), dist_sq_.mutable_gpu_data(), gpu_losses_.mutable_gpu_data());
    MOKA_CUDA_LAUNCH_CHECK();
    loss = gpu_sum(num, gpu_losses_.gpu_data());
  }
  top[0]->mutable_cpu_data()[0] = static_cast<Dtype>(loss) / static_cast<Dtype>(num) / Dtype(2);
}

template <typename Dtype>
void ContrastiveLossLayer<Dtype>::Backward_gpu(const BlobVec& top,
                                               const std::vector<bool>& propagate_down,
                                               const BlobVec& bottom) {
  MOKA_CHECK(!propagate_down[2], ConfigError,
             "cannot backpropagate to the similarity labels (bottom 2)");
  const ContrastiveLossParameter& param = this->layer_param_.contrastive_loss_param();
  const int num = bottom[0]->shape(0);
  const int count = bottom[0]->count();
  if (count == 0) return;
  for (int i = 0; i < 2; ++i) {
    if (!propagate_down[i]) continue;
    const Dtype sign = i == 0 ? Dtype(1) : Dtype(-1);
    const Dtype alpha = sign * top[0]->cpu_diff()[0] / static_cast<Dtype>(num);
    ContrastiveBackwardKernel<Dtype><<<CudaBlocks(count), kCudaThreads>>>(
        count, channels_, diff_.gpu_data(), dist_sq_.gpu_data(), bottom[2]->gpu_data(),
        param.legacy_version(), Dtype(param.margin()), alpha, bottom[i]->mutable_gpu_diff());
    MOKA_CUDA_LAUNCH_CHECK();
  }
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(ContrastiveLossLayer);

}  // namespace moka
