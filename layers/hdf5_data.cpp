#include "layers/hdf5_data.hpp"

#include <climits>
#include <fstream>

#include "hdf5_io.hpp"
#include "layer_registry.hpp"
#include "layers/batch_prefetcher.hpp"
#include "math_functions.hpp"

namespace moka {

template <typename Dtype>
void HDF5DataLayer<Dtype>::ShuffleIndices(std::vector<int>* indices) {
  for (size_t i = indices->size(); i > 1; --i) {
    std::swap((*indices)[i - 1], (*indices)[rng_() % i]);
  }
}

template <typename Dtype>
void HDF5DataLayer<Dtype>::LoadFile(const std::string& path) {
  const int num_tops = this->layer_param_.top_size();
  const Hdf5Handle file = Hdf5OpenFile(path);
  std::vector<std::unique_ptr<Blob<Dtype>>> blobs;
  for (int j = 0; j < num_tops; ++j) {
    blobs.push_back(std::make_unique<Blob<Dtype>>());
    Hdf5ReadBlob(file, this->layer_param_.top(j), blobs.back().get(), true, 1, INT_MAX);
  }
  const int rows = blobs[0]->shape(0);
  MOKA_CHECK(
      rows > 0, IoError,
      "HDF5 file '" << path << "', dataset '" << this->layer_param_.top(0) << "' has no rows");
  for (int j = 0; j < num_tops; ++j) {
    const std::vector<int>& shape = blobs[j]->shape();
    MOKA_CHECK(shape[0] == rows, ShapeError,
               "HDF5 file '" << path << "': dataset '" << this->layer_param_.top(j) << "' has "
                             << shape[0] << " rows, but dataset '" << this->layer_param_.top(0)
                             << "' has " << rows);
    const std::vector<int> row_shape(shape.begin() + 1, shape.end());
    if (j < static_cast<int>(row_shapes_.size())) {
      MOKA_CHECK(row_shape == row_shapes_[j], ShapeError,
                 "HDF5 file '" << path << "': dataset '" << this->layer_param_.top(j)
                               << "' has shape " << ShapeString(shape)
                               << ", but the first file's rows have shape "
                               << ShapeString(row_shapes_[j]));
    } else {
      row_shapes_.push_back(row_shape);
    }
  }
  file_blobs_ = std::move(blobs);
  row_order_.resize(rows);
  for (int i = 0; i < rows; ++i) row_order_[i] = i;
  if (this->layer_param_.hdf5_data_param().shuffle()) ShuffleIndices(&row_order_);
}

template <typename Dtype>
void HDF5DataLayer<Dtype>::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  const HDF5DataParameter& param = this->layer_param_.hdf5_data_param();
  MOKA_CHECK(param.has_source() && !param.source().empty(), ConfigError,
             "hdf5_data_param needs a source");
  MOKA_CHECK(param.batch_size() > 0, ConfigError,
             "hdf5_data_param.batch_size must be positive, got " << param.batch_size());
  MOKA_CHECK(this->layer_param_.top_size() == static_cast<int>(top.size()), ConfigError,
             "HDF5Data names its datasets after its tops; give every top a name");
  std::ifstream list(param.source());
  MOKA_CHECK(list.good(), IoError, "cannot open HDF5 file list '" << param.source() << "'");
  files_.clear();
  for (std::string name; list >> name;) files_.push_back(name);
  MOKA_CHECK(!files_.empty(), IoError, "HDF5 file list '" << param.source() << "' lists no files");

  rng_.seed(this->context().NextSeed());
  file_order_.resize(files_.size());
  for (size_t i = 0; i < files_.size(); ++i) file_order_[i] = static_cast<int>(i);
  if (param.shuffle()) ShuffleIndices(&file_order_);
  current_file_ = 0;
  current_row_ = 0;
  row_shapes_.clear();
  LoadFile(files_[file_order_[current_file_]]);

  const int batch_size = static_cast<int>(param.batch_size());
#ifdef MOKA_CUDA
  staged_.clear();
#endif
  for (size_t j = 0; j < top.size(); ++j) {
    std::vector<int> shape = file_blobs_[j]->shape();
    shape[0] = batch_size;
    top[j]->Reshape(shape);
#ifdef MOKA_CUDA
    staged_.push_back(std::make_unique<Blob<Dtype>>(shape));
#endif
  }
}

template <typename Dtype>
void HDF5DataLayer<Dtype>::NextRow() {
  if (++current_row_ < file_blobs_[0]->shape(0)) return;
  const bool shuffle = this->layer_param_.hdf5_data_param().shuffle();
  if (files_.size() > 1) {
    if (++current_file_ == static_cast<int>(files_.size())) {
      current_file_ = 0;
      if (shuffle) ShuffleIndices(&file_order_);
    }
    LoadFile(files_[file_order_[current_file_]]);
  }
  current_row_ = 0;
  if (shuffle) ShuffleIndices(&row_order_);
}

template <typename Dtype>
void HDF5DataLayer<Dtype>::FillBatch(const std::vector<Blob<Dtype>*>& out) {
  const int batch_size = static_cast<int>(this->layer_param_.hdf5_data_param().batch_size());
  for (int i = 0; i < batch_size; ++i) {
    for (size_t j = 0; j < out.size(); ++j) {
      const int row_size = file_blobs_[j]->count(1);
      cpu_copy(
          row_size,
          file_blobs_[j]->cpu_data() + static_cast<size_t>(row_order_[current_row_]) * row_size,
          out[j]->mutable_cpu_data() + static_cast<size_t>(i) * row_size);
    }
    NextRow();
  }
}

template <typename Dtype>
void HDF5DataLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  FillBatch(top);
}

#ifdef MOKA_CUDA
template <typename Dtype>
void HDF5DataLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  std::vector<Blob<Dtype>*> staged;
  for (auto& blob : staged_) staged.push_back(blob.get());
  FillBatch(staged);
  for (size_t j = 0; j < top.size(); ++j) DeliverBlob(*staged_[j], top[j], true);
}
#endif

MOKA_INSTANTIATE_CLASS(HDF5DataLayer);
MOKA_REGISTER_LAYER(HDF5Data);

}  // namespace moka
