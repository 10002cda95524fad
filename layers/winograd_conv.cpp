#include "layers/winograd_conv.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "cpu_parallel.hpp"
#include "error.hpp"
#include "math_functions.hpp"

namespace moka {
namespace {

// The transforms, with interpolation points 0, +-1, +-2 and infinity. For F(4x4, 3x3):
//   B^T = [4  0 -5  0  1  0]   G = [ 1/4     0     0]   A^T = [1  1  1  1  1  0]
//         [0 -4 -4  1  1  0]       [-1/6  -1/6  -1/6]         [0  1 -1  2 -2  0]
//         [0  4 -4 -1  1  0]       [-1/6   1/6  -1/6]         [0  1  1  4  4  0]
//         [0 -2 -1  2  1  0]       [1/24  1/12   1/6]         [0  1 -1  8 -8  1]
//         [0  2 -1 -2  1  0]       [1/24 -1/12   1/6]
//         [0  4  0 -5  0  1]       [   0     0     1]
// F(2x2, 5x5) has the same B^T; its G is 6x5 (row i: f_i p_i^j for point p_i, with f = 1/4, -1/6,
// -1/6, 1/24, 1/24, and the last row 0 0 0 0 1), its A^T 2x6 (the first two rows above, with
// the last column's 1 moved to the last row). A tile's input d (6x6) becomes B^T d B, a kernel g
// becomes G g G^T, and the product m of the two, point by point and summed over channels, becomes
// the outputs A^T m A. For the kernel gradient an output-gradient tile e becomes A e A^T, and the
// summed products p come back as G^T p G.

/// Kernels transformed together, in the kernel transforms: their scratch stays in cache.
constexpr int kBlock = 64;

/// B^T applied to six values.
template <typename Dtype>
MOKA_ALWAYS_INLINE void InputPoints(Dtype d0, Dtype d1, Dtype d2, Dtype d3, Dtype d4, Dtype d5,
                                    Dtype& t0, Dtype& t1, Dtype& t2, Dtype& t3, Dtype& t4,
                                    Dtype& t5) {
  t0 = Dtype(4) * d0 - Dtype(5) * d2 + d4;
  t1 = d3 + d4 - Dtype(4) * (d1 + d2);
  t2 = Dtype(4) * (d1 - d2) - d3 + d4;
  t3 = Dtype(2) * (d3 - d1) - d2 + d4;
  t4 = Dtype(2) * (d1 - d3) - d2 + d4;
  t5 = Dtype(4) * d1 - Dtype(5) * d3 + d5;
}

/// A^T applied to six values m: output k (of M) is sum_i p_i^k m_i, plus m_5 for the last.
template <int M, typename Dtype>
MOKA_ALWAYS_INLINE Dtype OutputValue(int k, Dtype m0, Dtype m1, Dtype m2, Dtype m3, Dtype m4,
                                     Dtype m5) {
  Dtype value;
  if (k == 0) {
    value = m0 + (m1 + m2) + (m3 + m4);
  } else if (k % 2 == 1) {
    value = (m1 - m2) + Dtype(1 << k) * (m3 - m4);
  } else {
    value = (m1 + m2) + Dtype(1 << k) * (m3 + m4);
  }
  return k == M - 1 ? value + m5 : value;
}

/// A applied to M values e (one side of an output-gradient tile): point i.
template <int M, typename Dtype>
MOKA_ALWAYS_INLINE Dtype GradientValue(int i, const Dtype* e) {
  if (i == 0) return e[0];
  if (i == 5) return e[M - 1];
  // Points 1, -1, 2, -2.
  const Dtype point = i == 1 ? Dtype(1) : i == 2 ? Dtype(-1) : i == 3 ? Dtype(2) : Dtype(-2);
  Dtype value = e[M - 1];
  for (int k = M - 2; k >= 0; --k) value = value * point + e[k];
  return value;
}

/// G applied to R values v (one side of a kernel): point i.
template <int R, typename Dtype>
MOKA_ALWAYS_INLINE Dtype KernelValue(int i, const Dtype* v) {
  if (i == 0) return v[0] * Dtype(0.25);
  if (i == 5) return v[R - 1];
  const Dtype point = i == 1 ? Dtype(1) : i == 2 ? Dtype(-1) : i == 3 ? Dtype(2) : Dtype(-2);
  const Dtype factor = i <= 2 ? Dtype(-1) / Dtype(6) : Dtype(1) / Dtype(24);
  Dtype value = v[R - 1];
  for (int k = R - 2; k >= 0; --k) value = value * point + v[k];
  return factor * value;
}

/// G^T applied to six values p: kernel element j (of R).
template <int R, typename Dtype>
MOKA_ALWAYS_INLINE Dtype KernelGradientValue(int j, const Dtype* p) {
  const Dtype sixth = Dtype(1) / Dtype(6), power = Dtype(1 << j) / Dtype(24);
  Dtype value = j % 2 == 0 ? power * (p[3] + p[4]) - sixth * (p[1] + p[2])
                           : power * (p[3] - p[4]) + sixth * (p[2] - p[1]);
  if (j == 0) value += Dtype(0.25) * p[0];
  if (j == R - 1) value += p[5];
  return value;
}

/// The input transform, first half, for one row of tiles: `rows` are the six padded input rows,
/// row_width = M * (tiles_w + 5 / M) each; `columns` has room for 7 such rows. B^T goes down every
/// column at once (neighbouring tiles share columns) into `columns` (6 x row_width); then tile tx's
/// six columns of transformed row i are copied out to runs[(6 i + s) * run + tx], s = 0..5, so that
/// the second half works on long runs of tiles.
template <int M, typename Dtype>
MOKA_ALWAYS_INLINE void InputColumnsBody(const Dtype* rows, int row_width, int tiles_w,
                                         Dtype* columns, Dtype* runs, int run) {
#pragma GCC ivdep
  for (int p = 0; p < row_width; ++p) {
    InputPoints(rows[p], rows[row_width + p], rows[2 * row_width + p], rows[3 * row_width + p],
                rows[4 * row_width + p], rows[5 * row_width + p], columns[p],
                columns[row_width + p], columns[2 * row_width + p], columns[3 * row_width + p],
                columns[4 * row_width + p], columns[5 * row_width + p]);
  }
  // Columns M tx + q of every tile are read as M phases (q = 0 .. M - 1) with interleaved loads;
  // column M tx + s, s >= M, is phase s - M of tile tx + 1.
  const int length = row_width / M;
  Dtype* phases = columns + 6 * row_width;
  for (int i = 0; i < 6; ++i) {
    const Dtype* t = columns + i * row_width;
#pragma GCC ivdep
    for (int tx = 0; tx < length; ++tx) {
      for (int q = 0; q < M; ++q) phases[q * length + tx] = t[M * tx + q];
    }
    for (int s = 0; s < 6; ++s) {
      const Dtype* from = phases + (s % M) * length + s / M;
      Dtype* to = runs + (6 * i + s) * run;
#pragma GCC ivdep
      for (int tx = 0; tx < tiles_w; ++tx) to[tx] = from[tx];
    }
  }
}

/// The input transform, second half: B along the six columns of `count` tiles gathered by
/// InputColumnsBody, into the 36 points (out: the first tile's point 0, points point_stride
/// apart, tiles 1 apart).
template <typename Dtype>
MOKA_ALWAYS_INLINE void InputRunBody(const Dtype* runs, int run, int count, Dtype* out,
                                     size_t point_stride) {
  for (int i = 0; i < 6; ++i) {
    const Dtype* e = runs + 6 * i * run;
    Dtype* v = out + static_cast<size_t>(6 * i) * point_stride;
#pragma GCC ivdep
    for (int t = 0; t < count; ++t) {
      InputPoints(e[t], e[run + t], e[2 * run + t], e[3 * run + t], e[4 * run + t], e[5 * run + t],
                  v[t], v[point_stride + t], v[2 * point_stride + t], v[3 * point_stride + t],
                  v[4 * point_stride + t], v[5 * point_stride + t]);
    }
  }
}

/// The output transform of `count` consecutive tiles of one output channel: m is the first tile's
/// point 0 (points point_stride apart); y receives output (a, b) of tile t at y[(a M + b) run + t].
/// s is scratch of 6 M run.
template <int M, typename Dtype>
MOKA_ALWAYS_INLINE void OutputTilesBody(const Dtype* m, size_t point_stride, int count, int run,
                                        Dtype* s, Dtype* y) {
  for (int j = 0; j < 6; ++j) {
    const Dtype* mj = m + j * point_stride;
    const size_t step = 6 * point_stride;
#pragma GCC ivdep
    for (int t = 0; t < count; ++t) {
      const Dtype m0 = mj[t], m1 = mj[step + t], m2 = mj[2 * step + t], m3 = mj[3 * step + t],
                  m4 = mj[4 * step + t], m5 = mj[5 * step + t];
      for (int a = 0; a < M; ++a) {
        s[(a * 6 + j) * run + t] = OutputValue<M>(a, m0, m1, m2, m3, m4, m5);
      }
    }
  }
  for (int a = 0; a < M; ++a) {
    const Dtype* r = s + a * 6 * run;
#pragma GCC ivdep
    for (int t = 0; t < count; ++t) {
      const Dtype r0 = r[t], r1 = r[run + t], r2 = r[2 * run + t], r3 = r[3 * run + t],
                  r4 = r[4 * run + t], r5 = r[5 * run + t];
      for (int b = 0; b < M; ++b) {
        y[(a * M + b) * run + t] = OutputValue<M>(b, r0, r1, r2, r3, r4, r5);
      }
    }
  }
}

/// One row of outputs from a row of tiles: output column q of tile tx is y[q * run + tx]; adds b
/// and keeps the first `width` columns.
template <int M, typename Dtype>
MOKA_ALWAYS_INLINE void OutputRowBody(const Dtype* y, int run, int width, Dtype b, Dtype* row) {
  const int full = width / M;
#pragma GCC ivdep
  for (int tx = 0; tx < full; ++tx) {
    for (int q = 0; q < M; ++q) row[M * tx + q] = y[q * run + tx] + b;
  }
  for (int q = 0; q < width - M * full; ++q) row[M * full + q] = y[q * run + full] + b;
}

/// The output-gradient transform, first half, for one row of tiles: `rows` are its M rows,
/// zero-padded to row_width = M * tiles_w. A goes down every column into `columns` (6 x
/// row_width); tile tx's M columns of transformed row i go to runs[(M i + s) * run + tx].
template <int M, typename Dtype>
MOKA_ALWAYS_INLINE void GradientColumnsBody(const Dtype* rows, int row_width, int tiles_w,
                                            Dtype* columns, Dtype* runs, int run) {
#pragma GCC ivdep
  for (int p = 0; p < row_width; ++p) {
    Dtype e[M];
    for (int k = 0; k < M; ++k) e[k] = rows[k * row_width + p];
    for (int i = 0; i < 6; ++i) columns[i * row_width + p] = GradientValue<M>(i, e);
  }
  for (int i = 0; i < 6; ++i) {
    const Dtype* u = columns + i * row_width;
    Dtype* to = runs + M * i * run;
#pragma GCC ivdep
    for (int tx = 0; tx < tiles_w; ++tx) {
      for (int s = 0; s < M; ++s) to[s * run + tx] = u[M * tx + s];
    }
  }
}

/// The output-gradient transform, second half: A along the M columns of `count` tiles, into the
/// 36 points.
template <int M, typename Dtype>
MOKA_ALWAYS_INLINE void GradientRunBody(const Dtype* runs, int run, int count, Dtype* out,
                                        size_t point_stride) {
  for (int i = 0; i < 6; ++i) {
    const Dtype* e = runs + M * i * run;
    Dtype* z = out + static_cast<size_t>(6 * i) * point_stride;
#pragma GCC ivdep
    for (int t = 0; t < count; ++t) {
      Dtype values[M];
      for (int k = 0; k < M; ++k) values[k] = e[k * run + t];
      for (int j = 0; j < 6; ++j) z[j * point_stride + t] = GradientValue<M>(j, values);
    }
  }
}

/// G g G^T of `count` kernels of R x R given as g[e * count + k] (element e = R * row + column of
/// kernel k) into u: point q of kernel k at u[q * point_stride + k]. s is scratch of 6 R count.
template <int R, typename Dtype>
MOKA_ALWAYS_INLINE void KernelPointsBody(const Dtype* g, int count, Dtype* s, Dtype* u,
                                         size_t point_stride) {
  // G down each of the R columns (R into 6 rows), then along each of the six rows.
  for (int c = 0; c < R; ++c) {
#pragma GCC ivdep
    for (int k = 0; k < count; ++k) {
      Dtype v[R];
      for (int r = 0; r < R; ++r) v[r] = g[(r * R + c) * count + k];
      for (int i = 0; i < 6; ++i) s[(i * R + c) * count + k] = KernelValue<R>(i, v);
    }
  }
  for (int i = 0; i < 6; ++i) {
#pragma GCC ivdep
    for (int k = 0; k < count; ++k) {
      Dtype v[R];
      for (int c = 0; c < R; ++c) v[c] = s[(i * R + c) * count + k];
      for (int j = 0; j < 6; ++j) u[(i * 6 + j) * point_stride + k] = KernelValue<R>(j, v);
    }
  }
}

/// The gradient of `count` consecutive kernels from their summed products: p is the first
/// kernel's point 0 (points point_stride apart, kernels 1 apart); G^T p G is added to dw (count
/// kernels of R x R). s is scratch of 6 R count, w of R R count.
template <int R, typename Dtype>
MOKA_ALWAYS_INLINE void KernelGradientBody(const Dtype* p, size_t point_stride, int count, Dtype* s,
                                           Dtype* w, Dtype* dw) {
  // G^T along each row of points (6 rows of 6 into 6 rows of R), then down the columns.
  for (int i = 0; i < 6; ++i) {
#pragma GCC ivdep
    for (int k = 0; k < count; ++k) {
      Dtype row[6];
      for (int j = 0; j < 6; ++j) row[j] = p[(i * 6 + j) * point_stride + k];
      for (int c = 0; c < R; ++c) s[(i * R + c) * count + k] = KernelGradientValue<R>(c, row);
    }
  }
  for (int c = 0; c < R; ++c) {
#pragma GCC ivdep
    for (int k = 0; k < count; ++k) {
      Dtype column[6];
      for (int i = 0; i < 6; ++i) column[i] = s[(i * R + c) * count + k];
      for (int r = 0; r < R; ++r) w[(r * R + c) * count + k] = KernelGradientValue<R>(r, column);
    }
  }
  for (int k = 0; k < count; ++k) {
    for (int e = 0; e < R * R; ++e) dw[k * R * R + e] += w[e * count + k];
  }
}

// One instance per type, tile or kernel size, and instruction set (see MOKA_VECTOR_CLONES).
#define MOKA_WINOGRAD_KERNELS(Dtype, M, R)                                                        \
  MOKA_VECTOR_CLONES void InputColumns##M(const Dtype* rows, int row_width, int tiles_w,          \
                                          Dtype* columns, Dtype* runs, int run) {                 \
    InputColumnsBody<M>(rows, row_width, tiles_w, columns, runs, run);                            \
  }                                                                                               \
  MOKA_VECTOR_CLONES void OutputTiles##M(const Dtype* m, size_t point_stride, int count, int run, \
                                         Dtype* s, Dtype* y) {                                    \
    OutputTilesBody<M>(m, point_stride, count, run, s, y);                                        \
  }                                                                                               \
  MOKA_VECTOR_CLONES void OutputRow##M(const Dtype* y, int run, int width, Dtype b, Dtype* row) { \
    OutputRowBody<M>(y, run, width, b, row);                                                      \
  }                                                                                               \
  MOKA_VECTOR_CLONES void GradientColumns##M(const Dtype* rows, int row_width, int tiles_w,       \
                                             Dtype* columns, Dtype* runs, int run) {              \
    GradientColumnsBody<M>(rows, row_width, tiles_w, columns, runs, run);                         \
  }                                                                                               \
  MOKA_VECTOR_CLONES void GradientRun##M(const Dtype* runs, int run, int count, Dtype* out,       \
                                         size_t point_stride) {                                   \
    GradientRunBody<M>(runs, run, count, out, point_stride);                                      \
  }                                                                                               \
  MOKA_VECTOR_CLONES void KernelPoints##R(const Dtype* g, int count, Dtype* s, Dtype* u,          \
                                          size_t point_stride) {                                  \
    KernelPointsBody<R>(g, count, s, u, point_stride);                                            \
  }                                                                                               \
  MOKA_VECTOR_CLONES void KernelGradient##R(const Dtype* p, size_t point_stride, int count,       \
                                            Dtype* s, Dtype* w, Dtype* dw) {                      \
    KernelGradientBody<R>(p, point_stride, count, s, w, dw);                                      \
  }
