#include "layers/batch_prefetcher.hpp"

#include "math_functions.hpp"
#ifdef MOKA_CUDA
#include "math_functions_gpu.hpp"
#endif

namespace moka {

void RethrowErrorCopy(const std::exception_ptr& error) {
  // Forward adds the layer name to what it throws; the stored original must stay clean for the
  // next Forward that reports it.
  try {
    std::rethrow_exception(error);
  } catch (const ParseError& e) {
    throw ParseError(e);
  } catch (const ConfigError& e) {
    throw ConfigError(e);
  } catch (const ShapeError& e) {
    throw ShapeError(e);
  } catch (const IoError& e) {
    throw IoError(e);
  } catch (const NumericError& e) {
    throw NumericError(e);
  } catch (const DeviceError& e) {
    throw DeviceError(e);
  } catch (const InternalError& e) {
    throw InternalError(e);
  }
}

template <typename Dtype>
void DeliverBlob(const Blob<Dtype>& source, Blob<Dtype>* top, bool to_device) {
  top->ReshapeLike(source);
  if (to_device) {
#ifdef MOKA_CUDA
    gpu_copy(source.count(), source.gpu_data(), top->mutable_gpu_data());
#else
    MOKA_THROW(DeviceError, "this moka was built without CUDA");
#endif
  } else {
    cpu_copy(source.count(), source.cpu_data(), top->mutable_cpu_data());
  }
}

template void DeliverBlob<float>(const Blob<float>&, Blob<float>*, bool);
template void DeliverBlob<double>(const Blob<double>&, Blob<double>*, bool);

template <typename Dtype>
void BatchPrefetcher<Dtype>::Start(size_t depth, const std::vector<int>& data_shape,
                                   const std::vector<int>& label_shape, Loader load) {
  Stop();
  MOKA_ASSERT(depth > 0);
  load_ = std::move(load);
  ring_.clear();
  for (size_t i = 0; i < depth; ++i) {
    ring_.push_back(std::make_unique<DataBatch<Dtype>>());
    ring_.back()->data.Reshape(data_shape);
    ring_.back()->label.Reshape(label_shape);
  }
  head_ = 0;
  filled_ = 0;
  stop_ = false;
  error_ = nullptr;
  thread_ = std::thread([this] { Loop(); });
}

template <typename Dtype>
void BatchPrefetcher<Dtype>::Stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  slot_free_.notify_all();
  thread_.join();
}

template <typename Dtype>
void BatchPrefetcher<Dtype>::Loop() {
  for (;;) {
    size_t slot = 0;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      slot_free_.wait(lock, [this] { return stop_ || filled_ < ring_.size(); });
      if (stop_) return;
      slot = (head_ + filled_) % ring_.size();
    }
    try {
      load_(ring_[slot].get());
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      error_ = std::current_exception();
      batch_ready_.notify_all();
      return;
    }
    if (stop_) return;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++filled_;
    }
    batch_ready_.notify_one();
  }
}

template <typename Dtype>
void BatchPrefetcher<Dtype>::Deliver(Blob<Dtype>* data_top, Blob<Dtype>* label_top,
                                     bool to_device) {
  MOKA_ASSERT(!ring_.empty());
  std::unique_lock<std::mutex> lock(mutex_);
  batch_ready_.wait(lock, [this] { return filled_ > 0 || error_ != nullptr; });
  if (filled_ == 0) RethrowErrorCopy(error_);
  DataBatch<Dtype>* batch = ring_[head_].get();
  lock.unlock();

  DeliverBlob(batch->data, data_top, to_device);
  if (label_top != nullptr) DeliverBlob(batch->label, label_top, to_device);

  lock.lock();
  head_ = (head_ + 1) % ring_.size();
  --filled_;
  lock.unlock();
  slot_free_.notify_one();
}

MOKA_INSTANTIATE_CLASS(BatchPrefetcher);

}  // namespace moka
