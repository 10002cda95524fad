#include "layers/scale.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__)
#include <emmintrin.h>
#endif

#include "cpu_parallel.hpp"
#include "filler.hpp"
#include "layer_registry.hpp"
#include "layers/bias.hpp"
#include "math_functions.hpp"

namespace moka {
namespace {

/// Forces the products just stored to memory to be read back before the bias is added, so that
/// no compiler can fuse multiply and add into one FMA: Caffe rounds the product to Dtype first,
/// its bias being a separate layer step.
MOKA_ALWAYS_INLINE void RoundProductsFirst() {
  asm volatile("" ::: "memory");
}

/// Copies n values with non-temporal stores where the destination is 16-byte aligned: the copy
/// is read only by the backward pass, so it should not evict the output from the cache, nor
/// read its lines in before writing them.
MOKA_ALWAYS_INLINE void StreamCopy(int n, const float* from, float* to) {
#if defined(__x86_64__) && defined(__GNUC__)
  int i = 0;
  for (; i < n && reinterpret_cast<uintptr_t>(to + i) % 16 != 0; ++i) to[i] = from[i];
  for (; i + 4 <= n; i += 4) _mm_stream_ps(to + i, _mm_loadu_ps(from + i));
  for (; i < n; ++i) to[i] = from[i];
#else
  std::memcpy(to, from, n * sizeof(float));
#endif
}
MOKA_ALWAYS_INLINE void StreamCopy(int n, const double* from, double* to) {
#if defined(__x86_64__) && defined(__GNUC__)
  int i = 0;
  for (; i < n && reinterpret_cast<uintptr_t>(to + i) % 16 != 0; ++i) to[i] = from[i];
  for (; i + 2 <= n; i += 2) _mm_stream_pd(to + i, _mm_loadu_pd(from + i));
  for (; i < n; ++i) to[i] = from[i];
#else
  std::memcpy(to, from, n * sizeof(double));
#endif
}

/// Orders this thread's streaming stores before whatever it does next (the pool's hand-over).
MOKA_ALWAYS_INLINE void StreamFence() {
#if defined(__x86_64__) && defined(__GNUC__)
  _mm_sfence();
#endif
}

/// Blobs from this size on keep their input copy with streaming stores.
constexpr size_t kStreamBytes = size_t(8) << 20;

/// Products and bias in blocks that stay in L1 between the steps.
constexpr int kBlock = 256;

/// y = s * x (+ b). In place (keep set, x == y) the input is first kept in `keep` for backward,
/// with streaming stores when `stream`.
template <typename Dtype>
MOKA_ALWAYS_INLINE void ScaleSpanBody(int n, Dtype s, const Dtype* bias, const Dtype* x, Dtype* y,
                                      Dtype* keep, bool stream) {
  for (int start = 0; start < n; start += kBlock) {
    const int m = std::min(kBlock, n - start);
    if (keep != nullptr && stream) {
      StreamCopy(m, y + start, keep + start);
      Dtype* __restrict data = y + start;
      for (int i = 0; i < m; ++i) data[i] = s * data[i];
    } else if (keep != nullptr) {
      Dtype* __restrict data = y + start;
      Dtype* __restrict kept = keep + start;
      for (int i = 0; i < m; ++i) {
        kept[i] = data[i];
        data[i] = s * kept[i];
      }
    } else {
      const Dtype* __restrict in = x + start;
      Dtype* __restrict out = y + start;
      for (int i = 0; i < m; ++i) out[i] = s * in[i];
    }
    if (bias == nullptr) continue;
    RoundProductsFirst();
    const Dtype b = *bias;
    Dtype* __restrict out = y + start;
    for (int i = 0; i < m; ++i) out[i] += b;
  }
}
MOKA_VECTOR_CLONES void ScaleSpan(int n, float s, const float* bias, const float* x, float* y,
                                  float* keep, bool stream) {
  ScaleSpanBody(n, s, bias, x, y, keep, stream);
}
MOKA_VECTOR_CLONES void ScaleSpan(int n, double s, const double* bias, const double* x, double* y,
                                  double* keep, bool stream) {
  ScaleSpanBody(n, s, bias, x, y, keep, stream);
}

/// The sum of two partial-sum packs, lane by lane in a fixed order: a row's sum depends only on
/// the row, never on the instruction set or the threads.
template <typename Dtype>
MOKA_ALWAYS_INLINE Dtype Total(const typename Pack<Dtype>::V& a, const typename Pack<Dtype>::V& b) {
  const typename Pack<Dtype>::V v = a + b;
  Dtype total = 0;
  for (int l = 0; l < Pack<Dtype>::kWidth; ++l) total += v[l];
  return total;
}

/// One pass over a row for every gradient wanted: sum(dy * x) into *ds, sum(dy) into *db,
/// dx = s * dy (dx may be dy itself when the layer runs in place).
template <bool kScale, bool kBias, bool kInput, typename Dtype>
MOKA_ALWAYS_INLINE void BackwardRow(int n, Dtype s, const Dtype* dy, const Dtype* x, Dtype* dx,
                                    Dtype* ds, Dtype* db) {
  using V = typename Pack<Dtype>::V;
  constexpr int kWidth = Pack<Dtype>::kWidth;
  V dot0 = {}, dot1 = {}, sum0 = {}, sum1 = {};
  int i = 0;
  for (; i + 2 * kWidth <= n; i += 2 * kWidth) {
    V g0, g1;
    std::memcpy(&g0, dy + i, sizeof(V));
    std::memcpy(&g1, dy + i + kWidth, sizeof(V));
    if (kScale) {
      V x0, x1;
      std::memcpy(&x0, x + i, sizeof(V));
      std::memcpy(&x1, x + i + kWidth, sizeof(V));
      dot0 += g0 * x0;
      dot1 += g1 * x1;
    }
    if (kBias) {
      sum0 += g0;
      sum1 += g1;
    }
    if (kInput) {
      const V d0 = s * g0, d1 = s * g1;
      std::memcpy(dx + i, &d0, sizeof(V));
      std::memcpy(dx + i + kWidth, &d1, sizeof(V));
    }
  }
  Dtype dot_tail = 0;
  Dtype sum_tail = 0;
  for (; i < n; ++i) {
    const Dtype g = dy[i];
    if (kScale) dot_tail += g * x[i];
    if (kBias) sum_tail += g;
    if (kInput) dx[i] = s * g;
  }
  if (kScale) *ds += Total<Dtype>(dot0, dot1) + dot_tail;
  if (kBias) *db += Total<Dtype>(sum0, sum1) + sum_tail;
}

template <bool kScale, bool kBias, bool kInput, typename Dtype>
MOKA_ALWAYS_INLINE void BackwardChannelsBody(int d_begin, int d_end, int outer, int channels,
                                             int inner, const Dtype* s, const Dtype* dy,
                                             const Dtype* x, Dtype* dx, Dtype* ds, Dtype* db) {
  const size_t block = size_t(channels) * inner;
  for (int d = d_begin; d < d_end; ++d) {
    // Row sums accumulate over the outer index in order, as one dot per row did before.
    Dtype scale_sum = kScale ? ds[d] : Dtype(0);
    Dtype bias_sum = kBias ? db[d] : Dtype(0);
    for (int o = 0; o < outer; ++o) {
      const size_t offset = o * block + size_t(d) * inner;
      BackwardRow<kScale, kBias, kInput>(inner, s[d], dy + offset, kScale ? x + offset : nullptr,
                                         kInput ? dx + offset : nullptr, &scale_sum, &bias_sum);
    }
    if (kScale) ds[d] = scale_sum;
    if (kBias) db[d] = bias_sum;
  }
}

/// Channels [d_begin, d_end) of the backward pass; `wanted` holds the scale (4), bias (2) and
/// input (1) gradients asked for.
template <typename Dtype>
MOKA_ALWAYS_INLINE void BackwardChannelsAny(int wanted, int d_begin, int d_end, int outer,
                                            int channels, int inner, const Dtype* s,
                                            const Dtype* dy, const Dtype* x, Dtype* dx, Dtype* ds,
                                            Dtype* db) {
#define MOKA_SCALE_BACKWARD_CASE(k, kS, kB, kI)                                                \
  case k:                                                                                      \
    BackwardChannelsBody<kS, kB, kI>(d_begin, d_end, outer, channels, inner, s, dy, x, dx, ds, \
                                     db);                                                      \
    break;
  switch (wanted) {
    MOKA_SCALE_BACKWARD_CASE(1, false, false, true)
    MOKA_SCALE_BACKWARD_CASE(2, false, true, false)
    MOKA_SCALE_BACKWARD_CASE(3, false, true, true)
    MOKA_SCALE_BACKWARD_CASE(4, true, false, false)
    MOKA_SCALE_BACKWARD_CASE(5, true, false, true)
    MOKA_SCALE_BACKWARD_CASE(6, true, true, false)
    MOKA_SCALE_BACKWARD_CASE(7, true, true, true)
    default:
      break;
  }
#undef MOKA_SCALE_BACKWARD_CASE
}
MOKA_VECTOR_CLONES void BackwardChannels(int wanted, int d_begin, int d_end, int outer,
                                         int channels, int inner, const float* s, const float* dy,
                                         const float* x, float* dx, float* ds, float* db) {
  BackwardChannelsAny(wanted, d_begin, d_end, outer, channels, inner, s, dy, x, dx, ds, db);
}
MOKA_VECTOR_CLONES void BackwardChannels(int wanted, int d_begin, int d_end, int outer,
                                         int channels, int inner, const double* s, const double* dy,
                                         const double* x, double* dx, double* ds, double* db) {
  BackwardChannelsAny(wanted, d_begin, d_end, outer, channels, inner, s, dy, x, dx, ds, db);
}

}  // namespace

template <typename Dtype>
void ScaleLayer<Dtype>::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  const ScaleParameter& param = this->layer_param_.scale_param();
  const size_t expected_blobs = (bottom.size() == 1 ? 1 : 0) + (param.bias_term() ? 1 : 0);
  if (!this->blobs_.empty()) {
    MOKA_CHECK(this->blobs_.size() == expected_blobs, ConfigError,
               "has " << this->blobs_.size() << " parameter blob(s), expected " << expected_blobs
                      << " for " << bottom.size() << " bottom(s) and bias_term "
                      << (param.bias_term() ? "true" : "false"));
  } else {
    if (bottom.size() == 1) {
      const int axis = bottom[0]->CanonicalAxisIndex(param.axis());
      this->blobs_.push_back(std::make_shared<Blob<Dtype>>(
          BroadcastParamShape(bottom[0]->shape(), axis, param.num_axes())));
      FillerParameter filler = param.filler();
      if (!param.has_filler()) {
        // Starts as the identity.
        filler.set_type("constant");
        filler.set_value(1);
      }
      Fill(filler, this->context().rng(), this->blobs_[0].get());
    }
    if (param.bias_term()) {
      // The bias spans the same axes as the scale (a second bottom's axes when given).
      std::vector<int> shape;
      if (bottom.size() > 1) {
        shape = bottom[1]->shape();
      } else {
        shape = this->blobs_[0]->shape();
      }
      this->blobs_.push_back(std::make_shared<Blob<Dtype>>(shape));
      Fill(param.bias_filler(), this->context().rng(), this->blobs_.back().get());
    }
  }
  bias_param_id_ = param.bias_term() ? static_cast<int>(this->blobs_.size()) - 1 : -1;
  this->param_propagate_down_.assign(this->blobs_.size(), true);
}