MOKA_WINOGRAD_KERNELS(float, 4, 3)
MOKA_WINOGRAD_KERNELS(double, 4, 3)
MOKA_WINOGRAD_KERNELS(float, 2, 5)
MOKA_WINOGRAD_KERNELS(double, 2, 5)
#undef MOKA_WINOGRAD_KERNELS
MOKA_VECTOR_CLONES void InputRun(const float* runs, int run, int count, float* out,
                                 size_t point_stride) {
  InputRunBody(runs, run, count, out, point_stride);
}
MOKA_VECTOR_CLONES void InputRun(const double* runs, int run, int count, double* out,
                                 size_t point_stride) {
  InputRunBody(runs, run, count, out, point_stride);
}

/// The kernels for a tile of M outputs (and a kernel of 7 - M).
template <typename Dtype>
struct Kernels {
  void (*input_columns)(const Dtype*, int, int, Dtype*, Dtype*, int);
  void (*output_tiles)(const Dtype*, size_t, int, int, Dtype*, Dtype*);
  void (*output_row)(const Dtype*, int, int, Dtype, Dtype*);
  void (*gradient_columns)(const Dtype*, int, int, Dtype*, Dtype*, int);
  void (*gradient_run)(const Dtype*, int, int, Dtype*, size_t);
  void (*kernel_points)(const Dtype*, int, Dtype*, Dtype*, size_t);
  void (*kernel_gradient)(const Dtype*, size_t, int, Dtype*, Dtype*, Dtype*);

