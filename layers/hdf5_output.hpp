#pragma once
// HDF5Output layer: writes its two bottoms to the HDF5 file `file_name` (created, replacing any
// file there, at LayerSetUp) as the datasets
//   "data"  = bottom[0]   and   "label" = bottom[1],
// each N x C x H x W with Caffe's legacy 4-axis view of the bottom (missing axes are 1), in the
// element type of the net. As in Caffe, a file takes one batch: a second Forward would rewrite
// the datasets, which Caffe aborts on, so it raises IoError. No tops, no backward.
#include <string>
#include <vector>

#include "hdf5_io.hpp"
#include "layer.hpp"

namespace moka {

template <typename Dtype>
class HDF5OutputLayer : public Layer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;

  explicit HDF5OutputLayer(const LayerParameter& param) : Layer<Dtype>(param) {}

  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void Reshape(const BlobVec& bottom, const BlobVec& top) override {}

  const char* type() const override { return "HDF5Output"; }
  int ExactNumBottomBlobs() const override { return 2; }
  int ExactNumTopBlobs() const override { return 0; }
  bool AllowForceBackward(int bottom_index) const override { return false; }

  const std::string& file_name() const { return file_name_; }

 protected:
  void Forward_cpu(const BlobVec& bottom, const BlobVec& top) override;
  void Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                    const BlobVec& bottom) override {}
#ifdef MOKA_CUDA
  /// Writing a file is host work: the bottoms come to the host.
  void Forward_gpu(const BlobVec& bottom, const BlobVec& top) override;
  void Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                    const BlobVec& bottom) override {}
#endif

 private:
  void SaveBlobs(const BlobVec& bottom);

  std::string file_name_;
  Hdf5Handle file_;
  Blob<Dtype> data_;
  Blob<Dtype> label_;
};

}  // namespace moka
