#pragma once
// HDF5Data layer: `source` is a text file listing .h5 files (whitespace-separated). Each file holds
// one dataset per top, named like the top, all with the same number of rows (axis 0). Forward
// copies batch_size rows into the tops,
//   top[j] = dataset_j[rows]    (batch_size x the dataset's other axes)
// walking the rows of the current file in order (in a fresh random order per pass with
// `shuffle`), then the next file (files in a fresh random order per pass with `shuffle`),
// wrapping around at the end. Only one file is in memory at a time.
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "layer.hpp"

namespace moka {

template <typename Dtype>
class HDF5DataLayer : public Layer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;

  explicit HDF5DataLayer(const LayerParameter& param) : Layer<Dtype>(param) {}

  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  /// The tops keep the shapes LayerSetUp gave them.
  void Reshape(const BlobVec& bottom, const BlobVec& top) override {}

  const char* type() const override { return "HDF5Data"; }
  int ExactNumBottomBlobs() const override { return 0; }
  int MinTopBlobs() const override { return 1; }

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
  void LoadFile(const std::string& path);
  /// Copies the next batch_size rows into `out` (one blob per top, shaped like the tops).
  void FillBatch(const std::vector<Blob<Dtype>*>& out);
  void NextRow();
  void ShuffleIndices(std::vector<int>* indices);

  std::vector<std::string> files_;
  std::vector<int> file_order_;
  int current_file_ = 0;
  std::vector<std::unique_ptr<Blob<Dtype>>>
      file_blobs_;  // the current file's datasets, one per top
  std::vector<int> row_order_;
  int current_row_ = 0;
  std::vector<std::vector<int>> row_shapes_;  // per top, the shape of one row (axes after 0)
  std::mt19937_64 rng_;
#ifdef MOKA_CUDA
  // The batch on its way to the device (one counted host-to-device copy per top).
  std::vector<std::unique_ptr<Blob<Dtype>>> staged_;
#endif
};

}  // namespace moka