  static Kernels For(int tile) {
    if (tile == 4) {
      return {InputColumns4, OutputTiles4,  OutputRow4,     GradientColumns4,
              GradientRun4,  KernelPoints3, KernelGradient3};
    }
    return {InputColumns2, OutputTiles2,  OutputRow2,     GradientColumns2,
            GradientRun2,  KernelPoints5, KernelGradient5};
  }
};

/// Columns of a padded input row for tiles_w tiles of `tile` outputs: the tiles' 6-column spans,
/// rounded up to whole phases.
int InputRowWidth(int tiles_w, int tile) {
  return tile * (tiles_w + 5 / tile);
}

/// Tiles the transforms take at a time: whole rows of tiles, about kRunTiles of them, so that
/// the vector loops run long while the scratch stays in the core's cache.
constexpr int kRunTiles = 256;
int RunLength(int tiles_w) {
  return tiles_w * std::max(1, kRunTiles / tiles_w);
}

/// Scratch per thread: the input transform's six padded rows, their transform and the runs; the
/// gradient transform's rows, six transformed rows and runs; the output transform's partial and
/// output runs; or a block of kernels.
size_t ScratchSize(int tiles_w, int tile) {
  const size_t width = InputRowWidth(tiles_w, tile);
  const size_t run = RunLength(std::max(1, tiles_w));
  const size_t input = 13 * width + 36 * run;
  const size_t gradient = (tile + 6) * static_cast<size_t>(tile) * tiles_w + 6 * tile * run;
  const size_t output = (6 + tile) * static_cast<size_t>(tile) * run;
  return std::max<size_t>({input, gradient, output, 61 * kBlock});
}

