#include "layers/data.hpp"

#include "layer_registry.hpp"
#include "math_functions.hpp"
#ifdef MOKA_CUDA
#include "math_functions_gpu.hpp"
#endif

namespace moka {

namespace {

/// Throws a copy of the stored error. Forward adds the layer name to what it throws, and the
/// stored original must stay clean for the next Forward that reports it.
[[noreturn]] void RethrowCopy(const std::exception_ptr& error) {
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

}  // namespace

template <typename Dtype>
DataLayer<Dtype>::~DataLayer() {
  StopPrefetch();
}

template <typename Dtype>
void DataLayer<Dtype>::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  StopPrefetch();
  const DataParameter& param = this->layer_param_.data_param();
  MOKA_CHECK(param.backend() == DataParameter::LMDB, ConfigError,
             "LevelDB backend not built yet; convert with --backend=lmdb (and set backend: LMDB; "
             "Caffe's default backend is LEVELDB)");
  MOKA_CHECK(param.has_source() && !param.source().empty(), ConfigError,
             "data_param needs a source");
  MOKA_CHECK(param.batch_size() > 0, ConfigError,
             "data_param.batch_size must be positive, got " << param.batch_size());
  MOKA_CHECK(param.prefetch() > 0, ConfigError,
             "data_param.prefetch must be positive, got " << param.prefetch());
  batch_size_ = static_cast<int>(param.batch_size());
  output_labels_ = top.size() > 1;

  transformer_ = std::make_unique<DataTransformer<Dtype>>(
      EffectiveTransformParam(this->layer_param_), this->phase());
  rng_.seed(this->context().NextSeed());

  cursor_.reset();
  db_ = std::make_unique<db::LmdbReader>(param.source());
  cursor_ = db_->NewCursor();
  MOKA_CHECK(cursor_->valid(), IoError, "LMDB database '" << param.source() << "' is empty");
  if (param.rand_skip() > 0) {
    const uint64_t skip = rng_() % param.rand_skip();
    for (uint64_t i = 0; i < skip; ++i) cursor_->Next();
  }

  // The first record shapes the tops; each batch is reshaped by its own first record later.
  ReadDatum();
  std::vector<int> shape;
  try {
    shape = transformer_->InferBlobShape(datum_);
  } catch (Error& error) {
    error.AddContext("record '" + cursor_->key() + "' of LMDB database '" + param.source() + "'");
    throw;
  }
  shape[0] = batch_size_;
  top[0]->Reshape(shape);
  if (output_labels_) top[1]->Reshape(std::vector<int>{batch_size_});

  ring_.clear();
  for (uint32_t i = 0; i < param.prefetch(); ++i) {
    ring_.push_back(std::make_unique<Batch>());
    ring_.back()->data.Reshape(shape);
    ring_.back()->label.Reshape(std::vector<int>{batch_size_});
  }
  StartPrefetch();
}

template <typename Dtype>
void DataLayer<Dtype>::StartPrefetch() {
  head_ = 0;
  filled_ = 0;
  stop_ = false;
  error_ = nullptr;
  thread_ = std::thread([this] { PrefetchLoop(); });
}

template <typename Dtype>
void DataLayer<Dtype>::StopPrefetch() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  slot_free_.notify_all();
  thread_.join();
}

template <typename Dtype>
void DataLayer<Dtype>::PrefetchLoop() {
  for (;;) {
    size_t slot = 0;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      slot_free_.wait(lock, [this] { return stop_ || filled_ < ring_.size(); });
      if (stop_) return;
      slot = (head_ + filled_) % ring_.size();
    }
    try {
      LoadBatch(ring_[slot].get());
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
void DataLayer<Dtype>::ReadDatum() {
  MOKA_CHECK(datum_.ParseFromString(cursor_->value()), IoError,
             "record '" << cursor_->key() << "' of LMDB database '" << db_->path()
                        << "' is not a serialized Datum");
}

template <typename Dtype>
void DataLayer<Dtype>::LoadBatch(Batch* batch) {
  std::vector<int> item_shape;
  for (int item = 0; item < batch_size_ && !stop_; ++item) {
    ReadDatum();
    try {
      std::vector<int> shape = transformer_->InferBlobShape(datum_);
      if (item == 0) {
        // As in Caffe, the batch takes the shape of its first record.
        item_shape = shape;
        shape[0] = batch_size_;
        batch->data.Reshape(shape);
      } else {
        MOKA_CHECK(shape == item_shape, ShapeError,
                   "transformed record has shape " << ShapeString(shape)
                                                   << ", but the batch's first record has "
                                                   << ShapeString(item_shape));
      }
      transformer_->Transform(datum_, &rng_,
                              batch->data.mutable_cpu_data() + batch->data.offset(item));
    } catch (Error& error) {
      error.AddContext("record '" + cursor_->key() + "' of LMDB database '" + db_->path() + "'");
      throw;
    }
    if (output_labels_) batch->label.mutable_cpu_data()[item] = static_cast<Dtype>(datum_.label());
    cursor_->Next();
  }
}

template <typename Dtype>
void DataLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  DeliverBatch(top, false);
}

#ifdef MOKA_CUDA
// The batch moves to the device through its own blob (one counted host-to-device copy per top),
// then into the top on the device: the only host-to-device traffic of a training iteration.
template <typename Dtype>
void DataLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  DeliverBatch(top, true);
}
#endif

template <typename Dtype>
void DataLayer<Dtype>::DeliverBatch(const BlobVec& top, bool to_device) {
  MOKA_ASSERT(!ring_.empty());
  std::unique_lock<std::mutex> lock(mutex_);
  batch_ready_.wait(lock, [this] { return filled_ > 0 || error_ != nullptr; });
  // Batches finished before the thread failed are still delivered, in order.
  if (filled_ == 0) RethrowCopy(error_);
  Batch* batch = ring_[head_].get();
  lock.unlock();

  // The prefetch thread never writes the head slot while it counts as filled.
  top[0]->ReshapeLike(batch->data);
  if (output_labels_) top[1]->ReshapeLike(batch->label);
  if (to_device) {
#ifdef MOKA_CUDA
    gpu_copy(batch->data.count(), batch->data.gpu_data(), top[0]->mutable_gpu_data());
    if (output_labels_) {
      gpu_copy(batch->label.count(), batch->label.gpu_data(), top[1]->mutable_gpu_data());
    }
#endif
  } else {
    cpu_copy(batch->data.count(), batch->data.cpu_data(), top[0]->mutable_cpu_data());
    if (output_labels_) {
      cpu_copy(batch->label.count(), batch->label.cpu_data(), top[1]->mutable_cpu_data());
    }
  }

  lock.lock();
  head_ = (head_ + 1) % ring_.size();
  --filled_;
  lock.unlock();
  slot_free_.notify_one();
}

MOKA_INSTANTIATE_CLASS(DataLayer);
MOKA_REGISTER_LAYER(Data);

}  // namespace moka