template <typename Dtype>
void ScaleLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  const Blob<Dtype>& scale = ScaleBlob(bottom);
  // A scalar scale broadcasts everywhere, whatever the axis says.
  const int axis = scale.num_axes() == 0
                       ? 0
                       : bottom[0]->CanonicalAxisIndex(this->layer_param_.scale_param().axis());
  bool matches = bottom[0]->num_axes() >= axis + scale.num_axes();
  for (int i = 0; matches && i < scale.num_axes(); ++i) {
    matches = bottom[0]->shape(axis + i) == scale.shape(i);
  }
  MOKA_CHECK(matches, ShapeError,
             "scale shape " << scale.shape_string() << " does not match bottom shape "
                            << bottom[0]->shape_string() << " from axis " << axis);
  outer_dim_ = bottom[0]->count(0, axis);
  scale_dim_ = scale.count();
  inner_dim_ = bottom[0]->count(axis + scale.num_axes());
  if (bias_param_id_ >= 0) {
    MOKA_CHECK(this->blobs_[bias_param_id_]->count() == scale_dim_, ShapeError,
               "bias shape " << this->blobs_[bias_param_id_]->shape_string()
                             << " does not match scale shape " << scale.shape_string());
  }
  if (top[0] == bottom[0]) {
    temp_.ReshapeLike(*bottom[0]);
  } else {
    top[0]->ReshapeLike(*bottom[0]);
  }
}