/// Runs fn(begin, end, slot) over [0, units) on `threads` threads, in a few pieces per thread so
/// that a descheduled thread delays little. Every unit here is heavy, so there is no size
/// threshold.
template <typename Fn>
void ForUnits(int units, int threads, const Fn& fn) {
  ForPieces(units, std::min(units, threads > 1 ? 8 * threads : 1), threads, fn);
}

/// Transformed data, products and per-thread scratch, shared by every Winograd layer that runs on
/// the calling thread: layers run one after another, so one set serves a whole net.
template <typename Dtype>
struct Workspace {
  std::vector<Dtype> points;
  std::vector<Dtype> products;
  std::vector<Dtype> kernel_points;
  std::vector<std::vector<Dtype>> scratch;

  static Workspace& Prepare(size_t points_size, size_t products_size, int threads,
                            size_t scratch_size) {
    thread_local Workspace workspace;
    if (workspace.points.size() < points_size) workspace.points.resize(points_size);
    if (workspace.products.size() < products_size) workspace.products.resize(products_size);
    if (static_cast<int>(workspace.scratch.size()) < threads) workspace.scratch.resize(threads);
    for (auto& buffer : workspace.scratch) {
      if (buffer.size() < scratch_size) buffer.resize(scratch_size);
    }
    return workspace;
  }
};

}  // namespace

