#pragma once
// CPU math over OpenBLAS, plus the element-wise helpers layers share. Matrices are row-major.
#include <random>

#include "common.hpp"

namespace moka {

enum class Trans { kNo, kYes };

/// C = alpha * op(A) * op(B) + beta * C, with op(A) M x K and op(B) K x N.
template <typename Dtype>
void cpu_gemm(Trans trans_a, Trans trans_b, int M, int N, int K, Dtype alpha, const Dtype* A,
              const Dtype* B, Dtype beta, Dtype* C);
/// y = alpha * op(A) * x + beta * y, with A M x N.
template <typename Dtype>
void cpu_gemv(Trans trans_a, int M, int N, Dtype alpha, const Dtype* A, const Dtype* x, Dtype beta,
              Dtype* y);
template <typename Dtype>
void cpu_axpy(int n, Dtype alpha, const Dtype* x, Dtype* y);
/// y = alpha * x + beta * y
template <typename Dtype>
void cpu_axpby(int n, Dtype alpha, const Dtype* x, Dtype beta, Dtype* y);
template <typename Dtype>
void cpu_copy(int n, const Dtype* x, Dtype* y);
template <typename Dtype>
void cpu_set(int n, Dtype value, Dtype* y);
template <typename Dtype>
void cpu_scal(int n, Dtype alpha, Dtype* x);
/// y = alpha * x
template <typename Dtype>
void cpu_scale(int n, Dtype alpha, const Dtype* x, Dtype* y);
template <typename Dtype>
void cpu_add_scalar(int n, Dtype alpha, Dtype* y);
template <typename Dtype>
Dtype cpu_dot(int n, const Dtype* x, const Dtype* y);
/// Dot product of x and y with strides.
template <typename Dtype>
Dtype cpu_strided_dot(int n, const Dtype* x, int incx, const Dtype* y, int incy);
template <typename Dtype>
Dtype cpu_asum(int n, const Dtype* x);

// Element-wise y = f(a, b).
template <typename Dtype>
void cpu_add(int n, const Dtype* a, const Dtype* b, Dtype* y);
template <typename Dtype>
void cpu_sub(int n, const Dtype* a, const Dtype* b, Dtype* y);
template <typename Dtype>
void cpu_mul(int n, const Dtype* a, const Dtype* b, Dtype* y);
template <typename Dtype>
void cpu_div(int n, const Dtype* a, const Dtype* b, Dtype* y);
template <typename Dtype>
void cpu_powx(int n, const Dtype* a, Dtype b, Dtype* y);
template <typename Dtype>
void cpu_sqr(int n, const Dtype* a, Dtype* y);
template <typename Dtype>
void cpu_sqrt(int n, const Dtype* a, Dtype* y);
template <typename Dtype>
void cpu_exp(int n, const Dtype* a, Dtype* y);
template <typename Dtype>
void cpu_log(int n, const Dtype* a, Dtype* y);
template <typename Dtype>
void cpu_abs(int n, const Dtype* a, Dtype* y);
template <typename Dtype>
void cpu_sign(int n, const Dtype* a, Dtype* y);

// Random numbers from a caller's stream (a Context's, usually).
template <typename Dtype>
void rng_uniform(int n, Dtype low, Dtype high, std::mt19937_64& rng, Dtype* out);
template <typename Dtype>
void rng_gaussian(int n, Dtype mean, Dtype stddev, std::mt19937_64& rng, Dtype* out);
/// out[i] = 1 with probability p, else 0.
template <typename Dtype>
void rng_bernoulli(int n, Dtype p, std::mt19937_64& rng, unsigned int* out);

}  // namespace moka
