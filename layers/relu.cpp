#include "layers/relu.hpp"

#include <algorithm>
#include <cstring>

#include "cpu_parallel.hpp"
#include "layer_registry.hpp"

namespace moka {
namespace {

/// Pieces are whole multiples of this many elements.
constexpr int kGrain = 4096;

/// y = max(x, 0) + slope * min(x, 0), with std::max and std::min's NaN behaviour (x comes
/// through) and Caffe's arithmetic even for slope 0 (-inf gives NaN, as there).
template <typename Dtype>
MOKA_ALWAYS_INLINE void ForwardBody(int begin, int end, Dtype slope, const Dtype* x, Dtype* y) {
  using V = typename Pack<Dtype>::V;
  constexpr int kWidth = Pack<Dtype>::kWidth;
  const V zero = {};
  V s;
  for (int l = 0; l < kWidth; ++l) s[l] = slope;
  int i = begin;
  for (; i + kWidth <= end; i += kWidth) {
    V v;
    std::memcpy(&v, x + i, sizeof(V));
    const V high = v < zero ? zero : v;
    const V low = zero < v ? zero : v;
    const V out = high + s * low;
    std::memcpy(y + i, &out, sizeof(V));
  }
  for (; i < end; ++i) y[i] = std::max(x[i], Dtype(0)) + slope * std::min(x[i], Dtype(0));
}
MOKA_VECTOR_CLONES void ForwardSpan(int begin, int end, float slope, const float* x, float* y) {
  ForwardBody(begin, end, slope, x, y);
}
MOKA_VECTOR_CLONES void ForwardSpan(int begin, int end, double slope, const double* x, double* y) {
  ForwardBody(begin, end, slope, x, y);
}

/// dx = dy * (x > 0 ? 1 : slope); dx may be dy itself.
template <typename Dtype>
MOKA_ALWAYS_INLINE void BackwardBody(int begin, int end, Dtype slope, const Dtype* x,
                                     const Dtype* dy, Dtype* dx) {
  using V = typename Pack<Dtype>::V;
  constexpr int kWidth = Pack<Dtype>::kWidth;
  const V zero = {};
  V one, s;
  for (int l = 0; l < kWidth; ++l) {
    one[l] = 1;
    s[l] = slope;
  }
  int i = begin;
  for (; i + kWidth <= end; i += kWidth) {
    V v, g;
    std::memcpy(&v, x + i, sizeof(V));
    std::memcpy(&g, dy + i, sizeof(V));
    const V out = g * (v > zero ? one : s);
    std::memcpy(dx + i, &out, sizeof(V));
  }
  for (; i < end; ++i) dx[i] = dy[i] * (x[i] > 0 ? Dtype(1) : slope);
}
MOKA_VECTOR_CLONES void BackwardSpan(int begin, int end, float slope, const float* x,
                                     const float* dy, float* dx) {
  BackwardBody(begin, end, slope, x, dy, dx);
}
MOKA_VECTOR_CLONES void BackwardSpan(int begin, int end, double slope, const double* x,
                                     const double* dy, double* dx) {
  BackwardBody(begin, end, slope, x, dy, dx);
}

}  // namespace

template <typename Dtype>
void ReLULayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  const Dtype slope = this->layer_param_.relu_param().negative_slope();
  const Dtype* x = bottom[0]->cpu_data();
  Dtype* y = top[0]->mutable_cpu_data();
  ParallelForValues(bottom[0]->count(), kGrain,
                    [&](int begin, int end) { ForwardSpan(begin, end, slope, x, y); });
}

template <typename Dtype>
void ReLULayer<Dtype>::Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                    const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const Dtype slope = this->layer_param_.relu_param().negative_slope();
  // In place, bottom data holds the output, which is positive exactly where the input was (for
  // slope >= 0), so the branch below stays right.
  const Dtype* x = bottom[0]->cpu_data();
  const Dtype* dy = top[0]->cpu_diff();
  Dtype* dx = bottom[0]->mutable_cpu_diff();
  ParallelForValues(bottom[0]->count(), kGrain,
                    [&](int begin, int end) { BackwardSpan(begin, end, slope, x, dy, dx); });
}

MOKA_INSTANTIATE_CLASS(ReLULayer);
MOKA_REGISTER_LAYER(ReLU);

}  // namespace moka