template <typename Dtype>
bool WinogradConvolution<Dtype>::Possible(const WinogradGeometry& g) {
  return (g.kernel == 3 || g.kernel == 5) && g.group > 0 && g.channels > 0 && g.out_channels > 0 &&
         g.channels % g.group == 0 && g.out_channels % g.group == 0;
}

template <typename Dtype>
bool WinogradConvolution<Dtype>::Worthwhile(const WinogradGeometry& g) {
  if (!Possible(g)) return false;
  // Thin products run BLAS far below its speed, and the transforms then dominate. A 2x2 tile
  // spends four times as much transform per output as a 4x4 one: LeNet's conv2 (20 -> 50
  // channels, 8x8) ran at half the speed of im2col, CIFAR-10's (32 -> 32, 16x16) a little faster.
  const int least = std::min(g.channels, g.out_channels) / g.group;
  if (least < (g.kernel == 3 ? 16 : 32)) return false;
  const int tile = 7 - g.kernel;
  const int tiles_h = (g.out_height + tile - 1) / tile;
  const int tiles_w = (g.out_width + tile - 1) / tile;
  // Outputs computed per output wanted: past about 7/4 most of the saving is spent.
  const double waste = static_cast<double>(tiles_h * tile) * (tiles_w * tile) /
                       (static_cast<double>(g.out_height) * g.out_width);
  return waste <= 1.75;
}

template <typename Dtype>
void WinogradConvolution<Dtype>::Reshape(const WinogradGeometry& g, int images, int threads) {
  MOKA_ASSERT(g.kernel == 3 || g.kernel == 5);
  MOKA_ASSERT(g.group > 0 && g.channels % g.group == 0 && g.out_channels % g.group == 0);
  MOKA_ASSERT(g.out_height == g.height + 2 * g.pad_h - (g.kernel - 1) &&
              g.out_width == g.width + 2 * g.pad_w - (g.kernel - 1));
  g_ = g;
  tile_ = 7 - g.kernel;
  images_ = images;
  threads_ = std::max(1, threads);
  tiles_h_ = (g.out_height + tile_ - 1) / tile_;
  tiles_w_ = (g.out_width + tile_ - 1) / tile_;
  const size_t tiles = static_cast<size_t>(tiles_h_) * tiles_w_;
  const size_t image_bytes =
      sizeof(Dtype) * kPoints * static_cast<size_t>(g.channels + g.out_channels) * tiles;
  const int most = std::max(1, images);
  chunk_ =
      static_cast<int>(std::clamp<size_t>(kBudget / std::max<size_t>(1, image_bytes), 1, most));
  // Even out the chunks: 8 images in chunks of 6 would leave one of 2.
  const int chunks = (most + chunk_ - 1) / chunk_;
  chunk_ = (most + chunks - 1) / chunks;
}

