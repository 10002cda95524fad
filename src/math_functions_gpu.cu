#include "math_functions_gpu.hpp"

#include <algorithm>
#include <mutex>
#include <vector>

#include "cuda_check.hpp"
#include "device_math.cuh"
#include "gpu_resources.hpp"

namespace moka {
namespace {

cublasOperation_t ToCublas(Trans t) { return t == Trans::kNo ? CUBLAS_OP_N : CUBLAS_OP_T; }

// Partial sums of one reduction: at most this many blocks, each leaving one double.
constexpr int kReduceBlocks = 256;

/// Per-device scratch for the partial sums and the result, allocated once and kept for the life of
/// the process (freeing it during static destruction could outlive the CUDA runtime).
double* ReductionScratch() {
  static std::mutex mutex;
  static std::vector<double*> scratch;
  int device = 0;
  MOKA_CUDA_CHECK(cudaGetDevice(&device));
  std::lock_guard<std::mutex> lock(mutex);
  if (static_cast<int>(scratch.size()) <= device) scratch.resize(device + 1, nullptr);
  if (scratch[device] == nullptr) {
    scratch[device] = static_cast<double*>(AllocateDeviceMemory((kReduceBlocks + 1) * sizeof(double)));
  }
  return scratch[device];
}

// mode 0: sum of x * y; mode 1: sum of |x|; mode 2: sum of x.
template <typename Dtype>
__global__ void PartialSumKernel(int n, const Dtype* x, const Dtype* y, int mode,
                                 double* partial) {
  __shared__ double cache[kCudaThreads];
  double sum = 0;
  MOKA_CUDA_KERNEL_LOOP(i, n) {
    const double v = static_cast<double>(x[i]);
    sum += mode == 0 ? v * static_cast<double>(y[i]) : mode == 1 ? device::Abs(v) : v;
  }
  cache[threadIdx.x] = sum;
  __syncthreads();
  for (int half = blockDim.x / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) cache[threadIdx.x] += cache[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) partial[blockIdx.x] = cache[0];
}

__global__ void FinishSumKernel(int num_partials, const double* partial, double* result) {
  __shared__ double cache[kCudaThreads];
  double sum = 0;
  for (int i = threadIdx.x; i < num_partials; i += blockDim.x) sum += partial[i];
  cache[threadIdx.x] = sum;
  __syncthreads();
  for (int half = blockDim.x / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) cache[threadIdx.x] += cache[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) *result = cache[0];
}

template <typename Dtype>
double Reduce(int n, const Dtype* x, const Dtype* y, int mode) {
  if (n <= 0) return 0;
  double* scratch = ReductionScratch();
  // The geometry depends on n only, so the summation order, and the result, are reproducible.
  const int blocks = std::min(kReduceBlocks, CudaBlocks(n));
  PartialSumKernel<Dtype><<<blocks, kCudaThreads>>>(n, x, y, mode, scratch);
  MOKA_CUDA_LAUNCH_CHECK();
  FinishSumKernel<<<1, kCudaThreads>>>(blocks, scratch, scratch + kReduceBlocks);
  MOKA_CUDA_LAUNCH_CHECK();
  double result = 0;
  CopyDeviceToHost(&result, scratch + kReduceBlocks, sizeof(double));
  return result;
}

template <typename Dtype>
__global__ void SetKernel(int n, Dtype value, Dtype* y) {
  MOKA_CUDA_KERNEL_LOOP(i, n) y[i] = value;
}

template <typename Dtype>
__global__ void AxpbyKernel(int n, Dtype alpha, const Dtype* x, Dtype beta, Dtype* y) {
  MOKA_CUDA_KERNEL_LOOP(i, n) y[i] = alpha * x[i] + beta * y[i];
}

template <typename Dtype>
__global__ void AxpyKernel(int n, Dtype alpha, const Dtype* x, Dtype* y) {
  MOKA_CUDA_KERNEL_LOOP(i, n) y[i] += alpha * x[i];
}

template <typename Dtype>
__global__ void ScaleKernel(int n, Dtype alpha, const Dtype* x, Dtype* y) {
  MOKA_CUDA_KERNEL_LOOP(i, n) y[i] = alpha * x[i];
}

template <typename Dtype>
__global__ void AddScalarKernel(int n, Dtype alpha, Dtype* y) {
  MOKA_CUDA_KERNEL_LOOP(i, n) y[i] += alpha;
}

template <typename Dtype>
__global__ void PowxKernel(int n, const Dtype* a, Dtype b, Dtype* y) {
  MOKA_CUDA_KERNEL_LOOP(i, n) y[i] = device::Pow(a[i], b);
}

enum class Binary { kAdd, kSub, kMul, kDiv };
enum class Unary { kSqr, kSqrt, kExp, kLog, kAbs, kSign };

template <typename Dtype>
__global__ void BinaryKernel(int n, Binary op, const Dtype* a, const Dtype* b, Dtype* y) {
  MOKA_CUDA_KERNEL_LOOP(i, n) {
    const Dtype u = a[i];
    const Dtype v = b[i];
    switch (op) {
      case Binary::kAdd: y[i] = u + v; break;
      case Binary::kSub: y[i] = u - v; break;
      case Binary::kMul: y[i] = u * v; break;
      case Binary::kDiv: y[i] = u / v; break;
    }
  }
}

template <typename Dtype>
__global__ void UnaryKernel(int n, Unary op, const Dtype* a, Dtype* y) {
  MOKA_CUDA_KERNEL_LOOP(i, n) {
    const Dtype u = a[i];
    switch (op) {
      case Unary::kSqr: y[i] = u * u; break;
      case Unary::kSqrt: y[i] = device::Sqrt(u); break;
      case Unary::kExp: y[i] = device::Exp(u); break;
      case Unary::kLog: y[i] = device::Log(u); break;
      case Unary::kAbs: y[i] = device::Abs(u); break;
      case Unary::kSign: y[i] = Dtype((Dtype(0) < u) - (u < Dtype(0))); break;
    }
  }
}

template <typename Dtype>
void LaunchBinary(int n, Binary op, const Dtype* a, const Dtype* b, Dtype* y) {
  if (n <= 0) return;
  BinaryKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, op, a, b, y);
  MOKA_CUDA_LAUNCH_CHECK();
}

template <typename Dtype>
void LaunchUnary(int n, Unary op, const Dtype* a, Dtype* y) {
  if (n <= 0) return;
  UnaryKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, op, a, y);
  MOKA_CUDA_LAUNCH_CHECK();
}

}  // namespace

