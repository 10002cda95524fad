#include "cuda_check.hpp"
#include "im2col_gpu.hpp"

namespace moka {
namespace {

template <typename Dtype>
__global__ void Im2colKernel(int n, ConvGeometryGpu g, int kernel_size, int positions,
                             const Dtype* im, Dtype* col) {
  MOKA_CUDA_KERNEL_LOOP(index, n) {
    const int row = index / positions;
    int position = index % positions;
    int offset = row % kernel_size;
    const int channel = row / kernel_size;
    // Walk the axes from the last (fastest) to the first, decoding the output position and the
    // kernel offset, and build the image index from the first axis down.
    int coords[kMaxConvAxesGpu];
    bool inside = true;
    for (int a = g.num_axes - 1; a >= 0; --a) {
      const int o = position % g.col_shape[a];
      position /= g.col_shape[a];
      const int k = offset % g.kernel[a];
      offset /= g.kernel[a];
      const int x = o * g.stride[a] - g.pad[a] + k * g.dilation[a];
      inside = inside && x >= 0 && x < g.im_shape[a];
      coords[a] = x;
    }
    if (!inside) {
      col[index] = 0;
      continue;
    }
    int im_index = channel;
    for (int a = 0; a < g.num_axes; ++a) im_index = im_index * g.im_shape[a] + coords[a];
    col[index] = im[im_index];
  }
}

template <typename Dtype>
__global__ void Col2imKernel(int n, ConvGeometryGpu g, int kernel_size, int positions,
                             const Dtype* col, Dtype* im) {
  MOKA_CUDA_KERNEL_LOOP(index, n) {
    int coords[kMaxConvAxesGpu];
    int rest = index;
    for (int a = g.num_axes - 1; a >= 0; --a) {
      coords[a] = rest % g.im_shape[a];
      rest /= g.im_shape[a];
    }
    const int channel = rest;
    Dtype sum = 0;
    for (int offset = 0; offset < kernel_size; ++offset) {
      // The output position that reads this element at kernel offset `offset`, if there is one.
      int k_rest = offset;
      int ks[kMaxConvAxesGpu];
      for (int a = g.num_axes - 1; a >= 0; --a) {
        ks[a] = k_rest % g.kernel[a];
        k_rest /= g.kernel[a];
      }
      int position = 0;
      bool reads = true;
      for (int a = 0; a < g.num_axes && reads; ++a) {
        const int t = coords[a] + g.pad[a] - ks[a] * g.dilation[a];
        if (t < 0 || t % g.stride[a] != 0 || t / g.stride[a] >= g.col_shape[a]) {
          reads = false;
        } else {
          position = position * g.col_shape[a] + t / g.stride[a];
        }
      }
      if (reads) sum += col[(channel * kernel_size + offset) * positions + position];
    }
    im[index] = sum;
  }
}

void Sizes(const ConvGeometryGpu& g, int* kernel_size, int* positions, int* image_size) {
  MOKA_ASSERT(g.num_axes >= 1 && g.num_axes <= kMaxConvAxesGpu);
  *kernel_size = 1;
  *positions = 1;
  *image_size = g.channels;
  for (int a = 0; a < g.num_axes; ++a) {
    *kernel_size *= g.kernel[a];
    *positions *= g.col_shape[a];
    *image_size *= g.im_shape[a];
  }
}

}  // namespace

template <typename Dtype>
void Im2colGpu(const Dtype* im, const ConvGeometryGpu& geometry, Dtype* col) {
  int kernel_size, positions, image_size;
  Sizes(geometry, &kernel_size, &positions, &image_size);
  const long long total = static_cast<long long>(geometry.channels) * kernel_size * positions;
  MOKA_ASSERT(total <= 0x7fffffffLL);
  const int n = static_cast<int>(total);
  if (n == 0) return;
  Im2colKernel<Dtype><<<CudaBlocks(n), kCudaThreads>>>(n, geometry, kernel_size, positions, im, col);
  MOKA_CUDA_LAUNCH_CHECK();
}

template <typename Dtype>
void Col2imGpu(const Dtype* col, const ConvGeometryGpu& geometry, Dtype* im) {
  int kernel_size, positions, image_size;
  Sizes(geometry, &kernel_size, &positions, &image_size);
  if (image_size == 0) return;
  Col2imKernel<Dtype><<<CudaBlocks(image_size), kCudaThreads>>>(image_size, geometry, kernel_size,
                                                                positions, col, im);
  MOKA_CUDA_LAUNCH_CHECK();
}

template void Im2colGpu<float>(const float*, const ConvGeometryGpu&, float*);
template void Im2colGpu<double>(const double*, const ConvGeometryGpu&, double*);
template void Col2imGpu<float>(const float*, const ConvGeometryGpu&, float*);
template void Col2imGpu<double>(const double*, const ConvGeometryGpu&, double*);

}  // namespace moka
