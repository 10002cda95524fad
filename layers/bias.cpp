#include "layers/bias.hpp"

#include <algorithm>
#include <cstring>

#include "cpu_parallel.hpp"
#include "filler.hpp"
#include "layer_registry.hpp"
#include "math_functions.hpp"

namespace moka {
namespace {

/// Rows [begin, end) of (outer, channel) rows: y = x + b[channel]; x may be y.
template <typename Dtype>
MOKA_ALWAYS_INLINE void AddRowsBody(int begin, int end, int channels, int inner, const Dtype* b,
                                    const Dtype* x, Dtype* y) {
  for (int row = begin; row < end; ++row) {
    const Dtype bias = b[row % channels];
    const Dtype* in = x + size_t(row) * inner;
    Dtype* out = y + size_t(row) * inner;
    if (in == out) {
      for (int i = 0; i < inner; ++i) out[i] += bias;
    } else {
      const Dtype* __restrict from = in;
      Dtype* __restrict to = out;
      for (int i = 0; i < inner; ++i) to[i] = from[i] + bias;
    }
  }
}
MOKA_VECTOR_CLONES void AddRows(int begin, int end, int channels, int inner, const float* b,
                                const float* x, float* y) {
  AddRowsBody(begin, end, channels, inner, b, x, y);
}
MOKA_VECTOR_CLONES void AddRows(int begin, int end, int channels, int inner, const double* b,
                                const double* x, double* y) {
  AddRowsBody(begin, end, channels, inner, b, x, y);
}

/// Channels [begin, end): db[d] += the sum of dy over its rows, row by row in outer order, each
/// row summed in lanes combined in a fixed order (a sum depends only on the data, never on the
/// threads); dx = dy as well when dx is set.
template <typename Dtype>
MOKA_ALWAYS_INLINE void SumChannelsBody(int begin, int end, int outer, int channels, int inner,
                                        const Dtype* dy, Dtype* dx, Dtype* db) {
  using V = typename Pack<Dtype>::V;
  constexpr int kWidth = Pack<Dtype>::kWidth;
  for (int d = begin; d < end; ++d) {
    Dtype total = db[d];
    for (int o = 0; o < outer; ++o) {
      const size_t offset = (size_t(o) * channels + d) * inner;
      const Dtype* g = dy + offset;
      V sum0 = {}, sum1 = {};
      int i = 0;
      for (; i + 2 * kWidth <= inner; i += 2 * kWidth) {
        V a, b;
        std::memcpy(&a, g + i, sizeof(V));
        std::memcpy(&b, g + i + kWidth, sizeof(V));
        sum0 += a;
        sum1 += b;
      }
      Dtype tail = 0;
      for (; i < inner; ++i) tail += g[i];
      const V sum = sum0 + sum1;
      Dtype row = 0;
      for (int l = 0; l < kWidth; ++l) row += sum[l];
      total += row + tail;
      if (dx != nullptr) std::memcpy(dx + offset, g, inner * sizeof(Dtype));
    }
    db[d] = total;
  }
}
MOKA_VECTOR_CLONES void SumChannels(int begin, int end, int outer, int channels, int inner,
                                    const float* dy, float* dx, float* db) {
  SumChannelsBody(begin, end, outer, channels, inner, dy, dx, db);
}
MOKA_VECTOR_CLONES void SumChannels(int begin, int end, int outer, int channels, int inner,
                                    const double* dy, double* dx, double* db) {
  SumChannelsBody(begin, end, outer, channels, inner, dy, dx, db);
}

}  // namespace

std::vector<int> BroadcastParamShape(const std::vector<int>& bottom_shape, int axis, int num_axes) {
  MOKA_CHECK(num_axes >= -1, ConfigError,
             "num_axes must be non-negative, or -1 for all remaining axes; got " << num_axes);
  const int available = static_cast<int>(bottom_shape.size()) - axis;
  MOKA_CHECK(num_axes <= available, ShapeError,
             "a parameter of " << num_axes << " axes starting at axis " << axis
                               << " extends past the bottom's shape " << ShapeString(bottom_shape));
  const auto begin = bottom_shape.begin() + axis;
  const auto end = num_axes == -1 ? bottom_shape.end() : begin + num_axes;
  return std::vector<int>(begin, end);
}

template <typename Dtype>
void BiasLayer<Dtype>::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  if (bottom.size() > 1 || !this->blobs_.empty()) {
    this->param_propagate_down_.assign(this->blobs_.size(), true);
    return;
  }
  const BiasParameter& param = this->layer_param_.bias_param();
  const int axis = bottom[0]->CanonicalAxisIndex(param.axis());
  const std::vector<int> shape = BroadcastParamShape(bottom[0]->shape(), axis, param.num_axes());
  this->blobs_.push_back(std::make_shared<Blob<Dtype>>(shape));
  // The default filler is constant 0, which makes the layer start as the identity.
  Fill(param.filler(), this->context().rng(), this->blobs_[0].get());
  this->param_propagate_down_.assign(1, true);
}

