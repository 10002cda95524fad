#include "cuda_check.hpp"
#include "device_math.cuh"
#include "layers/lrn.hpp"

namespace moka {
namespace {

// ACROSS_CHANNELS: one thread per (image, h, w) slides the channel window exactly as the CPU code
// does (add the square entering, then subtract the one leaving), so both accumulate alike.
template <typename Dtype>
__global__ void CrossChannelForwardKernel(int n, int channels, int plane, int size, int pre_pad,
                                          Dtype alpha_over_size, Dtype k, Dtype neg_beta,
                                          const Dtype* x, Dtype* scale, Dtype* y) {
  MOKA_CUDA_KERNEL_LOOP(index, n) {
    const int image = index / plane;
    const int offset = image * channels * plane + index % plane;
    // The square of channel c of the zero-padded stack (c counted in the padded numbering).
    auto padded = [&](int c) -> Dtype {
      const int real = c - pre_pad;
      if (real < 0 || real >= channels) return Dtype(0);
      const Dtype v = x[offset + real * plane];
      return v * v;
    };
    Dtype s = k;
    for (int c = 0; c < size; ++c) s += alpha_over_size * padded(c);
    scale[offset] = s;
    for (int c = 1; c < channels; ++c) {
      s += alpha_over_size * padded(c + size - 1);
      s += -alpha_over_size * padded(c - 1);
      scale[offset + c * plane] = s;
    }
    for (int c = 0; c < channels; ++c) {
      const int i = offset + c * plane;
      y[i] = device::Pow(scale[i], neg_beta) * x[i];
    }
  }
}

template <typename Dtype>
__global__ void CrossChannelBackwardKernel(int n, int channels, int plane, int size, int pre_pad,
                                           Dtype ratio_coeff, Dtype neg_beta, const Dtype* x,
                                           const Dtype* y, const Dtype* scale, const Dtype* dy,
                                           Dtype* dx) {
  MOKA_CUDA_KERNEL_LOOP(index, n) {
    const int image = index / plane;
    const int offset = image * channels * plane + index % plane;
    auto ratio = [&](int c) -> Dtype {
      const int real = c - pre_pad;
      if (real < 0 || real >= channels) return Dtype(0);
      const int i = offset + real * plane;
      return dy[i] * y[i] / scale[i];
    };
    Dtype accum = 0;
    for (int c = 0; c < size - 1; ++c) accum += ratio(c);
    for (int c = 0; c < channels; ++c) {
      const int i = offset + c * plane;
      accum += ratio(c + size - 1);
      const Dtype direct = dy[i] * device::Pow(scale[i], neg_beta);
      dx[i] = direct + -ratio_coeff * (x[i] * accum);
      accum += Dtype(-1) * ratio(c);
    }
  }
}

// First and one-past-last window centre whose window [centre - pre_pad, + size) contains i.
__device__ __forceinline__ void CoveringCentres(int i, int size, int pre_pad, int extent,
                                                int* first, int* last) {
  *first = (i + pre_pad < size) ? 0 : i + pre_pad - size + 1;
  *last = min(i + pre_pad + 1, extent);
}

// WITHIN_CHANNEL: the window average of squares (zero padding counted, as AVE pooling counts it).
template <typename Dtype>
__global__ void WithinChannelForwardKernel(int n, int height, int width, int size, int pre_pad,
                                           Dtype alpha, Dtype neg_beta, const Dtype* x,
                                           Dtype* scale, Dtype* power, Dtype* y) {
  MOKA_CUDA_KERNEL_LOOP(index, n) {
    const int w = index % width;
    const int h = (index / width) % height;
    const Dtype* xp = x + (index / (width * height)) * height * width;
    int hstart = h - pre_pad;
    int hend = min(hstart + size, height + pre_pad);
    int wstart = w - pre_pad;
    int wend = min(wstart + size, width + pre_pad);
    const int pool_size = (hend - hstart) * (wend - wstart);
    hstart = max(hstart, 0);
    hend = min(hend, height);
    wstart = max(wstart, 0);
    wend = min(wend, width);
    Dtype sum = 0;
    for (int i = hstart; i < hend; ++i) {
      for (int j = wstart; j < wend; ++j) sum += xp[i * width + j] * xp[i * width + j];
    }
    const Dtype s = alpha * (sum / pool_size) + Dtype(1);
    scale[index] = s;
    const Dtype p = device::Pow(s, neg_beta);
    power[index] = p;
    y[index] = x[index] * p;
  }
}

template <typename Dtype>
__global__ void WithinChannelAverageGradKernel(int n, Dtype diff_scale, const Dtype* x,
                                               const Dtype* dy, const Dtype* scale,
                                               const Dtype* power, Dtype* d_average) {
  MOKA_CUDA_KERNEL_LOOP(i, n) {
    const Dtype d_power = x[i] * dy[i];
    d_average[i] = power[i] / scale[i] * diff_scale * d_power;
  }
}

template <typename Dtype>
__global__ void WithinChannelBackwardKernel(int n, int height, int width, int size, int pre_pad,
                                            const Dtype* x, const Dtype* dy, const Dtype* power,
                                            const Dtype* d_average, Dtype* dx) {
  MOKA_CUDA_KERNEL_LOOP(index, n) {
    const int w = index % width;
    const int h = (index / width) % height;
    const int plane_offset = (index / (width * height)) * height * width;
    int hfirst, hlast, wfirst, wlast;
    CoveringCentres(h, size, pre_pad, height, &hfirst, &hlast);
    CoveringCentres(w, size, pre_pad, width, &wfirst, &wlast);
    Dtype d_square = 0;
    for (int ch = hfirst; ch < hlast; ++ch) {
      const int hstart = ch - pre_pad;
      const int pool_h = min(hstart + size, height + pre_pad) - hstart;
      for (int cw = wfirst; cw < wlast; ++cw) {
        const int wstart = cw - pre_pad;
        const int pool_size = pool_h * (min(wstart + size, width + pre_pad) - wstart);
        d_square += d_average[plane_offset + ch * width + cw] / pool_size;
      }
    }
    const Dtype through_product = power[index] * dy[index];
    const Dtype through_square = Dtype(2) * x[index] * d_square;
    dx[index] = through_product + through_square;
  }
}

}  // namespace

template <typename Dtype>
void LRNLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  const Dtype* x = bottom[0]->gpu_data();
  Dtype* y = top[0]->mutable_gpu_data();
  Dtype* scale = scale_.mutable_gpu_data();
  const int plane = height_ * width_;
  if (across_channels_) {
    const int n = num_ * plane;
    if (n == 0 || channels_ == 0) return;
    CrossChannelForwardKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(
        n, channels_, plane, size_, pre_pad_, alpha_ / size_, k_, -beta_, x, scale, y);
  } else {
    const int n = bottom[0]->count();
    if (n == 0) return;
    WithinChannelForwardKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(
        n, height_, width_, size_, pre_pad_, alpha_, -beta_, x, scale, power_.mutable_gpu_data(),
        y);
  }
  MOKA_CUDA_LAUNCH_CHECK();
}

