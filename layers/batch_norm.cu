#include "cuda_check.hpp"
#include "layers/batch_norm.hpp"
#include "math_functions_gpu.hpp"

namespace moka {
namespace {

// out[n, c, s] = values[c].
template <typename Dtype>
__global__ void BroadcastChannelsKernel(int count, int channels, int spatial, const Dtype* values,
                                        Dtype* out) {
  MOKA_CUDA_KERNEL_LOOP(i, count) out[i] = values[(i / spatial) % channels];
}

// data[n, c, s] += sign * values[c].
template <typename Dtype>
__global__ void AddPerChannelKernel(int count, int channels, int spatial, const Dtype* values,
                                    Dtype sign, Dtype* data) {
  MOKA_CUDA_KERNEL_LOOP(i, count) data[i] += sign * values[(i / spatial) % channels];
}

// The global statistics: sums divided by the factor (0 while the factor is 0). The factor is read
// on the device, so a TEST pass does not pull it to the host.
template <typename Dtype>
__global__ void GlobalStatsKernel(int channels, const Dtype* mean_sum, const Dtype* var_sum,
                                  const Dtype* factor, Dtype* mean, Dtype* variance) {
  const Dtype scale = factor[0] == Dtype(0) ? Dtype(0) : Dtype(1) / factor[0];
  MOKA_CUDA_KERNEL_LOOP(c, channels) {
    mean[c] = scale * mean_sum[c];
    variance[c] = scale * var_sum[c];
  }
}

template <typename Dtype>
__global__ void AdvanceFactorKernel(Dtype fraction, Dtype* factor) {
  factor[0] = factor[0] * fraction + Dtype(1);
}

}  // namespace

template <typename Dtype>
void BatchNormLayer<Dtype>::ChannelSumsGpu(const Dtype* data, Dtype alpha, Dtype* out) {
  GpuResources& gpu = this->context().gpu();
  // Sum over space (scaled), then over the batch, in the CPU's order.
  gpu_gemv<Dtype>(gpu, Trans::kNo, num_ * channels_, spatial_dim_, alpha, data,
                  spatial_sum_multiplier_.gpu_data(), Dtype(0), num_by_chans_.mutable_gpu_data());
  gpu_gemv<Dtype>(gpu, Trans::kYes, num_, channels_, Dtype(1), num_by_chans_.gpu_data(),
                  batch_sum_multiplier_.gpu_data(), Dtype(0), out);
}

template <typename Dtype>
void BatchNormLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  const int count = bottom[0]->count();
  if (count == 0 || channels_ == 0) return;
  if (bottom[0] != top[0]) gpu_copy(count, bottom[0]->gpu_data(), top[0]->mutable_gpu_data());
  const Dtype mean_scale = Dtype(1. / num_ / spatial_dim_);
  if (use_global_stats_) {
    GlobalStatsKernel<Dtype><<<CudaBlocks(channels_), kCudaThreads>>>(
        channels_, this->blobs_[0]->gpu_data(), this->blobs_[1]->gpu_data(),
        this->blobs_[2]->gpu_data(), mean_.mutable_gpu_data(), variance_.mutable_gpu_data());
    MOKA_CUDA_LAUNCH_CHECK();
  } else {
    ChannelSumsGpu(bottom[0]->gpu_data(), mean_scale, mean_.mutable_gpu_data());
  }
  Dtype* y = top[0]->mutable_gpu_data();
  AddPerChannelKernel<Dtype><<<CudaBlocks(count), kCudaThreads>>>(count, channels_, spatial_dim_,
                                                                  mean_.gpu_data(), Dtype(-1), y);
  MOKA_CUDA_LAUNCH_CHECK();

  if (!use_global_stats_) {
    gpu_sqr(count, static_cast<const Dtype*>(y), temp_.mutable_gpu_data());
    ChannelSumsGpu(temp_.gpu_data(), mean_scale, variance_.mutable_gpu_data());
    AdvanceFactorKernel<Dtype>
        <<<1, 1>>>(moving_average_fraction_, this->blobs_[2]->mutable_gpu_data());
    MOKA_CUDA_LAUNCH_CHECK();
    gpu_axpby(channels_, Dtype(1), mean_.gpu_data(), moving_average_fraction_,
              this->blobs_[0]->mutable_gpu_data());
    // The running variance is stored unbiased.
    const int m = count / channels_;
    const Dtype correction = m > 1 ? Dtype(m) / Dtype(m - 1) : Dtype(1);
    gpu_axpby(channels_, correction, variance_.gpu_data(), moving_average_fraction_,
              this->blobs_[1]->mutable_gpu_data());
  }

  gpu_add_scalar(channels_, eps_, variance_.mutable_gpu_data());
  gpu_sqrt(channels_, variance_.gpu_data(), variance_.mutable_gpu_data());
  BroadcastChannelsKernel<Dtype><<<CudaBlocks(count), kCudaThreads>>>(
      count, channels_, spatial_dim_, variance_.gpu_data(), temp_.mutable_gpu_data());
  MOKA_CUDA_LAUNCH_CHECK();
  gpu_div(count, static_cast<const Dtype*>(y), temp_.gpu_data(), y);
  gpu_copy(count, static_cast<const Dtype*>(y), x_norm_.mutable_gpu_data());
}

template <typename Dtype>
void BatchNormLayer<Dtype>::Backward_gpu(const BlobVec& top,
                                         const std::vector<bool>& propagate_down,
                                         const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const int count = bottom[0]->count();
  if (count == 0 || channels_ == 0) return;
  const Dtype* dy = top[0]->gpu_diff();
  if (bottom[0] == top[0]) {
    // In place the bottom diff is the top diff; keep a copy before overwriting it.
    gpu_copy(count, dy, x_norm_.mutable_gpu_diff());
    dy = x_norm_.gpu_diff();
  }
  Dtype* dx = bottom[0]->mutable_gpu_diff();
  if (use_global_stats_) {
    gpu_div(count, dy, temp_.gpu_data(), dx);
    return;
  }
  // dx = (dy - mean(dy) - y * mean(dy * y)) / sqrt(var + eps), means per channel.
  const Dtype* y = x_norm_.gpu_data();
  gpu_mul(count, y, dy, dx);
  ChannelSumsGpu(dx, Dtype(1), mean_.mutable_gpu_data());
  BroadcastChannelsKernel<Dtype>
      <<<CudaBlocks(count), kCudaThreads>>>(count, channels_, spatial_dim_, mean_.gpu_data(), dx);
  MOKA_CUDA_LAUNCH_CHECK();
  gpu_mul(count, y, static_cast<const Dtype*>(dx), dx);
  ChannelSumsGpu(dy, Dtype(1), mean_.mutable_gpu_data());
  AddPerChannelKernel<Dtype><<<CudaBlocks(count), kCudaThreads>>>(count, channels_, spatial_dim_,
                                                                  mean_.gpu_data(), Dtype(1), dx);
  MOKA_CUDA_LAUNCH_CHECK();
  gpu_axpby(count, Dtype(1), dy, Dtype(-1. / (num_ * spatial_dim_)), dx);
  gpu_div(count, static_cast<const Dtype*>(dx), temp_.gpu_data(), dx);
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(BatchNormLayer);

}  // namespace moka
