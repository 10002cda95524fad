#include <cfloat>

#include "cuda_check.hpp"
#include "layers/pooling.hpp"
#include "math_functions.hpp"

namespace moka {
namespace {

// The geometry of one pooling problem, passed to every kernel by value.
struct PoolShape {
  int planes, height, width, pooled_height, pooled_width;
  int kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w;
};

// Forward kernels: one thread per output, the window walked in the CPU code's order.

template <typename Dtype>
__global__ void MaxPoolForwardKernel(int n, PoolShape s, const Dtype* x, Dtype* y,
                                     Dtype* top_mask, int* mask) {
  MOKA_CUDA_KERNEL_LOOP(o, n) {
    const int pw = o % s.pooled_width;
    const int ph = (o / s.pooled_width) % s.pooled_height;
    const int plane = o / (s.pooled_width * s.pooled_height);
    const int hstart = max(ph * s.stride_h - s.pad_h, 0);
    const int hend = min(ph * s.stride_h - s.pad_h + s.kernel_h, s.height);
    const int wstart = max(pw * s.stride_w - s.pad_w, 0);
    const int wend = min(pw * s.stride_w - s.pad_w + s.kernel_w, s.width);
    const Dtype* xp = x + plane * s.height * s.width;
    Dtype best = Dtype(-FLT_MAX);
    int best_index = -1;
    for (int h = hstart; h < hend; ++h) {
      for (int w = wstart; w < wend; ++w) {
        const int index = h * s.width + w;
        if (xp[index] > best) {
          best = xp[index];
          best_index = index;
        }
      }
    }
    y[o] = best;
    if (top_mask != nullptr) {
      top_mask[o] = static_cast<Dtype>(best_index);
    } else {
      mask[o] = best_index;
    }
  }
}

template <typename Dtype>
__global__ void AvePoolForwardKernel(int n, PoolShape s, const Dtype* x, Dtype* y) {
  MOKA_CUDA_KERNEL_LOOP(o, n) {
    const int pw = o % s.pooled_width;
    const int ph = (o / s.pooled_width) % s.pooled_height;
    const int plane = o / (s.pooled_width * s.pooled_height);
    int hstart = ph * s.stride_h - s.pad_h;
    int hend = min(hstart + s.kernel_h, s.height + s.pad_h);
    int wstart = pw * s.stride_w - s.pad_w;
    int wend = min(wstart + s.kernel_w, s.width + s.pad_w);
    const int pool_size = (hend - hstart) * (wend - wstart);
    hstart = max(hstart, 0);
    hend = min(hend, s.height);
    wstart = max(wstart, 0);
    wend = min(wend, s.width);
    const Dtype* xp = x + plane * s.height * s.width;
    Dtype sum = 0;
    for (int h = hstart; h < hend; ++h) {
      for (int w = wstart; w < wend; ++w) sum += xp[h * s.width + w];
    }
    y[o] = sum / pool_size;
  }
}

// STOCHASTIC (never padded). TEST: sum(x^2) / sum(x). TRAIN: the element where the running sum
// first reaches draw * sum(x), or the last one when rounding leaves it short.
template <typename Dtype>
__global__ void StochasticPoolForwardKernel(int n, PoolShape s, const Dtype* x, const Dtype* draw,
                                            Dtype* y, int* chosen_index) {
  MOKA_CUDA_KERNEL_LOOP(o, n) {
    const int pw = o % s.pooled_width;
    const int ph = (o / s.pooled_width) % s.pooled_height;
    const int plane = o / (s.pooled_width * s.pooled_height);
    const int hstart = ph * s.stride_h;
    const int hend = min(hstart + s.kernel_h, s.height);
    const int wstart = pw * s.stride_w;
    const int wend = min(wstart + s.kernel_w, s.width);
    const Dtype* xp = x + plane * s.height * s.width;
    Dtype sum = 0;
    Dtype sum_sq = 0;
    for (int h = hstart; h < hend; ++h) {
      for (int w = wstart; w < wend; ++w) {
        sum += xp[h * s.width + w];
        sum_sq += xp[h * s.width + w] * xp[h * s.width + w];
      }
    }
    if (draw == nullptr) {
      y[o] = sum > 0 ? sum_sq / sum : Dtype(0);
      continue;
    }
    const Dtype threshold = draw[o] * sum;
    int chosen = -1;
    Dtype running = 0;
    for (int h = hstart; h < hend && chosen < 0; ++h) {
      for (int w = wstart; w < wend; ++w) {
        running += xp[h * s.width + w];
        if (running >= threshold) {
          chosen = h * s.width + w;
          break;
        }
      }
    }
    if (chosen < 0) chosen = (hend - 1) * s.width + (wend - 1);
    chosen_index[o] = plane * s.height * s.width + chosen;
    y[o] = xp[chosen];
  }
}

// Backward kernels: one thread per input element gathers from the outputs whose window covers
// it, in increasing output order, which is the order in which the CPU code accumulates; no
// atomics, and the same sums.

// First and one-past-last output row (or column) whose window [p * stride - pad, + kernel)
// contains input position i.
__device__ __forceinline__ void CoveringOutputs(int i, int kernel, int stride, int pad, int pooled,
                                                int* first, int* last) {
  *first = (i + pad < kernel) ? 0 : (i + pad - kernel) / stride + 1;
  *last = min((i + pad) / stride + 1, pooled);
}

template <typename Dtype>
__global__ void MaxPoolBackwardKernel(int n, PoolShape s, const Dtype* dy, const Dtype* top_mask,
                                      const int* mask, Dtype* dx) {
  MOKA_CUDA_KERNEL_LOOP(i, n) {
    const int w = i % s.width;
    const int h = (i / s.width) % s.height;
    const int plane = i / (s.width * s.height);
    int phstart, phend, pwstart, pwend;
    CoveringOutputs(h, s.kernel_h, s.stride_h, s.pad_h, s.pooled_height, &phstart, &phend);
    CoveringOutputs(w, s.kernel_w, s.stride_w, s.pad_w, s.pooled_width, &pwstart, &pwend);
    const int offset = plane * s.pooled_height * s.pooled_width;
    const int target = h * s.width + w;
    Dtype gradient = 0;
    for (int ph = phstart; ph < phend; ++ph) {
      for (int pw = pwstart; pw < pwend; ++pw) {
        const int o = offset + ph * s.pooled_width + pw;
        const int index = top_mask != nullptr ? static_cast<int>(top_mask[o]) : mask[o];
        if (index == target) gradient += dy[o];
      }
    }
    dx[i] = gradient;
  }
}

template <typename Dtype>
__global__ void AvePoolBackwardKernel(int n, PoolShape s, const Dtype* dy, Dtype* dx) {
  MOKA_CUDA_KERNEL_LOOP(i, n) {
    const int w = i % s.width;
    const int h = (i / s.width) % s.height;
    const int plane = i / (s.width * s.height);
    int phstart, phend, pwstart, pwend;
    CoveringOutputs(h, s.kernel_h, s.stride_h, s.pad_h, s.pooled_height, &phstart, &phend);
    CoveringOutputs(w, s.kernel_w, s.stride_w, s.pad_w, s.pooled_width, &pwstart, &pwend);
    const int offset = plane * s.pooled_height * s.pooled_width;
    Dtype gradient = 0;
    for (int ph = phstart; ph < phend; ++ph) {
      const int hstart = ph * s.stride_h - s.pad_h;
      const int pool_h = min(hstart + s.kernel_h, s.height + s.pad_h) - hstart;
      for (int pw = pwstart; pw < pwend; ++pw) {
        const int wstart = pw * s.stride_w - s.pad_w;
        const int pool_size = pool_h * (min(wstart + s.kernel_w, s.width + s.pad_w) - wstart);
        gradient += dy[offset + ph * s.pooled_width + pw] / pool_size;
      }
    }
    dx[i] = gradient;
  }
}

// TRAIN: the gradient goes to the chosen element. TEST: the derivative of sum(x^2) / sum(x).
template <typename Dtype>
__global__ void StochasticPoolBackwardKernel(int n, PoolShape s, const Dtype* x, const Dtype* dy,
                                             const int* chosen_index, Dtype* dx) {
  MOKA_CUDA_KERNEL_LOOP(i, n) {
    const int w = i % s.width;
    const int h = (i / s.width) % s.height;
    const int plane = i / (s.width * s.height);
    int phstart, phend, pwstart, pwend;
    CoveringOutputs(h, s.kernel_h, s.stride_h, 0, s.pooled_height, &phstart, &phend);
    CoveringOutputs(w, s.kernel_w, s.stride_w, 0, s.pooled_width, &pwstart, &pwend);
    const int offset = plane * s.pooled_height * s.pooled_width;
    const Dtype* xp = x + plane * s.height * s.width;
    Dtype gradient = 0;
    for (int ph = phstart; ph < phend; ++ph) {
      for (int pw = pwstart; pw < pwend; ++pw) {
        const int o = offset + ph * s.pooled_width + pw;
        if (chosen_index != nullptr) {
          if (chosen_index[o] == i) gradient += dy[o];
          continue;
        }
        const int hs = ph * s.stride_h;
        const int he = min(hs + s.kernel_h, s.height);
        const int ws = pw * s.stride_w;
        const int we = min(ws + s.kernel_w, s.width);
        Dtype sum = 0;
        Dtype sum_sq = 0;
        for (int hh = hs; hh < he; ++hh) {
          for (int ww = ws; ww < we; ++ww) {
            sum += xp[hh * s.width + ww];
            sum_sq += xp[hh * s.width + ww] * xp[hh * s.width + ww];
          }
        }
        if (!(sum > 0)) continue;
        gradient += dy[o] * (2 * xp[h * s.width + w] * sum - sum_sq) / (sum * sum);
      }
    }
    dx[i] = gradient;
  }
}

void EnsureIntBuffer(std::unique_ptr<SyncedMemory>* buffer, int n) {
  const size_t bytes = static_cast<size_t>(n) * sizeof(int);
  if (!*buffer || (*buffer)->size() != bytes) *buffer = std::make_unique<SyncedMemory>(bytes);
}

}  // namespace

template <typename Dtype>
void PoolingLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  const PoolShape shape{num_ * channels_, height_, width_, pooled_height_, pooled_width_,
                        kernel_h_, kernel_w_, stride_h_, stride_w_, pad_h_, pad_w_};
  const int n = top[0]->count();
  const Dtype* x = bottom[0]->gpu_data();
  Dtype* y = top[0]->mutable_gpu_data();
  switch (pool_) {
    case PoolingParameter::MAX: {
      Dtype* top_mask = nullptr;
      int* mask = nullptr;
      if (top.size() > 1) {
        top_mask = top[1]->mutable_gpu_data();
      } else {
        EnsureIntBuffer(&gpu_max_idx_, n);
        mask = static_cast<int*>(gpu_max_idx_->mutable_gpu_data());
      }
      if (n == 0) return;
      MaxPoolForwardKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, shape, x, y, top_mask, mask);
      break;
    }
    case PoolingParameter::AVE:
      if (n == 0) return;
      AvePoolForwardKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, shape, x, y);
      break;
    case PoolingParameter::STOCHASTIC: {
      const Dtype* draw = nullptr;
      int* chosen = nullptr;
      if (this->phase() == TRAIN) {
        // Drawn on the host from the context's stream, as the CPU path draws them.
        gpu_rand_draw_.Reshape({n});
        rng_uniform<Dtype>(n, Dtype(0), Dtype(1), this->context().rng(),
                           gpu_rand_draw_.mutable_cpu_data());
        draw = gpu_rand_draw_.gpu_data();
        EnsureIntBuffer(&gpu_rand_idx_, n);
        chosen = static_cast<int*>(gpu_rand_idx_->mutable_gpu_data());
      }
      if (n == 0) return;
      StochasticPoolForwardKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, shape, x, draw, y,
                                                                          chosen);
      break;
    }
    default:
      MOKA_THROW(ConfigError, "unknown pooling method " << static_cast<int>(pool_));
  }
  MOKA_CUDA_LAUNCH_CHECK();
}