template <typename Dtype>
void LRNLayer<Dtype>::Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                   const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const Dtype* dy = top[0]->gpu_diff();
  const Dtype* x = bottom[0]->gpu_data();
  const Dtype* scale = scale_.gpu_data();
  Dtype* dx = bottom[0]->mutable_gpu_diff();
  const int plane = height_ * width_;
  if (across_channels_) {
    const int n = num_ * plane;
    if (n == 0 || channels_ == 0) return;
    CrossChannelBackwardKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(
        n, channels_, plane, size_, pre_pad_, Dtype(2) * alpha_ * beta_ / size_, -beta_, x,
        top[0]->gpu_data(), scale, dy, dx);
    MOKA_CUDA_LAUNCH_CHECK();
  } else {
    const int n = bottom[0]->count();
    if (n == 0) return;
    gpu_scratch_.ReshapeLike(*bottom[0]);
    Dtype* d_average = gpu_scratch_.mutable_gpu_data();
    const Dtype* power = power_.gpu_data();
    WithinChannelAverageGradKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(
        n, -beta_ * alpha_, x, dy, scale, power, d_average);
    MOKA_CUDA_LAUNCH_CHECK();
    WithinChannelBackwardKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(
        n, height_, width_, size_, pre_pad_, x, dy, power, d_average, dx);
    MOKA_CUDA_LAUNCH_CHECK();
  }
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(LRNLayer);

}  // namespace moka
