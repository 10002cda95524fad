#pragma once
// Device-side helpers for moka's kernels: float and double overloads of the math functions, so
// that templated kernels call the single-precision routine for float (as the CPU code's std::
// overloads do) rather than promoting to double.
#include <cuda_runtime.h>

namespace moka {
namespace device {

__device__ __forceinline__ float Exp(float x) { return expf(x); }
__device__ __forceinline__ double Exp(double x) { return exp(x); }
__device__ __forceinline__ float Log(float x) { return logf(x); }
__device__ __forceinline__ double Log(double x) { return log(x); }
__device__ __forceinline__ float Pow(float x, float y) { return powf(x, y); }
__device__ __forceinline__ double Pow(double x, double y) { return pow(x, y); }
__device__ __forceinline__ float Sqrt(float x) { return sqrtf(x); }
__device__ __forceinline__ double Sqrt(double x) { return sqrt(x); }
__device__ __forceinline__ float Abs(float x) { return fabsf(x); }
__device__ __forceinline__ double Abs(double x) { return fabs(x); }
__device__ __forceinline__ float Tanh(float x) { return tanhf(x); }
__device__ __forceinline__ double Tanh(double x) { return tanh(x); }

// Round-to-nearest products, sums and quotients that nvcc may not contract into a fused
// multiply-add: for kernels that must round each step as the CPU code does.
__device__ __forceinline__ float MulRn(float a, float b) { return __fmul_rn(a, b); }
__device__ __forceinline__ double MulRn(double a, double b) { return __dmul_rn(a, b); }
__device__ __forceinline__ float AddRn(float a, float b) { return __fadd_rn(a, b); }
__device__ __forceinline__ double AddRn(double a, double b) { return __dadd_rn(a, b); }
__device__ __forceinline__ float DivRn(float a, float b) { return __fdiv_rn(a, b); }
__device__ __forceinline__ double DivRn(double a, double b) { return __ddiv_rn(a, b); }

/// Reads an integer label stored as a floating-point value, truncating toward zero as the CPU's
/// static_cast<int> does.
template <typename Dtype>
__device__ __forceinline__ int ToInt(Dtype value) {
  return static_cast<int>(value);
}

}  // namespace device
}  // namespace moka
