#include "cuda_check.hpp"
#include "device_math.cuh"
#include "gpu_resources.hpp"
#include "layers/mvn.hpp"
#include "math_functions_gpu.hpp"

namespace moka {
namespace {

// data[r, :] += alpha * values[r], the product rounded first as on the CPU.
template <typename Dtype>
__global__ void AddPerRowKernel(int count, int dim, const Dtype* values, Dtype alpha,
                                Dtype* data) {
  MOKA_CUDA_KERNEL_LOOP(i, count) data[i] += device::MulRn(alpha, values[i / dim]);
}

template <typename Dtype>
__global__ void FillPerRowKernel(int count, int dim, const Dtype* values, Dtype* data) {
  MOKA_CUDA_KERNEL_LOOP(i, count) data[i] = values[i / dim];
}

template <typename Dtype>
void AddPerRowGpu(int count, int dim, const Dtype* values, Dtype alpha, Dtype* data) {
  AddPerRowKernel<Dtype><<<CudaBlocks(count), kCudaThreads>>>(count, dim, values, alpha, data);
  MOKA_CUDA_LAUNCH_CHECK();
}

template <typename Dtype>
void FillPerRowGpu(int count, int dim, const Dtype* values, Dtype* data) {
  FillPerRowKernel<Dtype><<<CudaBlocks(count), kCudaThreads>>>(count, dim, values, data);
  MOKA_CUDA_LAUNCH_CHECK();
}

}  // namespace

// Step for step the CPU code, with the row sums through cuBLAS.
template <typename Dtype>
void MVNLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  const int count = bottom[0]->count();
  if (count == 0) return;
  GpuResources& gpu = this->context().gpu();
  const Dtype eps = this->layer_param_.mvn_param().eps();
  const Dtype* x = bottom[0]->gpu_data();
  Dtype* y = top[0]->mutable_gpu_data();
  const Dtype* ones = sum_multiplier_.gpu_data();
  gpu_gemv<Dtype>(gpu, Trans::kNo, num_, dim_, Dtype(1. / dim_), x, ones, Dtype(0),
                  mean_.mutable_gpu_data());
  if (x != y) gpu_copy(count, x, y);
  AddPerRowGpu(count, dim_, mean_.gpu_data(), Dtype(-1), y);
  if (!this->layer_param_.mvn_param().normalize_variance()) return;
  gpu_sqr(count, static_cast<const Dtype*>(y), temp_.mutable_gpu_data());
  gpu_gemv<Dtype>(gpu, Trans::kNo, num_, dim_, Dtype(1. / dim_), temp_.gpu_data(), ones, Dtype(0),
                  variance_.mutable_gpu_data());
  // eps goes on the standard deviation, as in Caffe.
  Dtype* std_eps = variance_.mutable_gpu_data();
  gpu_powx(num_, static_cast<const Dtype*>(std_eps), Dtype(0.5), std_eps);
  gpu_add_scalar(num_, eps, std_eps);
  FillPerRowGpu(count, dim_, variance_.gpu_data(), temp_.mutable_gpu_data());
  gpu_div(count, static_cast<const Dtype*>(y), temp_.gpu_data(), y);
}

template <typename Dtype>
void MVNLayer<Dtype>::Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                   const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const bool normalize_variance = this->layer_param_.mvn_param().normalize_variance();
  if (normalize_variance) {
    MOKA_CHECK(top[0] != bottom[0], ConfigError,
               "cannot run backward in place with normalize_variance");
  }
  const int count = bottom[0]->count();
  if (count == 0) return;
  GpuResources& gpu = this->context().gpu();
  const Dtype* y = top[0]->gpu_data();
  const Dtype* dy = top[0]->gpu_diff();
  Dtype* dx = bottom[0]->mutable_gpu_diff();
  const Dtype* ones = sum_multiplier_.gpu_data();
  Dtype* row_sums = mean_.mutable_gpu_data();
  if (normalize_variance) {
    gpu_mul(count, y, dy, dx);
    gpu_gemv<Dtype>(gpu, Trans::kNo, num_, dim_, Dtype(1), dx, ones, Dtype(0), row_sums);
    FillPerRowGpu(count, dim_, static_cast<const Dtype*>(row_sums), dx);
    gpu_mul(count, y, static_cast<const Dtype*>(dx), dx);
    gpu_gemv<Dtype>(gpu, Trans::kNo, num_, dim_, Dtype(1), dy, ones, Dtype(0), row_sums);
    AddPerRowGpu(count, dim_, static_cast<const Dtype*>(row_sums), Dtype(1), dx);
    gpu_axpby(count, Dtype(1), dy, Dtype(-1. / dim_), dx);
    FillPerRowGpu(count, dim_, variance_.gpu_data(), temp_.mutable_gpu_data());
    gpu_div(count, static_cast<const Dtype*>(dx), temp_.gpu_data(), dx);
  } else {
    gpu_gemv<Dtype>(gpu, Trans::kNo, num_, dim_, Dtype(1. / dim_), dy, ones, Dtype(0), row_sums);
    if (dx != dy) gpu_copy(count, dy, dx);
    AddPerRowGpu(count, dim_, static_cast<const Dtype*>(row_sums), Dtype(-1), dx);
  }
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(MVNLayer);

}  // namespace moka
