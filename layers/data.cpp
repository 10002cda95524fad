#include "layers/data.hpp"

#include "layer_registry.hpp"

namespace moka {

template <typename Dtype>
DataLayer<Dtype>::~DataLayer() {
  this->prefetcher_.Stop();
}

template <typename Dtype>
void DataLayer<Dtype>::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  this->prefetcher_.Stop();
  const DataParameter& param = this->layer_param_.data_param();
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
  db_ = db::OpenReader(
      param.backend() == DataParameter::LMDB ? db::Backend::kLmdb : db::Backend::kLevelDb,
      param.source());
  cursor_ = db_->NewCursor();
  MOKA_CHECK(cursor_->valid(), IoError,
             db::BackendName(db_->backend()) << " database '" << param.source() << "' is empty");
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
    error.AddContext(RecordName());
    throw;
  }
  shape[0] = batch_size_;
  top[0]->Reshape(shape);
  if (output_labels_) top[1]->Reshape(std::vector<int>{batch_size_});
  this->prefetcher_.Start(param.prefetch(), shape, {batch_size_},
                    [this](DataBatch<Dtype>* batch) { LoadBatch(batch); });
}

template <typename Dtype>
std::string DataLayer<Dtype>::RecordName() const {
  return "record '" + cursor_->key() + "' of " + db::BackendName(db_->backend()) + " database '" +
         db_->path() + "'";
}

template <typename Dtype>
void DataLayer<Dtype>::ReadDatum() {
  MOKA_CHECK(datum_.ParseFromString(cursor_->value()), IoError,
             RecordName() << " is not a serialized Datum");
}

template <typename Dtype>
void DataLayer<Dtype>::LoadBatch(DataBatch<Dtype>* batch) {
  std::vector<int> item_shape;
  for (int item = 0; item < batch_size_ && !this->prefetcher_.stopping(); ++item) {
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
      error.AddContext(RecordName());
      throw;
    }
    if (output_labels_) batch->label.mutable_cpu_data()[item] = static_cast<Dtype>(datum_.label());
    cursor_->Next();
  }
}

MOKA_INSTANTIATE_CLASS(DataLayer);
MOKA_REGISTER_LAYER(Data);

}  // namespace moka
