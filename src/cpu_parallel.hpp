#pragma once
// What the CPU layers share to run a pass fast: splitting it between the pool's threads, and
// compiling its hot loops for AVX2 as well as the baseline x86-64 that moka is built for.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "task_pool.hpp"

// The marked functions are compiled twice, for AVX2 and for the baseline, and the version the
// processor can run is picked when the library loads. AVX2 without FMA rounds as the baseline
// does, so both versions give the same results.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define MOKA_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define MOKA_VECTOR_CLONES
#endif
#define MOKA_ALWAYS_INLINE inline __attribute__((always_inline))

namespace moka {

/// 32 bytes of Dtype: one AVX register, two SSE registers on the baseline. Explicit vectors keep
/// loops vectorised where the compiler cannot prove that arrays do not overlap (in place).
template <typename Dtype>
struct Pack {
  typedef Dtype V __attribute__((vector_size(32)));
  static constexpr int kWidth = 32 / sizeof(Dtype);
};

/// Below this many values a pass runs on the calling thread: waking the pool costs more.
constexpr size_t kParallelValues = size_t(1) << 19;

/// Runs fn(begin, end) (or fn(begin, end, slot), slot < threads) over `pieces` consecutive
/// pieces of [0, items) on up to `threads` threads of the task pool. The pieces depend on the
/// arguments only, so a pass that computes each item within one piece gives the same results on
/// any number of threads.
template <typename Fn>
void ForPieces(int items, int pieces, int threads, const Fn& fn) {
  auto call = [&fn](int begin, int end, int slot) {
    if constexpr (std::is_invocable_v<const Fn&, int, int, int>) {
      fn(begin, end, slot);
    } else {
      fn(begin, end);
    }
  };
  if (pieces <= 1) {
    call(0, items, 0);
    return;
  }
  auto task = [&](int t, int slot) {
    call(static_cast<int>(int64_t(items) * t / pieces),
         static_cast<int>(int64_t(items) * (t + 1) / pieces), slot);
  };
  RunTasks(pieces, threads, task);
}

/// ForPieces on CpuThreads() threads when the pass touches at least `threshold` values in all,
/// else once over everything on the calling thread: a few pieces per thread, so that a late
/// worker leaves no long tail.
template <typename Fn>
void ParallelFor(int items, size_t values, const Fn& fn, size_t threshold = kParallelValues) {
  const int threads = CpuThreads();
  int pieces = 1;
  if (threads > 1 && items > 1 && values >= threshold) {
    pieces = static_cast<int>(std::min<size_t>(
        {static_cast<size_t>(items), size_t(threads) * 4, values / (threshold / 4)}));
  }
  ForPieces(items, pieces, threads, fn);
}

/// ParallelFor over the values [0, n) in whole grains of `grain` values (the last may be short):
/// fn(begin, end) on value indices.
template <typename Fn>
void ParallelForValues(int n, int grain, const Fn& fn, size_t threshold = kParallelValues) {
  const int grains = (n + grain - 1) / grain;
  ParallelFor(
      grains, static_cast<size_t>(n),
      [&](int begin, int end) { fn(begin * grain, std::min(n, end * grain)); }, threshold);
}

}  // namespace moka
