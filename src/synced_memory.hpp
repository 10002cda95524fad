#pragma once
// A byte buffer that lives on the host, the device, or both, synchronised lazily: reading on one
// side copies only when the other side holds the newer version. Every copy is counted, so tests can
// show that a GPU iteration moves nothing it should not.
#include <atomic>
#include <cstddef>

#include "common.hpp"

namespace moka {

class SyncedMemory {
 public:
  enum class Head { kUninitialized, kAtCpu, kAtGpu, kSynced };

  explicit SyncedMemory(size_t size = 0);
  ~SyncedMemory();
  MOKA_DISABLE_COPY(SyncedMemory);

  const void* cpu_data();
  void* mutable_cpu_data();
  const void* gpu_data();
  void* mutable_gpu_data();

  Head head() const { return head_; }
  size_t size() const { return size_; }

  /// Process-wide transfer counters (host-to-device and device-to-host copies).
  struct TransferCounts {
    size_t host_to_device = 0;
    size_t device_to_host = 0;
    size_t bytes = 0;
  };
  static TransferCounts transfers();
  static void ResetTransferCounts();

 private:
  void ToCpu();
  void ToGpu();

  void* cpu_ptr_ = nullptr;
  void* gpu_ptr_ = nullptr;
  size_t size_;
  Head head_ = Head::kUninitialized;
};

}  // namespace moka