template <typename Dtype>
void ScaleLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  const Dtype* s = ScaleBlob(bottom).cpu_data();
  const Dtype* b = bias_param_id_ >= 0 ? this->blobs_[bias_param_id_]->cpu_data() : nullptr;
  const bool in_place = top[0] == bottom[0];
  const Dtype* x = bottom[0]->cpu_data();
  Dtype* y = top[0]->mutable_cpu_data();
  Dtype* keep = in_place ? temp_.mutable_cpu_data() : nullptr;
  const int channels = scale_dim_;
  const int inner = inner_dim_;
  const int rows = outer_dim_ * channels;
  if (inner == 0) return;
  // Pieces of the flat element range, so that a scalar scale over a big blob splits too.
  const int64_t count = int64_t(rows) * inner;
  const int64_t piece_size = std::max<int64_t>(kParallelValues / 4, 1);
  const int pieces = static_cast<int>((count + piece_size - 1) / piece_size);
  // A blob too big for the cache keeps its copy with streaming stores.
  const bool stream = size_t(count) * sizeof(Dtype) >= kStreamBytes;
  ParallelFor(pieces, count, [&](int piece_begin, int piece_end) {
    const int64_t begin = std::min(count, int64_t(piece_begin) * piece_size);
    const int64_t end = std::min(count, int64_t(piece_end) * piece_size);
    for (int64_t at = begin; at < end;) {
      const int64_t row = at / inner;
      const int64_t row_end = std::min(end, (row + 1) * inner);
      const int d = static_cast<int>(row % channels);
      const int n = static_cast<int>(row_end - at);
      const Dtype* bias = b == nullptr ? nullptr : b + d;
      ScaleSpan(n, s[d], bias, x + at, y + at, in_place ? keep + at : nullptr, stream);
      at = row_end;
    }
    if (stream && in_place) StreamFence();
  });
}

