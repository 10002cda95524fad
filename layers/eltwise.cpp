#include "layers/eltwise.hpp"

#include <algorithm>
#include <cstring>

#include "cpu_parallel.hpp"
#include "layer_registry.hpp"
#include "math_functions.hpp"

namespace moka {
namespace {

/// Elements per block: a block of the top stays in L1 while every bottom is folded into it.
constexpr int kBlock = 512;

/// y = x[0] op x[1] op ... over [begin, end) (at least two bottoms), folding the bottoms in order
/// block by block. SUM starts from zero as Caffe's cleared top does (-0 + -0 gives +0 there).
template <bool kProd, typename Dtype>
MOKA_ALWAYS_INLINE void FoldBody(int begin, int end, int bottoms, const Dtype* const* x, Dtype* y) {
  using V = typename Pack<Dtype>::V;
  constexpr int kWidth = Pack<Dtype>::kWidth;
  for (int start = begin; start < end; start += kBlock) {
    const int stop = std::min(end, start + kBlock);
    const int vector_stop = start + (stop - start) / kWidth * kWidth;
    // The first two bottoms together: the top may be either of them (PROD in place).
    int i = start;
    for (; i < vector_stop; i += kWidth) {
      V a, b;
      std::memcpy(&a, x[0] + i, sizeof(V));
      std::memcpy(&b, x[1] + i, sizeof(V));
      const V c = kProd ? a * b : (V{} + a) + b;
      std::memcpy(y + i, &c, sizeof(V));
    }
    for (; i < stop; ++i) y[i] = kProd ? x[0][i] * x[1][i] : (Dtype(0) + x[0][i]) + x[1][i];
    for (int j = 2; j < bottoms; ++j) {
      const Dtype* in = x[j];
      for (i = start; i < vector_stop; i += kWidth) {
        V a, b;
        std::memcpy(&a, y + i, sizeof(V));
        std::memcpy(&b, in + i, sizeof(V));
        a = kProd ? a * b : a + b;
        std::memcpy(y + i, &a, sizeof(V));
      }
      for (; i < stop; ++i) y[i] = kProd ? y[i] * in[i] : y[i] + in[i];
    }
  }
}
MOKA_VECTOR_CLONES void SumSpan(int begin, int end, int bottoms, const float* const* x, float* y) {
  FoldBody<false>(begin, end, bottoms, x, y);
}
MOKA_VECTOR_CLONES void SumSpan(int begin, int end, int bottoms, const double* const* x,
                                double* y) {
  FoldBody<false>(begin, end, bottoms, x, y);
}
MOKA_VECTOR_CLONES void ProdSpan(int begin, int end, int bottoms, const float* const* x, float* y) {
  FoldBody<true>(begin, end, bottoms, x, y);
}
MOKA_VECTOR_CLONES void ProdSpan(int begin, int end, int bottoms, const double* const* x,
                                 double* y) {
  FoldBody<true>(begin, end, bottoms, x, y);
}

/// y = the maximum over the bottoms, `index` the bottom holding it. Ties follow Caffe: between
/// the first two bottoms the second wins, after that the earlier one keeps the element; a NaN
/// never wins a comparison.
template <typename Dtype>
MOKA_ALWAYS_INLINE void MaxBody(int begin, int end, int bottoms, const Dtype* const* x, Dtype* y,
                                int* index) {
  for (int k = begin; k < end; ++k) {
    const Dtype a = x[0][k];
    const Dtype b = x[1][k];
    const bool first = a > b;
    Dtype best = first ? a : b;
    int which = first ? 0 : 1;
    for (int j = 2; j < bottoms; ++j) {
      const Dtype v = x[j][k];
      if (v > best) {
        best = v;
        which = j;
      }
    }
    y[k] = best;
    index[k] = which;
  }
}
MOKA_VECTOR_CLONES void MaxSpan(int begin, int end, int bottoms, const float* const* x, float* y,
                                int* index) {
  MaxBody(begin, end, bottoms, x, y, index);
}
MOKA_VECTOR_CLONES void MaxSpan(int begin, int end, int bottoms, const double* const* x, double* y,
                                int* index) {
  MaxBody(begin, end, bottoms, x, y, index);
}

/// dx_j = c_j * dy for every bottom that wants a gradient; a coefficient of 1 copies (whole
/// spans: the library copy streams large ones past the cache).
template <typename Dtype>
MOKA_ALWAYS_INLINE void SpreadBody(int begin, int end, int bottoms, const Dtype* coeffs,
                                   const Dtype* dy, Dtype* const* dx) {
  for (int j = 0; j < bottoms; ++j) {
    if (dx[j] == nullptr) continue;
    const Dtype* __restrict in = dy + begin;
    Dtype* __restrict out = dx[j] + begin;
    const Dtype c = coeffs[j];
    const int m = end - begin;
    if (c == Dtype(1)) {
      std::memcpy(out, in, m * sizeof(Dtype));
    } else {
      for (int i = 0; i < m; ++i) out[i] = c * in[i];
    }
  }
}
MOKA_VECTOR_CLONES void SpreadSpan(int begin, int end, int bottoms, const float* coeffs,
                                   const float* dy, float* const* dx) {
  SpreadBody(begin, end, bottoms, coeffs, dy, dx);
}
MOKA_VECTOR_CLONES void SpreadSpan(int begin, int end, int bottoms, const double* coeffs,
                                   const double* dy, double* const* dx) {
  SpreadBody(begin, end, bottoms, coeffs, dy, dx);
}

}  // namespace

template <typename Dtype>
void EltwiseLayer<Dtype>::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  const EltwiseParameter& param = this->layer_param_.eltwise_param();
  op_ = param.operation();
  stable_prod_grad_ = param.stable_prod_grad();
  MOKA_CHECK(param.coeff_size() == 0 || param.coeff_size() == static_cast<int>(bottom.size()),
             ConfigError,
             "eltwise_param has " << param.coeff_size() << " coeff value(s) for " << bottom.size()
                                  << " bottoms; give one per bottom or none");
  MOKA_CHECK(op_ == EltwiseParameter::SUM || param.coeff_size() == 0, ConfigError,
             "eltwise_param.coeff applies only to operation SUM");
  coeffs_.assign(bottom.size(), Dtype(1));
  for (int i = 0; i < param.coeff_size(); ++i) coeffs_[i] = param.coeff(i);
}

