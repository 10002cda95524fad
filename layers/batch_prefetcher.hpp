#pragma once
// The background loading that Caffe's prefetching data layers share: a thread fills a ring of
// batches (data and label blobs) while Forward hands the oldest ready one to the tops. A failure
// in the thread ends it; Forward still delivers the batches finished before it, then rethrows the
// error (a copy each time, so that every later Forward reports it the same way).
#include <atomic>
#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "blob.hpp"

namespace moka {

template <typename Dtype>
struct DataBatch {
  Blob<Dtype> data;
  Blob<Dtype> label;
};

/// Copies `source` into `top` (reshaped like it), on the host or, with to_device, through the
/// source's own device copy (one counted host-to-device transfer) into the top's device memory.
template <typename Dtype>
void DeliverBlob(const Blob<Dtype>& source, Blob<Dtype>* top, bool to_device);

/// Throws a copy of the moka error held in `error` (anything else is rethrown as it is).
[[noreturn]] void RethrowErrorCopy(const std::exception_ptr& error);

template <typename Dtype>
class BatchPrefetcher {
 public:
  /// Fills one batch. It should return early once stopping() turns true.
  using Loader = std::function<void(DataBatch<Dtype>*)>;

  BatchPrefetcher() = default;
  ~BatchPrefetcher() { Stop(); }
  MOKA_DISABLE_COPY(BatchPrefetcher);

  /// Stops any running thread, makes `depth` batches shaped data_shape / label_shape, and starts
  /// a thread that fills them with `load`.
  void Start(size_t depth, const std::vector<int>& data_shape, const std::vector<int>& label_shape,
             Loader load);
  /// Joins the thread; ready batches are dropped.
  void Stop();
  bool stopping() const { return stop_; }

  /// Waits for the next batch and copies it to data_top (and label_top unless it is null).
  void Deliver(Blob<Dtype>* data_top, Blob<Dtype>* label_top, bool to_device);

 private:
  void Loop();

  Loader load_;
  // Slots [head_, head_ + filled_) are ready; the next one is being filled by the thread, which
  // never writes a slot while it counts as filled.
  std::vector<std::unique_ptr<DataBatch<Dtype>>> ring_;
  size_t head_ = 0;
  size_t filled_ = 0;
  std::atomic<bool> stop_{false};
  std::exception_ptr error_;
  std::mutex mutex_;
  std::condition_variable batch_ready_;
  std::condition_variable slot_free_;
  std::thread thread_;
};

}  // namespace moka