template <typename Dtype>
void ScaleLayer<Dtype>::Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                     const BlobVec& bottom) {
  const bool learned = bottom.size() == 1;
  Blob<Dtype>& scale = ScaleBlob(bottom);
  const bool bias_grad = bias_param_id_ >= 0 && this->param_propagate_down(bias_param_id_);
  const bool scale_grad = learned ? this->param_propagate_down(0) : propagate_down[1];
  const bool input_grad = propagate_down[0];
  if (!bias_grad && !scale_grad && !input_grad) return;
  const Dtype* dy = top[0]->cpu_diff();
  const Dtype* x = scale_grad ? (top[0] == bottom[0] ? temp_ : *bottom[0]).cpu_data() : nullptr;
  Dtype* dx = input_grad ? bottom[0]->mutable_cpu_diff() : nullptr;
  // A learned scale accumulates its gradient; a bottom's diff is overwritten. The bias is
  // always a learned blob.
  Dtype* ds = scale_grad ? scale.mutable_cpu_diff() : nullptr;
  if (scale_grad && !learned) cpu_set(scale_dim_, Dtype(0), ds);
  Dtype* db = bias_grad ? this->blobs_[bias_param_id_]->mutable_cpu_diff() : nullptr;
  const Dtype* s = scale.cpu_data();
  const int outer = outer_dim_, channels = scale_dim_, inner = inner_dim_;
  const size_t count = size_t(outer) * channels * inner;
  // Split by channel: each channel's sums come from one task, in one order, whatever the threads.
  const int wanted = (scale_grad ? 4 : 0) + (bias_grad ? 2 : 0) + (input_grad ? 1 : 0);
  ParallelFor(channels, count, [&](int d_begin, int d_end) {
    BackwardChannels(wanted, d_begin, d_end, outer, channels, inner, s, dy, x, dx, ds, db);
  });
}

MOKA_INSTANTIATE_CLASS(ScaleLayer);
MOKA_REGISTER_LAYER(Scale);

}  // namespace moka