template <typename Dtype>
void WinogradConvolution<Dtype>::SetWeights(const Dtype* weights, bool adjoint) {
  const int out_channels = g_.out_channels;
  const int in_per_group = g_.channels / g_.group;
  const int area = g_.kernel * g_.kernel;
  // In the adjoint the roles swap: the layer's kernels are (channels x out_channels/group x k x k).
  const size_t count = static_cast<size_t>(out_channels) * in_per_group * area;
  if (adjoint == adjoint_ && source_weights_.size() == count &&
      std::memcmp(source_weights_.data(), weights, count * sizeof(Dtype)) == 0) {
    return;
  }
  adjoint_ = adjoint;
  source_weights_.assign(weights, weights + count);
  transformed_weights_.resize(kPoints * count / area);
  const size_t point_stride = static_cast<size_t>(out_channels) * in_per_group;
  const int out_per_group = out_channels / g_.group;
  const Kernels<Dtype> kernels = Kernels<Dtype>::For(tile_);
  Workspace<Dtype>& work = Workspace<Dtype>::Prepare(0, 0, threads_, ScratchSize(0, tile_));
  auto transform = [&](int begin, int end, int slot) {
    // Kernels (o, i) for one o and a block of i at a time: gathered element-major, then
    // transformed together.
    Dtype* gathered = work.scratch[slot].data();
    Dtype* s = gathered + area * kBlock;
    for (int o = begin; o < end; ++o) {
      for (int first = 0; first < in_per_group; first += kBlock) {
        const int block = std::min(kBlock, in_per_group - first);
        for (int k = 0; k < block; ++k) {
          const int i = first + k;
          if (!adjoint) {
            const Dtype* w = weights + (static_cast<size_t>(o) * in_per_group + i) * area;
            for (int e = 0; e < area; ++e) gathered[e * block + k] = w[e];
          } else {
            // Adjoint output channel o is layer input channel o (its group o / out_per_group, at
            // o % out_per_group within it); adjoint input i is layer output i of that group. The
            // kernel turns half a circle.
            const int layer_out = (o / out_per_group) * in_per_group + i;
            const Dtype* w =
                weights +
                (static_cast<size_t>(layer_out) * out_per_group + o % out_per_group) * area;
            for (int e = 0; e < area; ++e) gathered[e * block + k] = w[area - 1 - e];
          }
        }
        kernels.kernel_points(
            gathered, block, s,
            transformed_weights_.data() + static_cast<size_t>(o) * in_per_group + first,
            point_stride);
      }
    }
  };
  ForUnits(out_channels, threads_, transform);
}

template <typename Dtype>
void WinogradConvolution<Dtype>::TransformInput(const Dtype* input, int images, int channel_begin,
                                                int channel_end, Dtype* points,
                                                Dtype* scratch) const {
  const int height = g_.height, width = g_.width, channels = g_.channels;
  const int row_width = InputRowWidth(tiles_w_, tile_);
  const int run = RunLength(tiles_w_);
  const auto input_columns = Kernels<Dtype>::For(tile_).input_columns;
  Dtype* rows = scratch;
  Dtype* columns = rows + kPatch * row_width;
  Dtype* runs = columns + (kPatch + 1) * row_width;
  const size_t point_stride = static_cast<size_t>(channels) * columns_;
  // The columns [lo, hi) of a padded row hold image columns lo - pad_w onwards.
  const int lo = std::clamp(g_.pad_w, 0, row_width);
  const int hi = std::clamp(width + g_.pad_w, lo, row_width);
  for (int channel = channel_begin; channel < channel_end; ++channel) {
    // A channel's tiles, image after image, are consecutive in every point's row: they are
    // gathered a run of tile rows at a time, crossing from one image into the next.
    Dtype* v = points + static_cast<size_t>(channel) * columns_;
    int filled = 0;
    for (int image = 0; image < images; ++image) {
      const Dtype* x = input + (static_cast<size_t>(image) * channels + channel) * height * width;
      for (int ty = 0; ty < tiles_h_; ++ty) {
        for (int r = 0; r < kPatch; ++r) {
          Dtype* row = rows + r * row_width;
          const int y = ty * tile_ - g_.pad_h + r;
          if (y < 0 || y >= height) {
            std::fill(row, row + row_width, Dtype(0));
            continue;
          }
          std::fill(row, row + lo, Dtype(0));
          std::copy(x + y * width + (lo - g_.pad_w), x + y * width + (hi - g_.pad_w), row + lo);
          std::fill(row + hi, row + row_width, Dtype(0));
        }
        input_columns(rows, row_width, tiles_w_, columns, runs + filled, run);
        filled += tiles_w_;
        if (filled + tiles_w_ > run || (image == images - 1 && ty == tiles_h_ - 1)) {
          InputRun(runs, run, filled, v, point_stride);
          v += filled;
          filled = 0;
        }
      }
    }
  }
}