template <typename Dtype>
void EltwiseLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  for (size_t i = 0; i < bottom.size(); ++i) {
    // PROD and MAX read bottoms 0 and 1 element by element before writing, so Caffe's deploy nets
    // may run them in place on those; SUM clears the top first, and later bottoms are read after
    // the top is written.
    if (top[0] == bottom[i]) {
      MOKA_CHECK(op_ != EltwiseParameter::SUM && i < 2, ConfigError,
                 "Eltwise can run in place only for PROD or MAX, on bottom 0 or 1 (top is bottom "
                     << i << ")");
    }
    MOKA_CHECK(bottom[i]->shape() == bottom[0]->shape(), ShapeError,
               "bottoms must have one shape: bottom 0 has shape "
                   << bottom[0]->shape_string() << ", bottom " << i << " has shape "
                   << bottom[i]->shape_string());
  }
  top[0]->ReshapeLike(*bottom[0]);
  if (op_ == EltwiseParameter::MAX) max_index_.resize(bottom[0]->count());
  inputs_.resize(bottom.size());
  gradients_.resize(bottom.size());
}

template <typename Dtype>
void EltwiseLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  const int n = top[0]->count();
  const int bottoms = static_cast<int>(bottom.size());
  for (int j = 0; j < bottoms; ++j) inputs_[j] = bottom[j]->cpu_data();
  const Dtype* const* x = inputs_.data();
  Dtype* y = top[0]->mutable_cpu_data();
  switch (op_) {
    case EltwiseParameter::PROD:
      ParallelForValues(n, kBlock,
                        [&](int begin, int end) { ProdSpan(begin, end, bottoms, x, y); });
      break;
    case EltwiseParameter::SUM:
      if (std::all_of(coeffs_.begin(), coeffs_.end(), [](Dtype c) { return c == Dtype(1); })) {
        ParallelForValues(n, kBlock,
                          [&](int begin, int end) { SumSpan(begin, end, bottoms, x, y); });
      } else {
        // BLAS's axpy, as Caffe computes weighted sums (its rounding may differ from a plain
        // multiply and add).
        cpu_set(n, Dtype(0), y);
        for (int j = 0; j < bottoms; ++j) cpu_axpy(n, coeffs_[j], x[j], y);
      }
      break;
    case EltwiseParameter::MAX: {
      int* index = max_index_.data();
      ParallelForValues(n, kBlock,
                        [&](int begin, int end) { MaxSpan(begin, end, bottoms, x, y, index); });
      break;
    }
    default:
      MOKA_THROW(ConfigError, "unknown eltwise_param.operation " << static_cast<int>(op_));
  }
}

