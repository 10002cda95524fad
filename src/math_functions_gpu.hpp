#pragma once
// Device math: the GPU counterparts of math_functions.hpp, on device pointers. Matrices are
// row-major, as on the CPU. The matrix products go through cuBLAS (so they take the context's
// GpuResources); everything else is a plain grid-stride kernel and needs no handle, which lets Blob
// use it without a context. Reductions (dot, asum) sum in double with a fixed launch geometry, so
// they are deterministic from run to run, and return their result to the host.
//
// There are no device random generators: layers that draw random numbers (Dropout, stochastic
// pooling) draw them on the host from the context's stream, exactly as their CPU code does, and
// move them to the device through SyncedMemory. A seed then gives the same masks on either
// device, and the copy shows up in the transfer counters.
#ifdef MOKA_CUDA

#include "math_functions.hpp"

namespace moka {

class GpuResources;

/// C = alpha * op(A) * op(B) + beta * C, with op(A) M x K and op(B) K x N.
template <typename Dtype>
void gpu_gemm(GpuResources& gpu, Trans trans_a, Trans trans_b, int M, int N, int K, Dtype alpha,
              const Dtype* A, const Dtype* B, Dtype beta, Dtype* C);
/// y = alpha * op(A) * x + beta * y, with A M x N.
template <typename Dtype>
void gpu_gemv(GpuResources& gpu, Trans trans_a, int M, int N, Dtype alpha, const Dtype* A,
              const Dtype* x, Dtype beta, Dtype* y);

template <typename Dtype>
void gpu_axpy(int n, Dtype alpha, const Dtype* x, Dtype* y);
/// y = alpha * x + beta * y
template <typename Dtype>
void gpu_axpby(int n, Dtype alpha, const Dtype* x, Dtype beta, Dtype* y);
template <typename Dtype>
void gpu_copy(int n, const Dtype* x, Dtype* y);
template <typename Dtype>
void gpu_set(int n, Dtype value, Dtype* y);
template <typename Dtype>
void gpu_scal(int n, Dtype alpha, Dtype* x);
/// y = alpha * x
template <typename Dtype>
void gpu_scale(int n, Dtype alpha, const Dtype* x, Dtype* y);
template <typename Dtype>
void gpu_add_scalar(int n, Dtype alpha, Dtype* y);
template <typename Dtype>
Dtype gpu_dot(int n, const Dtype* x, const Dtype* y);
template <typename Dtype>
Dtype gpu_asum(int n, const Dtype* x);
/// Sum of x, accumulated and returned in double (losses and counts reduce through it).
template <typename Dtype>
double gpu_sum(int n, const Dtype* x);

// Element-wise y = f(a, b); y may be a or b.
template <typename Dtype>
void gpu_add(int n, const Dtype* a, const Dtype* b, Dtype* y);
template <typename Dtype>
void gpu_sub(int n, const Dtype* a, const Dtype* b, Dtype* y);
template <typename Dtype>
void gpu_mul(int n, const Dtype* a, const Dtype* b, Dtype* y);
template <typename Dtype>
void gpu_div(int n, const Dtype* a, const Dtype* b, Dtype* y);
template <typename Dtype>
void gpu_powx(int n, const Dtype* a, Dtype b, Dtype* y);
template <typename Dtype>
void gpu_sqr(int n, const Dtype* a, Dtype* y);
template <typename Dtype>
void gpu_sqrt(int n, const Dtype* a, Dtype* y);
template <typename Dtype>
void gpu_exp(int n, const Dtype* a, Dtype* y);
template <typename Dtype>
void gpu_log(int n, const Dtype* a, Dtype* y);
template <typename Dtype>
void gpu_abs(int n, const Dtype* a, Dtype* y);
template <typename Dtype>
void gpu_sign(int n, const Dtype* a, Dtype* y);

}  // namespace moka

#endif  // MOKA_CUDA