template <>
void gpu_gemm<float>(GpuResources& gpu, Trans ta, Trans tb, int M, int N, int K, float alpha,
                     const float* A, const float* B, float beta, float* C) {
  // cuBLAS is column-major: the row-major C = op(A) op(B) is the column-major C^T = op(B)^T op(A)^T.
  const int lda = ta == Trans::kNo ? K : M;
  const int ldb = tb == Trans::kNo ? N : K;
  MOKA_CUBLAS_CHECK(cublasSgemm(gpu.cublas(), ToCublas(tb), ToCublas(ta), N, M, K, &alpha, B, ldb,
                                A, lda, &beta, C, N));
}

template <>
void gpu_gemm<double>(GpuResources& gpu, Trans ta, Trans tb, int M, int N, int K, double alpha,
                      const double* A, const double* B, double beta, double* C) {
  const int lda = ta == Trans::kNo ? K : M;
  const int ldb = tb == Trans::kNo ? N : K;
  MOKA_CUBLAS_CHECK(cublasDgemm(gpu.cublas(), ToCublas(tb), ToCublas(ta), N, M, K, &alpha, B, ldb,
                                A, lda, &beta, C, N));
}

// A row-major M x N matrix is the column-major N x M matrix A^T, hence the flipped operation.
template <>
void gpu_gemv<float>(GpuResources& gpu, Trans ta, int M, int N, float alpha, const float* A,
                     const float* x, float beta, float* y) {
  const cublasOperation_t op = ta == Trans::kNo ? CUBLAS_OP_T : CUBLAS_OP_N;
  MOKA_CUBLAS_CHECK(cublasSgemv(gpu.cublas(), op, N, M, &alpha, A, N, x, 1, &beta, y, 1));
}

template <>
void gpu_gemv<double>(GpuResources& gpu, Trans ta, int M, int N, double alpha, const double* A,
                      const double* x, double beta, double* y) {
  const cublasOperation_t op = ta == Trans::kNo ? CUBLAS_OP_T : CUBLAS_OP_N;
  MOKA_CUBLAS_CHECK(cublasDgemv(gpu.cublas(), op, N, M, &alpha, A, N, x, 1, &beta, y, 1));
}

template <typename Dtype>
void gpu_axpy(int n, Dtype alpha, const Dtype* x, Dtype* y) {
  if (n <= 0) return;
  AxpyKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, alpha, x, y);
  MOKA_CUDA_LAUNCH_CHECK();
}

template <typename Dtype>
void gpu_axpby(int n, Dtype alpha, const Dtype* x, Dtype beta, Dtype* y) {
  if (n <= 0) return;
  AxpbyKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, alpha, x, beta, y);
  MOKA_CUDA_LAUNCH_CHECK();
}

template <typename Dtype>
void gpu_copy(int n, const Dtype* x, Dtype* y) {
  if (n <= 0 || x == y) return;
  CopyDeviceToDevice(y, x, sizeof(Dtype) * n);
}

template <typename Dtype>
void gpu_set(int n, Dtype value, Dtype* y) {
  if (n <= 0) return;
  if (value == Dtype(0)) {
    ZeroDeviceMemory(y, sizeof(Dtype) * n);
    return;
  }
  SetKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, value, y);
  MOKA_CUDA_LAUNCH_CHECK();
}

template <typename Dtype>
void gpu_scal(int n, Dtype alpha, Dtype* x) {
  gpu_scale(n, alpha, static_cast<const Dtype*>(x), x);
}

