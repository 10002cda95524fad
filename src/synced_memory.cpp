#include "synced_memory.hpp"

#include <cstdlib>
#include <cstring>

#ifdef MOKA_CUDA
#include "cuda_check.hpp"
#endif

namespace moka {
namespace {

std::atomic<size_t> g_host_to_device{0};
std::atomic<size_t> g_device_to_host{0};
std::atomic<size_t> g_bytes_moved{0};

// 64-byte alignment suits AVX-512 loads and cache lines.
void* AllocateHost(size_t size) {
  void* ptr = nullptr;
  if (posix_memalign(&ptr, 64, size == 0 ? 64 : size) != 0 || ptr == nullptr) {
    MOKA_THROW(InternalError, "out of host memory allocating " << size << " bytes");
  }
  return ptr;
}

#ifndef MOKA_CUDA
[[noreturn]] void NoCuda() {
  MOKA_THROW(DeviceError, "device memory requested, but this moka was built without CUDA support");
}
#endif

}  // namespace

SyncedMemory::SyncedMemory(size_t size) : size_(size) {}

SyncedMemory::~SyncedMemory() {
  std::free(cpu_ptr_);
#ifdef MOKA_CUDA
  if (gpu_ptr_ != nullptr) FreeDeviceMemory(gpu_ptr_);
#endif
}

void SyncedMemory::ToCpu() {
  switch (head_) {
    case Head::kUninitialized:
      cpu_ptr_ = AllocateHost(size_);
      std::memset(cpu_ptr_, 0, size_);
      head_ = Head::kAtCpu;
      break;
    case Head::kAtGpu:
#ifdef MOKA_CUDA
      if (cpu_ptr_ == nullptr) cpu_ptr_ = AllocateHost(size_);
      CopyDeviceToHost(cpu_ptr_, gpu_ptr_, size_);
      ++g_device_to_host;
      g_bytes_moved += size_;
      head_ = Head::kSynced;
#else
      NoCuda();
#endif
      break;
    case Head::kAtCpu:
    case Head::kSynced:
      break;
  }
}

void SyncedMemory::ToGpu() {
#ifdef MOKA_CUDA
  switch (head_) {
    case Head::kUninitialized:
      gpu_ptr_ = AllocateDeviceMemory(size_);
      ZeroDeviceMemory(gpu_ptr_, size_);
      head_ = Head::kAtGpu;
      break;
    case Head::kAtCpu:
      if (gpu_ptr_ == nullptr) gpu_ptr_ = AllocateDeviceMemory(size_);
      CopyHostToDevice(gpu_ptr_, cpu_ptr_, size_);
      ++g_host_to_device;
      g_bytes_moved += size_;
      head_ = Head::kSynced;
      break;
    case Head::kAtGpu:
    case Head::kSynced:
      break;
  }
#else
  NoCuda();
#endif
}

const void* SyncedMemory::cpu_data() {
  ToCpu();
  return cpu_ptr_;
}

void* SyncedMemory::mutable_cpu_data() {
  ToCpu();
  head_ = Head::kAtCpu;
  return cpu_ptr_;
}

const void* SyncedMemory::gpu_data() {
  ToGpu();
  return gpu_ptr_;
}

void* SyncedMemory::mutable_gpu_data() {
  ToGpu();
  head_ = Head::kAtGpu;
  return gpu_ptr_;
}

SyncedMemory::TransferCounts SyncedMemory::transfers() {
  TransferCounts counts;
  counts.host_to_device = g_host_to_device;
  counts.device_to_host = g_device_to_host;
  counts.bytes = g_bytes_moved;
  return counts;
}

void SyncedMemory::ResetTransferCounts() {
  g_host_to_device = 0;
  g_device_to_host = 0;
  g_bytes_moved = 0;
}

}  // namespace moka
