#include "layers/memory_data.hpp"

#include "layer_registry.hpp"
#include "layers/batch_prefetcher.hpp"
#include "layers/image_io.hpp"
#include "math_functions.hpp"

namespace moka {

template <typename Dtype>
void MemoryDataLayer<Dtype>::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  const MemoryDataParameter& param = this->layer_param_.memory_data_param();
  batch_size_ = static_cast<int>(param.batch_size());
  channels_ = static_cast<int>(param.channels());
  height_ = static_cast<int>(param.height());
  width_ = static_cast<int>(param.width());
  MOKA_CHECK(batch_size_ > 0 && channels_ > 0 && height_ > 0 && width_ > 0, ConfigError,
             "memory_data_param needs positive batch_size, channels, height and width, got "
                 << batch_size_ << ", " << channels_ << ", " << height_ << ", " << width_);
  size_ = channels_ * height_ * width_;
  top[0]->Reshape({batch_size_, channels_, height_, width_});
  top[1]->Reshape(std::vector<int>{batch_size_});
  added_data_.Reshape({batch_size_, channels_, height_, width_});
  added_label_.Reshape(std::vector<int>{batch_size_});
  transformer_ =
      std::make_unique<DataTransformer<Dtype>>(this->layer_param_.transform_param(), this->phase());
  rng_.seed(this->context().NextSeed());
  data_ = nullptr;
  labels_ = nullptr;
  n_ = 0;
  pos_ = 0;
  has_new_data_ = false;
}

template <typename Dtype>
void MemoryDataLayer<Dtype>::Reset(Dtype* data, Dtype* labels, int n) {
  MOKA_CHECK(data != nullptr && labels != nullptr, ConfigError,
             "MemoryData Reset needs data and label arrays");
  MOKA_CHECK(batch_size_ > 0, ConfigError, "MemoryData Reset before the layer is set up");
  MOKA_CHECK(n > 0 && n % batch_size_ == 0, ConfigError,
             "MemoryData Reset with " << n << " rows; give a positive multiple of the batch size "
                                      << batch_size_);
  data_ = data;
  labels_ = labels;
  n_ = n;
  pos_ = 0;
}

template <typename Dtype>
void MemoryDataLayer<Dtype>::AddTransformed(const std::vector<Datum>& datums) {
  MOKA_CHECK(!has_new_data_, ConfigError,
             "MemoryData: cannot add records before the ones added earlier are all served");
  const int num = static_cast<int>(datums.size());
  MOKA_CHECK(num > 0, ConfigError, "MemoryData: no records to add");
  MOKA_CHECK(
      num % batch_size_ == 0, ConfigError,
      "MemoryData: " << num << " records added; give a multiple of the batch size " << batch_size_);
  const std::vector<int> expected{1, channels_, height_, width_};
  for (int i = 0; i < num; ++i) {
    const std::vector<int> shape = transformer_->InferBlobShape(datums[i]);
    MOKA_CHECK(shape == expected, ShapeError,
               "MemoryData: record " << i << " transforms to " << ShapeString(shape)
                                     << ", but the layer serves " << ShapeString(expected));
  }
  added_data_.Reshape({num, channels_, height_, width_});
  added_label_.Reshape(std::vector<int>{num});
  Dtype* data = added_data_.mutable_cpu_data();
  Dtype* labels = added_label_.mutable_cpu_data();
  for (int i = 0; i < num; ++i) {
    transformer_->Transform(datums[i], &rng_, data + static_cast<size_t>(i) * size_);
    labels[i] = static_cast<Dtype>(datums[i].label());
  }
  Reset(data, labels, num);
  has_new_data_ = true;
}

template <typename Dtype>
void MemoryDataLayer<Dtype>::AddDatumVector(const std::vector<Datum>& datums) {
  AddTransformed(datums);
}

template <typename Dtype>
void MemoryDataLayer<Dtype>::AddMatVector(const std::vector<cv::Mat>& images,
                                          const std::vector<int>& labels) {
  MOKA_CHECK(images.size() == labels.size(), ConfigError,
             "MemoryData: " << images.size() << " images but " << labels.size() << " labels");
  std::vector<Datum> datums(images.size());
  for (size_t i = 0; i < images.size(); ++i) MatToDatum(images[i], labels[i], &datums[i]);
  AddTransformed(datums);
}

template <typename Dtype>
void MemoryDataLayer<Dtype>::set_batch_size(int batch_size) {
  MOKA_CHECK(!has_new_data_, ConfigError,
             "MemoryData: cannot change the batch size before the added records are all served");
  MOKA_CHECK(batch_size > 0, ConfigError,
             "MemoryData: batch size must be positive, got " << batch_size);
  batch_size_ = batch_size;
  added_data_.Reshape({batch_size_, channels_, height_, width_});
  added_label_.Reshape(std::vector<int>{batch_size_});
}

template <typename Dtype>
void MemoryDataLayer<Dtype>::CopyBatch(Blob<Dtype>* data, Blob<Dtype>* labels) {
  MOKA_CHECK(data_ != nullptr, ConfigError,
             "MemoryData has no data: call Reset, AddDatumVector or AddMatVector first");
  MOKA_CHECK(
      n_ % batch_size_ == 0, ConfigError,
      "MemoryData holds " << n_ << " rows, not a multiple of the batch size " << batch_size_);
  data->Reshape({batch_size_, channels_, height_, width_});
  labels->Reshape({batch_size_, 1, 1, 1});
  cpu_copy(batch_size_ * size_, data_ + static_cast<size_t>(pos_) * size_,
           data->mutable_cpu_data());
  cpu_copy(batch_size_, labels_ + pos_, labels->mutable_cpu_data());
}

template <typename Dtype>
void MemoryDataLayer<Dtype>::Advance() {
  pos_ = (pos_ + batch_size_) % n_;
  if (pos_ == 0) has_new_data_ = false;
}

template <typename Dtype>
void MemoryDataLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  CopyBatch(top[0], top[1]);
  Advance();
}

#ifdef MOKA_CUDA
template <typename Dtype>
void MemoryDataLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  CopyBatch(&staged_data_, &staged_label_);
  DeliverBlob(staged_data_, top[0], true);
  DeliverBlob(staged_label_, top[1], true);
  Advance();
}
#endif

MOKA_INSTANTIATE_CLASS(MemoryDataLayer);
MOKA_REGISTER_LAYER(MemoryData);

}  // namespace moka