template <typename Dtype>
void BiasLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  const Blob<Dtype>& bias = bottom.size() > 1 ? *bottom[1] : *this->blobs_[0];
  // A scalar bias broadcasts everywhere, whatever the axis says.
  const int axis = bias.num_axes() == 0
                       ? 0
                       : bottom[0]->CanonicalAxisIndex(this->layer_param_.bias_param().axis());
  bool matches = bottom[0]->num_axes() >= axis + bias.num_axes();
  for (int i = 0; matches && i < bias.num_axes(); ++i) {
    matches = bottom[0]->shape(axis + i) == bias.shape(i);
  }
  MOKA_CHECK(matches, ShapeError,
             "bias shape " << bias.shape_string() << " does not match bottom shape "
                           << bottom[0]->shape_string() << " from axis " << axis);
  outer_dim_ = bottom[0]->count(0, axis);
  bias_dim_ = bias.count();
  inner_dim_ = bottom[0]->count(axis + bias.num_axes());
  if (top[0] != bottom[0]) top[0]->ReshapeLike(*bottom[0]);
}

template <typename Dtype>
void BiasLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  const Dtype* b = (bottom.size() > 1 ? bottom[1] : this->blobs_[0].get())->cpu_data();
  const Dtype* x = bottom[0]->cpu_data();
  Dtype* y = top[0]->mutable_cpu_data();
  const int rows = outer_dim_ * bias_dim_;
  ParallelFor(rows, size_t(rows) * inner_dim_,
              [&](int begin, int end) { AddRows(begin, end, bias_dim_, inner_dim_, b, x, y); });
}

template <typename Dtype>
void BiasLayer<Dtype>::Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                    const BlobVec& bottom) {
  const bool copy = propagate_down[0] && bottom[0] != top[0];
  const bool learned = bottom.size() == 1;
  const bool bias_grad = learned ? this->param_propagate_down(0) : propagate_down[1];
  const Dtype* dy = top[0]->cpu_diff();
  if (!bias_grad) {
    if (copy) cpu_copy(bottom[0]->count(), dy, bottom[0]->mutable_cpu_diff());
    return;
  }
  // A learned bias accumulates its gradient; a bottom's diff is overwritten. Split by channel:
  // each channel's sum comes from one task in one order, whatever the threads.
  Dtype* db = (learned ? this->blobs_[0].get() : bottom[1])->mutable_cpu_diff();
  if (!learned) cpu_set(bias_dim_, Dtype(0), db);
  Dtype* dx = copy ? bottom[0]->mutable_cpu_diff() : nullptr;
  ParallelFor(bias_dim_, size_t(outer_dim_) * bias_dim_ * inner_dim_, [&](int begin, int end) {
    SumChannels(begin, end, outer_dim_, bias_dim_, inner_dim_, dy, dx, db);
  });
}

MOKA_INSTANTIATE_CLASS(BiasLayer);
MOKA_REGISTER_LAYER(Bias);

}  // namespace moka