template <typename Dtype>
void gpu_scale(int n, Dtype alpha, const Dtype* x, Dtype* y) {
  if (n <= 0) return;
  ScaleKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, alpha, x, y);
  MOKA_CUDA_LAUNCH_CHECK();
}

template <typename Dtype>
void gpu_add_scalar(int n, Dtype alpha, Dtype* y) {
  if (n <= 0) return;
  AddScalarKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, alpha, y);
  MOKA_CUDA_LAUNCH_CHECK();
}

template <typename Dtype>
Dtype gpu_dot(int n, const Dtype* x, const Dtype* y) {
  return static_cast<Dtype>(Reduce(n, x, y, 0));
}

template <typename Dtype>
Dtype gpu_asum(int n, const Dtype* x) {
  return static_cast<Dtype>(Reduce(n, x, x, 1));
}

template <typename Dtype>
double gpu_sum(int n, const Dtype* x) {
  return Reduce(n, x, x, 2);
}

template <typename Dtype>
void gpu_add(int n, const Dtype* a, const Dtype* b, Dtype* y) { LaunchBinary(n, Binary::kAdd, a, b, y); }
template <typename Dtype>
void gpu_sub(int n, const Dtype* a, const Dtype* b, Dtype* y) { LaunchBinary(n, Binary::kSub, a, b, y); }
template <typename Dtype>
void gpu_mul(int n, const Dtype* a, const Dtype* b, Dtype* y) { LaunchBinary(n, Binary::kMul, a, b, y); }
template <typename Dtype>
void gpu_div(int n, const Dtype* a, const Dtype* b, Dtype* y) { LaunchBinary(n, Binary::kDiv, a, b, y); }

template <typename Dtype>
void gpu_sqr(int n, const Dtype* a, Dtype* y) { LaunchUnary(n, Unary::kSqr, a, y); }
template <typename Dtype>
void gpu_sqrt(int n, const Dtype* a, Dtype* y) { LaunchUnary(n, Unary::kSqrt, a, y); }
template <typename Dtype>
void gpu_exp(int n, const Dtype* a, Dtype* y) { LaunchUnary(n, Unary::kExp, a, y); }
template <typename Dtype>
void gpu_log(int n, const Dtype* a, Dtype* y) { LaunchUnary(n, Unary::kLog, a, y); }
template <typename Dtype>
void gpu_abs(int n, const Dtype* a, Dtype* y) { LaunchUnary(n, Unary::kAbs, a, y); }
template <typename Dtype>
void gpu_sign(int n, const Dtype* a, Dtype* y) { LaunchUnary(n, Unary::kSign, a, y); }

template <typename Dtype>
void gpu_powx(int n, const Dtype* a, Dtype b, Dtype* y) {
  if (n <= 0) return;
  PowxKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, a, b, y);
  MOKA_CUDA_LAUNCH_CHECK();
}

#define MOKA_INSTANTIATE_GPU_MATH(Dtype)                                        \
  template void gpu_axpy<Dtype>(int, Dtype, const Dtype*, Dtype*);              \
  template void gpu_axpby<Dtype>(int, Dtype, const Dtype*, Dtype, Dtype*);      \
  template void gpu_copy<Dtype>(int, const Dtype*, Dtype*);                     \
  template void gpu_set<Dtype>(int, Dtype, Dtype*);                             \
  template void gpu_scal<Dtype>(int, Dtype, Dtype*);                            \
  template void gpu_scale<Dtype>(int, Dtype, const Dtype*, Dtype*);             \
  template void gpu_add_scalar<Dtype>(int, Dtype, Dtype*);                      \
  template Dtype gpu_dot<Dtype>(int, const Dtype*, const Dtype*);               \
  template Dtype gpu_asum<Dtype>(int, const Dtype*);                            \
  template double gpu_sum<Dtype>(int, const Dtype*);                            \
  template void gpu_add<Dtype>(int, const Dtype*, const Dtype*, Dtype*);        \
  template void gpu_sub<Dtype>(int, const Dtype*, const Dtype*, Dtype*);        \
  template void gpu_mul<Dtype>(int, const Dtype*, const Dtype*, Dtype*);        \
  template void gpu_div<Dtype>(int, const Dtype*, const Dtype*, Dtype*);        \
  template void gpu_powx<Dtype>(int, const Dtype*, Dtype, Dtype*);              \
  template void gpu_sqr<Dtype>(int, const Dtype*, Dtype*);                      \
  template void gpu_sqrt<Dtype>(int, const Dtype*, Dtype*);                     \
  template void gpu_exp<Dtype>(int, const Dtype*, Dtype*);                      \
  template void gpu_log<Dtype>(int, const Dtype*, Dtype*);                      \
  template void gpu_abs<Dtype>(int, const Dtype*, Dtype*);                      \
  template void gpu_sign<Dtype>(int, const Dtype*, Dtype*)

MOKA_INSTANTIATE_GPU_MATH(float);
MOKA_INSTANTIATE_GPU_MATH(double);

}  // namespace moka
