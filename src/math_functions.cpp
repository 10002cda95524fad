#include "math_functions.hpp"

#include <cblas.h>

#include <cmath>
#include <cstring>

namespace moka {
namespace {
CBLAS_TRANSPOSE ToCblas(Trans t) { return t == Trans::kNo ? CblasNoTrans : CblasTrans; }
}  // namespace

template <>
void cpu_gemm<float>(Trans ta, Trans tb, int M, int N, int K, float alpha, const float* A,
                     const float* B, float beta, float* C) {
  const int lda = ta == Trans::kNo ? K : M;
  const int ldb = tb == Trans::kNo ? N : K;
  cblas_sgemm(CblasRowMajor, ToCblas(ta), ToCblas(tb), M, N, K, alpha, A, lda, B, ldb, beta, C, N);
}
template <>
void cpu_gemm<double>(Trans ta, Trans tb, int M, int N, int K, double alpha, const double* A,
                      const double* B, double beta, double* C) {
  const int lda = ta == Trans::kNo ? K : M;
  const int ldb = tb == Trans::kNo ? N : K;
  cblas_dgemm(CblasRowMajor, ToCblas(ta), ToCblas(tb), M, N, K, alpha, A, lda, B, ldb, beta, C, N);
}

template <>
void cpu_gemv<float>(Trans ta, int M, int N, float alpha, const float* A, const float* x,
                     float beta, float* y) {
  cblas_sgemv(CblasRowMajor, ToCblas(ta), M, N, alpha, A, N, x, 1, beta, y, 1);
}
template <>
void cpu_gemv<double>(Trans ta, int M, int N, double alpha, const double* A, const double* x,
                      double beta, double* y) {
  cblas_dgemv(CblasRowMajor, ToCblas(ta), M, N, alpha, A, N, x, 1, beta, y, 1);
}

template <>
void cpu_axpy<float>(int n, float alpha, const float* x, float* y) {
  cblas_saxpy(n, alpha, x, 1, y, 1);
}
template <>
void cpu_axpy<double>(int n, double alpha, const double* x, double* y) {
  cblas_daxpy(n, alpha, x, 1, y, 1);
}

template <typename Dtype>
void cpu_axpby(int n, Dtype alpha, const Dtype* x, Dtype beta, Dtype* y) {
  for (int i = 0; i < n; ++i) y[i] = alpha * x[i] + beta * y[i];
}

template <typename Dtype>
void cpu_copy(int n, const Dtype* x, Dtype* y) {
  if (x != y && n > 0) std::memcpy(y, x, sizeof(Dtype) * n);
}

template <typename Dtype>
void cpu_set(int n, Dtype value, Dtype* y) {
  if (value == Dtype(0)) {
    std::memset(y, 0, sizeof(Dtype) * n);
    return;
  }
  for (int i = 0; i < n; ++i) y[i] = value;
}

template <typename Dtype>
void cpu_scal(int n, Dtype alpha, Dtype* x) {
  for (int i = 0; i < n; ++i) x[i] *= alpha;
}

template <typename Dtype>
void cpu_scale(int n, Dtype alpha, const Dtype* x, Dtype* y) {
  for (int i = 0; i < n; ++i) y[i] = alpha * x[i];
}

template <typename Dtype>
void cpu_add_scalar(int n, Dtype alpha, Dtype* y) {
  for (int i = 0; i < n; ++i) y[i] += alpha;
}

template <>
float cpu_strided_dot<float>(int n, const float* x, int incx, const float* y, int incy) {
  return cblas_sdot(n, x, incx, y, incy);
}
template <>
double cpu_strided_dot<double>(int n, const double* x, int incx, const double* y, int incy) {
  return cblas_ddot(n, x, incx, y, incy);
}
template <typename Dtype>
Dtype cpu_dot(int n, const Dtype* x, const Dtype* y) {
  return cpu_strided_dot(n, x, 1, y, 1);
}

template <>
float cpu_asum<float>(int n, const float* x) {
  return cblas_sasum(n, x, 1);
}
template <>
double cpu_asum<double>(int n, const double* x) {
  return cblas_dasum(n, x, 1);
}

#define MOKA_ELEMENTWISE_BINARY(name, expr)                       \
  template <typename Dtype>                                       \
  void name(int n, const Dtype* a, const Dtype* b, Dtype* y) {    \
    for (int i = 0; i < n; ++i) y[i] = (expr);                    \
  }
MOKA_ELEMENTWISE_BINARY(cpu_add, a[i] + b[i])
MOKA_ELEMENTWISE_BINARY(cpu_sub, a[i] - b[i])
MOKA_ELEMENTWISE_BINARY(cpu_mul, a[i] * b[i])
MOKA_ELEMENTWISE_BINARY(cpu_div, a[i] / b[i])
#undef MOKA_ELEMENTWISE_BINARY

#define MOKA_ELEMENTWISE_UNARY(name, expr)              \
  template <typename Dtype>                             \
  void name(int n, const Dtype* a, Dtype* y) {          \
    for (int i = 0; i < n; ++i) y[i] = (expr);          \
  }
MOKA_ELEMENTWISE_UNARY(cpu_sqr, a[i] * a[i])
MOKA_ELEMENTWISE_UNARY(cpu_sqrt, std::sqrt(a[i]))
MOKA_ELEMENTWISE_UNARY(cpu_exp, std::exp(a[i]))
MOKA_ELEMENTWISE_UNARY(cpu_log, std::log(a[i]))
MOKA_ELEMENTWISE_UNARY(cpu_abs, std::fabs(a[i]))
MOKA_ELEMENTWISE_UNARY(cpu_sign, Dtype((Dtype(0) < a[i]) - (a[i] < Dtype(0))))
#undef MOKA_ELEMENTWISE_UNARY

template <typename Dtype>
void cpu_powx(int n, const Dtype* a, Dtype b, Dtype* y) {
  for (int i = 0; i < n; ++i) y[i] = std::pow(a[i], b);
}

template <typename Dtype>
void rng_uniform(int n, Dtype low, Dtype high, std::mt19937_64& rng, Dtype* out) {
  MOKA_ASSERT(low <= high);
  // nextafter keeps `high` reachable, as Caffe's boost uniform_real over [a, b] does.
  std::uniform_real_distribution<Dtype> dist(low, std::nextafter(high, std::numeric_limits<Dtype>::max()));
  for (int i = 0; i < n; ++i) out[i] = dist(rng);
}

template <typename Dtype>
void rng_gaussian(int n, Dtype mean, Dtype stddev, std::mt19937_64& rng, Dtype* out) {
  MOKA_ASSERT(stddev > 0);
  std::normal_distribution<Dtype> dist(mean, stddev);
  for (int i = 0; i < n; ++i) out[i] = dist(rng);
}

template <typename Dtype>
void rng_bernoulli(int n, Dtype p, std::mt19937_64& rng, unsigned int* out) {
  MOKA_ASSERT(p >= 0 && p <= 1);
  std::bernoulli_distribution dist(static_cast<double>(p));
  for (int i = 0; i < n; ++i) out[i] = dist(rng) ? 1u : 0u;
}

#define MOKA_INSTANTIATE_MATH(Dtype)                                                       \
  template void cpu_axpby<Dtype>(int, Dtype, const Dtype*, Dtype, Dtype*);                 \
  template void cpu_copy<Dtype>(int, const Dtype*, Dtype*);                                \
  template void cpu_set<Dtype>(int, Dtype, Dtype*);                                        \
  template void cpu_scal<Dtype>(int, Dtype, Dtype*);                                       \
  template void cpu_scale<Dtype>(int, Dtype, const Dtype*, Dtype*);                        \
  template void cpu_add_scalar<Dtype>(int, Dtype, Dtype*);                                 \
  template Dtype cpu_dot<Dtype>(int, const Dtype*, const Dtype*);                          \
  template void cpu_add<Dtype>(int, const Dtype*, const Dtype*, Dtype*);                   \
  template void cpu_sub<Dtype>(int, const Dtype*, const Dtype*, Dtype*);                   \
  template void cpu_mul<Dtype>(int, const Dtype*, const Dtype*, Dtype*);                   \
  template void cpu_div<Dtype>(int, const Dtype*, const Dtype*, Dtype*);                   \
  template void cpu_powx<Dtype>(int, const Dtype*, Dtype, Dtype*);                         \
  template void cpu_sqr<Dtype>(int, const Dtype*, Dtype*);                                 \
  template void cpu_sqrt<Dtype>(int, const Dtype*, Dtype*);                                \
  template void cpu_exp<Dtype>(int, const Dtype*, Dtype*);                                 \
  template void cpu_log<Dtype>(int, const Dtype*, Dtype*);                                 \
  template void cpu_abs<Dtype>(int, const Dtype*, Dtype*);                                 \
  template void cpu_sign<Dtype>(int, const Dtype*, Dtype*);                                \
  template void rng_uniform<Dtype>(int, Dtype, Dtype, std::mt19937_64&, Dtype*);           \
  template void rng_gaussian<Dtype>(int, Dtype, Dtype, std::mt19937_64&, Dtype*);          \
  template void rng_bernoulli<Dtype>(int, Dtype, std::mt19937_64&, unsigned int*)
MOKA_INSTANTIATE_MATH(float);
MOKA_INSTANTIATE_MATH(double);

}  // namespace moka
