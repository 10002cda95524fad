#pragma once
// Where and how a net runs: the device, and the random stream its layers draw from. A Net holds
// one; every layer sees it. There is no process-global mode.
#include <cstdint>
#include <memory>
#include <random>

#include "common.hpp"

namespace moka {

enum class Device { kCpu, kGpu };

class GpuResources;  // cuBLAS/cuDNN handles, stream and workspace; defined by the CUDA backend.

class Context {
 public:
  explicit Context(Device device = Device::kCpu, int device_id = 0, uint64_t seed = 0);
  ~Context();

  Device device() const { return device_; }
  bool on_gpu() const { return device_ == Device::kGpu; }
  int device_id() const { return device_id_; }

  /// The random stream for fillers, dropout masks and data shuffling.
  std::mt19937_64& rng() { return rng_; }
  void Seed(uint64_t seed) { rng_.seed(seed); }
  /// A fresh seed drawn from this context's stream (for per-thread generators).
  uint64_t NextSeed() { return rng_(); }

  /// GPU handles; throws DeviceError when the context is CPU-only or built without CUDA.
  GpuResources& gpu();

  /// Seed used when a solver's random_seed is negative (Caffe draws one from the clock).
  static uint64_t ClockSeed();

 private:
  Device device_;
  int device_id_;
  std::mt19937_64 rng_;
  std::unique_ptr<GpuResources> gpu_;
};

}  // namespace moka
