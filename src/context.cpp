#include "context.hpp"

#include <chrono>

namespace moka {

class GpuResources {};

Context::Context(Device device, int device_id, uint64_t seed)
    : device_(device), device_id_(device_id), rng_(seed) {
  MOKA_CHECK(device == Device::kCpu, DeviceError,
             "GPU mode requested, but this moka was built without CUDA support");
}

Context::~Context() = default;

GpuResources& Context::gpu() {
  MOKA_THROW(DeviceError, "GPU mode requested, but this moka was built without CUDA support");
}

uint64_t Context::ClockSeed() {
  return static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) *
         0x9E3779B97F4A7C15ull;
}

}  // namespace moka