template <typename Dtype>
void EltwiseLayer<Dtype>::CheckNotInPlace(const BlobVec& top, const BlobVec& bottom) const {
  for (size_t i = 0; i < bottom.size(); ++i) {
    // The overwritten input (PROD) or the shared diff (MAX) would give wrong gradients.
    MOKA_CHECK(top[0] != bottom[i], ConfigError,
               "cannot backpropagate through an Eltwise run in place (top is bottom " << i << ")");
  }
}

template <typename Dtype>
void EltwiseLayer<Dtype>::Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                       const BlobVec& bottom) {
  CheckNotInPlace(top, bottom);
  const int n = top[0]->count();
  const int bottoms = static_cast<int>(bottom.size());
  bool any = false;
  for (int j = 0; j < bottoms; ++j) {
    gradients_[j] = propagate_down[j] ? bottom[j]->mutable_cpu_diff() : nullptr;
    inputs_[j] = bottom[j]->cpu_data();
    any = any || propagate_down[j];
  }
  if (!any) return;
  const Dtype* dy = top[0]->cpu_diff();
  Dtype* const* dx = gradients_.data();
  switch (op_) {
    case EltwiseParameter::SUM:
      ParallelForValues(n, kBlock, [&](int begin, int end) {
        SpreadSpan(begin, end, bottoms, coeffs_.data(), dy, dx);
      });
      break;
    case EltwiseParameter::PROD: {
      const Dtype* y = top[0]->cpu_data();
      ParallelForValues(n, kBlock, [&](int begin, int end) {
        const int m = end - begin;
        for (int i = 0; i < bottoms; ++i) {
          if (dx[i] == nullptr) continue;
          Dtype* d = dx[i] + begin;
          if (stable_prod_grad_) {
            // The product of the other bottoms, which stays exact where x_i is zero.
            bool started = false;
            for (int j = 0; j < bottoms; ++j) {
              if (j == i) continue;
              if (started) {
                cpu_mul(m, d, inputs_[j] + begin, d);
              } else {
                cpu_copy(m, inputs_[j] + begin, d);
                started = true;
              }
            }
          } else {
            cpu_div(m, y + begin, inputs_[i] + begin, d);
          }
          cpu_mul(m, dy + begin, d, d);
        }
      });
      break;
    }
    case EltwiseParameter::MAX: {
      const int* index = max_index_.data();
      ParallelForValues(n, kBlock, [&](int begin, int end) {
        for (int i = 0; i < bottoms; ++i) {
          if (dx[i] == nullptr) continue;
          Dtype* d = dx[i];
          for (int k = begin; k < end; ++k) d[k] = index[k] == i ? dy[k] : Dtype(0);
        }
      });
      break;
    }
    default:
      MOKA_THROW(ConfigError, "unknown eltwise_param.operation " << static_cast<int>(op_));
  }
}

MOKA_INSTANTIATE_CLASS(EltwiseLayer);
MOKA_REGISTER_LAYER(Eltwise);

}  // namespace moka
