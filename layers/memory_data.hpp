#pragma once
// MemoryData layer: serves batches from arrays the program hands it (Caffe's C++ / pycaffe feed):
//   top[0] = data rows [pos, pos + batch_size)    (batch_size x channels x height x width)
//   top[1] = labels [pos, pos + batch_size)       (batch_size x 1 x 1 x 1, as Caffe reshapes it)
// pos advances by batch_size per Forward and wraps at n. Reset() points the layer at caller-owned
// arrays of n rows (no transformation, as in Caffe); AddDatumVector / AddMatVector transform the
// records with transform_param into the layer's own storage first.
#include <opencv2/core.hpp>

#include <memory>
#include <random>
#include <vector>

#include "data_transformer.hpp"
#include "layer.hpp"

namespace moka {

template <typename Dtype>
class MemoryDataLayer : public Layer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;

  explicit MemoryDataLayer(const LayerParameter& param) : Layer<Dtype>(param) {}

  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  /// Tops take their shape in Forward.
  void Reshape(const BlobVec& bottom, const BlobVec& top) override {}

  const char* type() const override { return "MemoryData"; }
  int ExactNumBottomBlobs() const override { return 0; }
  int ExactNumTopBlobs() const override { return 2; }

  /// Serves `n` rows (a multiple of batch_size) of channels*height*width values from `data`, and
  /// n labels. The arrays stay the caller's and must outlive their use.
  void Reset(Dtype* data, Dtype* labels, int n);
  /// Transforms the records (a multiple of batch_size, each transforming to channels x height x
  /// width) into the layer's storage and serves them with their labels.
  void AddDatumVector(const std::vector<Datum>& datums);
  /// As AddDatumVector, for 8-bit images with separate labels.
  void AddMatVector(const std::vector<cv::Mat>& images, const std::vector<int>& labels);
  /// Changes the batch size; not while added records are still being served.
  void set_batch_size(int batch_size);

  int batch_size() const { return batch_size_; }
  int channels() const { return channels_; }
  int height() const { return height_; }
  int width() const { return width_; }

 protected:
  void Forward_cpu(const BlobVec& bottom, const BlobVec& top) override;
  void Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                    const BlobVec& bottom) override {}
#ifdef MOKA_CUDA
  void Forward_gpu(const BlobVec& bottom, const BlobVec& top) override;
  void Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                    const BlobVec& bottom) override {}
#endif

 private:
  /// Shapes the tops and copies the current batch into them (on the host).
  void CopyBatch(Blob<Dtype>* data, Blob<Dtype>* labels);
  void Advance();
  void AddTransformed(const std::vector<Datum>& datums);

  int batch_size_ = 0, channels_ = 0, height_ = 0, width_ = 0, size_ = 0;
  Dtype* data_ = nullptr;
  Dtype* labels_ = nullptr;
  int n_ = 0;
  int pos_ = 0;
  bool has_new_data_ = false;  // added records not yet served in full
  Blob<Dtype> added_data_;
  Blob<Dtype> added_label_;
  std::unique_ptr<DataTransformer<Dtype>> transformer_;
  std::mt19937_64 rng_;
#ifdef MOKA_CUDA
  // The batch on its way to the device (one counted host-to-device copy per top).
  Blob<Dtype> staged_data_;
  Blob<Dtype> staged_label_;
#endif
};

}  // namespace moka