template <typename Dtype>
void WinogradConvolution<Dtype>::TransformOutput(const Dtype* products, const Dtype* bias,
                                                 int images, int channel_begin, int channel_end,
                                                 Dtype* output, Dtype* scratch) const {
  const int out_channels = g_.out_channels;
  const int out_height = g_.out_height, out_width = g_.out_width;
  const size_t point_stride = static_cast<size_t>(out_channels) * columns_;
  const int run = RunLength(tiles_w_);
  const int rows_per_run = run / tiles_w_;
  const int tile_rows = images * tiles_h_;
  const Kernels<Dtype> kernels = Kernels<Dtype>::For(tile_);
  Dtype* s = scratch;
  Dtype* y = s + 6 * tile_ * run;
  for (int channel = channel_begin; channel < channel_end; ++channel) {
    const Dtype* m = products + static_cast<size_t>(channel) * columns_;
    const Dtype b = bias == nullptr ? Dtype(0) : bias[channel];
    for (int first = 0; first < tile_rows; first += rows_per_run) {
      const int count = std::min(rows_per_run, tile_rows - first);
      kernels.output_tiles(m + static_cast<size_t>(first) * tiles_w_, point_stride,
                           count * tiles_w_, run, s, y);
      for (int k = 0; k < count; ++k) {
        const int image = (first + k) / tiles_h_, ty = (first + k) % tiles_h_;
        Dtype* plane =
            output + (static_cast<size_t>(image) * out_channels + channel) * out_height * out_width;
        const int rows = std::min(tile_, out_height - ty * tile_);
        for (int a = 0; a < rows; ++a) {
          Dtype* row = plane + static_cast<size_t>(ty * tile_ + a) * out_width;
          kernels.output_row(y + a * tile_ * run + k * tiles_w_, run, out_width, b, row);
        }
      }
    }
  }
}

template <typename Dtype>
void WinogradConvolution<Dtype>::TransformOutputDiff(const Dtype* output_diff, int images,
                                                     int channel_begin, int channel_end,
                                                     Dtype* points, Dtype* scratch) const {
  const int out_channels = g_.out_channels;
  const int out_height = g_.out_height, out_width = g_.out_width;
  const int row_width = tiles_w_ * tile_;
  const int run = RunLength(tiles_w_);
  const Kernels<Dtype> kernels = Kernels<Dtype>::For(tile_);
  Dtype* rows = scratch;
  Dtype* columns = rows + tile_ * row_width;
  Dtype* runs = columns + kPatch * row_width;
  const size_t point_stride = static_cast<size_t>(out_channels) * columns_;
  for (int channel = channel_begin; channel < channel_end; ++channel) {
    Dtype* z = points + static_cast<size_t>(channel) * columns_;
    int filled = 0;
    for (int image = 0; image < images; ++image) {
      const Dtype* dy = output_diff + (static_cast<size_t>(image) * out_channels + channel) *
                                          out_height * out_width;
      for (int ty = 0; ty < tiles_h_; ++ty) {
        for (int r = 0; r < tile_; ++r) {
          Dtype* row = rows + r * row_width;
          const int y = ty * tile_ + r;
          if (y >= out_height) {
            std::fill(row, row + row_width, Dtype(0));
            continue;
          }
          std::copy(dy + static_cast<size_t>(y) * out_width,
                    dy + static_cast<size_t>(y + 1) * out_width, row);
          std::fill(row + out_width, row + row_width, Dtype(0));
        }
        kernels.gradient_columns(rows, row_width, tiles_w_, columns, runs + filled, run);
        filled += tiles_w_;
        if (filled + tiles_w_ > run || (image == images - 1 && ty == tiles_h_ - 1)) {
          kernels.gradient_run(runs, run, filled, z, point_stride);
          z += filled;
          filled = 0;
        }
      }
    }
  }
}

