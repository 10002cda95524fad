#pragma once
// Data layer: reads Datum records from a LevelDB or LMDB database (data_param.backend, LEVELDB
// when unset, as in Caffe) in key order (after an optional random skip of up to rand_skip
// records), wrapping around at the end, and produces
//   top[0] = transform(datum) for batch_size records   (batch_size x C x H' x W')
//   top[1] = datum.label                                 (batch_size), when a second top is given
// A background thread keeps up to `prefetch` batches ready. Transform randomness (crop offsets,
// mirror flips) comes from a stream seeded by the context at LayerSetUp, so a solver's
// random_seed makes runs repeatable.
#include <memory>
#include <random>
#include <vector>

#include "data_transformer.hpp"
#include "db.hpp"
#include "layer.hpp"
#include "layers/prefetching_data.hpp"

namespace moka {

template <typename Dtype>
class DataLayer : public PrefetchingDataLayer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;

  explicit DataLayer(const LayerParameter& param) : PrefetchingDataLayer<Dtype>(param) {}
  ~DataLayer() override;

  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;

  const char* type() const override { return "Data"; }
  int MinTopBlobs() const override { return 1; }
  int MaxTopBlobs() const override { return 2; }

 private:
  void LoadBatch(DataBatch<Dtype>* batch);
  /// The cursor's record, parsed into datum_.
  void ReadDatum();
  /// "record 'KEY' of LevelDB database 'PATH'" (or LMDB), for messages.
  std::string RecordName() const;

  int batch_size_ = 0;
  bool output_labels_ = false;
  std::unique_ptr<DataTransformer<Dtype>> transformer_;
  std::unique_ptr<db::Reader> db_;
  std::unique_ptr<db::Cursor> cursor_;  // used only by the prefetch thread once it runs
  std::mt19937_64 rng_;                 // likewise
  Datum datum_;                         // likewise
};

}  // namespace moka