template <typename Dtype>
void PoolingLayer<Dtype>::Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                       const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const PoolShape shape{num_ * channels_, height_, width_, pooled_height_, pooled_width_,
                        kernel_h_, kernel_w_, stride_h_, stride_w_, pad_h_, pad_w_};
  const int n = bottom[0]->count();
  const int outputs = top[0]->count();
  const Dtype* dy = top[0]->gpu_diff();
  Dtype* dx = bottom[0]->mutable_gpu_diff();
  if (n == 0) return;
  if (pool_ == PoolingParameter::MAX) {
    const Dtype* top_mask = nullptr;
    const int* mask = nullptr;
    if (top.size() > 1) {
      top_mask = top[1]->gpu_data();
    } else {
      MOKA_CHECK(gpu_max_idx_ && gpu_max_idx_->size() == outputs * sizeof(int), InternalError,
                 "Backward without a GPU Forward of the same shape");
      mask = static_cast<const int*>(gpu_max_idx_->gpu_data());
    }
    MaxPoolBackwardKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, shape, dy, top_mask, mask, dx);
  } else if (pool_ == PoolingParameter::AVE) {
    AvePoolBackwardKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, shape, dy, dx);
  } else {
    const int* chosen = nullptr;
    if (this->phase() == TRAIN) {
      MOKA_CHECK(gpu_rand_idx_ && gpu_rand_idx_->size() == outputs * sizeof(int), InternalError,
                 "Backward without a GPU Forward of the same shape");
      chosen = static_cast<const int*>(gpu_rand_idx_->gpu_data());
    }
    StochasticPoolBackwardKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(
        n, shape, bottom[0]->gpu_data(), dy, chosen, dx);
  }
  MOKA_CUDA_LAUNCH_CHECK();
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(PoolingLayer);

}  // namespace moka