template <typename Dtype>
void WinogradConvolution<Dtype>::Forward(const Dtype* input, const Dtype* bias, Dtype* output) {
  MOKA_ASSERT(!transformed_weights_.empty());
  const int channels = g_.channels, out_channels = g_.out_channels, group = g_.group;
  const int in_per_group = channels / group, out_per_group = out_channels / group;
  const size_t in_plane = static_cast<size_t>(g_.height) * g_.width;
  const size_t out_plane = static_cast<size_t>(g_.out_height) * g_.out_width;
  const int tiles = tiles_h_ * tiles_w_;
  const size_t chunk_columns = static_cast<size_t>(chunk_) * tiles;
  const size_t scratch = ScratchSize(tiles_w_, tile_);
  Workspace<Dtype>& work =
      Workspace<Dtype>::Prepare(kPoints * channels * chunk_columns,
                                kPoints * out_channels * chunk_columns, threads_, scratch);
  SingleThreadedBlas blas(threads_ > 1);
  for (int first = 0; first < images_; first += chunk_) {
    const int images = std::min(chunk_, images_ - first);
    columns_ = images * tiles;
    const Dtype* in = input + static_cast<size_t>(first) * channels * in_plane;
    Dtype* out = output + static_cast<size_t>(first) * out_channels * out_plane;
    ForUnits(channels, threads_, [&](int begin, int end, int slot) {
      TransformInput(in, images, begin, end, work.points.data(), work.scratch[slot].data());
    });
    const Dtype* u = transformed_weights_.data();
    const Dtype* v = work.points.data();
    Dtype* m = work.products.data();
    const int columns = columns_;
    auto multiply = [&](int task, int) {
      const size_t point = task / group;
      const size_t g = task % group;
      cpu_gemm<Dtype>(Trans::kNo, Trans::kNo, out_per_group, columns, in_per_group, Dtype(1),
                      u + (point * out_channels + g * out_per_group) * in_per_group,
                      v + (point * channels + g * in_per_group) * columns, Dtype(0),
                      m + (point * out_channels + g * out_per_group) * columns);
    };
    RunTasks(kPoints * group, threads_, multiply);
    ForUnits(out_channels, threads_, [&](int begin, int end, int slot) {
      TransformOutput(work.products.data(), bias, images, begin, end, out,
                      work.scratch[slot].data());
    });
  }
}

template <typename Dtype>
void WinogradConvolution<Dtype>::WeightGradient(const Dtype* input, const Dtype* output_diff,
                                                Dtype* weight_diff) {
  const int channels = g_.channels, out_channels = g_.out_channels, group = g_.group;
  const int in_per_group = channels / group, out_per_group = out_channels / group;
  const size_t in_plane = static_cast<size_t>(g_.height) * g_.width;
  const size_t out_plane = static_cast<size_t>(g_.out_height) * g_.out_width;
  const int tiles = tiles_h_ * tiles_w_;
  const size_t chunk_columns = static_cast<size_t>(chunk_) * tiles;
  const size_t scratch = ScratchSize(tiles_w_, tile_);
  Workspace<Dtype>& work =
      Workspace<Dtype>::Prepare(kPoints * channels * chunk_columns,
                                kPoints * out_channels * chunk_columns, threads_, scratch);
  // The summed products per point: (points x out_channels x channels/group).
  const size_t point_stride = static_cast<size_t>(out_channels) * in_per_group;
  if (work.kernel_points.size() < kPoints * point_stride) {
    work.kernel_points.resize(kPoints * point_stride);
  }
  SingleThreadedBlas blas(threads_ > 1);
  for (int first = 0; first < images_; first += chunk_) {
    const int images = std::min(chunk_, images_ - first);
    columns_ = images * tiles;
    const Dtype* in = input + static_cast<size_t>(first) * channels * in_plane;
    const Dtype* dy = output_diff + static_cast<size_t>(first) * out_channels * out_plane;
    ForUnits(channels, threads_, [&](int begin, int end, int slot) {
      TransformInput(in, images, begin, end, work.points.data(), work.scratch[slot].data());
    });
    ForUnits(out_channels, threads_, [&](int begin, int end, int slot) {
      TransformOutputDiff(dy, images, begin, end, work.products.data(), work.scratch[slot].data());
    });
    const Dtype* v = work.points.data();
    const Dtype* z = work.products.data();
    Dtype* p = work.kernel_points.data();
    const int columns = columns_;
    const Dtype beta = first == 0 ? Dtype(0) : Dtype(1);
    auto multiply = [&](int task, int) {
      const size_t point = task / group;
      const size_t g = task % group;
      cpu_gemm<Dtype>(Trans::kNo, Trans::kYes, out_per_group, in_per_group, columns, Dtype(1),
                      z + (point * out_channels + g * out_per_group) * columns,
                      v + (point * channels + g * in_per_group) * columns, beta,
                      p + point * point_stride + g * out_per_group * in_per_group);
    };
    RunTasks(kPoints * group, threads_, multiply);
  }
  // Back to the kernel's size through G^T . G, added to the gradient, in blocks of kernels.
  const size_t kernels = point_stride;
  const int area = g_.kernel * g_.kernel;
  const auto kernel_gradient = Kernels<Dtype>::For(tile_).kernel_gradient;
  const int blocks = static_cast<int>((kernels + kBlock - 1) / kBlock);
  ForUnits(blocks, threads_, [&](int begin, int end, int slot) {
    Dtype* s = work.scratch[slot].data();
    for (int block = begin; block < end; ++block) {
      const size_t first = static_cast<size_t>(block) * kBlock;
      const int count = static_cast<int>(std::min<size_t>(kBlock, kernels - first));
      kernel_gradient(work.kernel_points.data() + first, point_stride, count, s,
                      s + 6 * g_.kernel * kBlock, weight_diff + first * area);
    }
  });
}

template class WinogradConvolution<float>;
template class WinogradConvolution<double>;

}  // namespace moka
