// moka device_query: the properties of the GPUs --gpu names.
#include <glog/logging.h>

#include <vector>

#ifdef MOKA_CUDA
#include <cuda_runtime_api.h>
#endif

#include "error.hpp"
#include "tools/cli.hpp"
#include "tools/verbs.hpp"

namespace moka {

#ifdef MOKA_CUDA
namespace {

void LogDeviceProperties(int device) {
  cudaDeviceProp prop;
  const cudaError_t status = cudaGetDeviceProperties(&prop, device);
  MOKA_CHECK(status == cudaSuccess, DeviceError,
             "cannot query GPU " << device << ": " << cudaGetErrorString(status));
  LOG(INFO) << "Device id:                     " << device;
  LOG(INFO) << "Name:                          " << prop.name;
  LOG(INFO) << "Major revision number:         " << prop.major;
  LOG(INFO) << "Minor revision number:         " << prop.minor;
  LOG(INFO) << "Compute capability:            " << prop.major << "." << prop.minor;
  LOG(INFO) << "Total global memory:           " << prop.totalGlobalMem;
  LOG(INFO) << "Total shared memory per block: " << prop.sharedMemPerBlock;
  LOG(INFO) << "Total registers per block:     " << prop.regsPerBlock;
  LOG(INFO) << "Warp size:                     " << prop.warpSize;
  LOG(INFO) << "Maximum threads per block:     " << prop.maxThreadsPerBlock;
  LOG(INFO) << "Number of multiprocessors:     " << prop.multiProcessorCount;
}

}  // namespace

int DeviceQueryMain() {
  MOKA_CHECK(!FLAGS_gpu.empty(), ConfigError, "give the GPU to query: --gpu=N (or --gpu=all)");
  LOG(INFO) << "Querying GPUs " << FLAGS_gpu;
  for (int device : GpusFromFlags()) LogDeviceProperties(device);
  return 0;
}

#else

int DeviceQueryMain() {
  MOKA_THROW(DeviceError, "no usable GPU: this moka was built without CUDA support");
}

#endif

}  // namespace moka
