#include "layers/hdf5_output.hpp"

#include "layer_registry.hpp"
#include "math_functions.hpp"

namespace moka {

namespace {

/// Caffe's legacy N x C x H x W view of a blob of at most 4 axes.
template <typename Dtype>
std::vector<int> LegacyShape4(const Blob<Dtype>& blob, const char* what) {
  MOKA_CHECK(blob.num_axes() <= 4, ShapeError,
             "HDF5Output writes 4-axis datasets; its " << what << " bottom has shape "
                                                       << blob.shape_string());
  return {blob.num(), blob.channels(), blob.height(), blob.width()};
}

}  // namespace

template <typename Dtype>
void HDF5OutputLayer<Dtype>::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  const HDF5OutputParameter& param = this->layer_param_.hdf5_output_param();
  MOKA_CHECK(param.has_file_name() && !param.file_name().empty(), ConfigError,
             "hdf5_output_param needs a file_name");
  file_name_ = param.file_name();
  file_.Close();
  file_ = Hdf5CreateFile(file_name_);
}

template <typename Dtype>
void HDF5OutputLayer<Dtype>::SaveBlobs(const BlobVec& bottom) {
  MOKA_CHECK(bottom[0]->shape(0) == bottom[1]->shape(0), ShapeError,
             "HDF5Output: data has " << bottom[0]->shape(0) << " rows ("
                                     << bottom[0]->shape_string() << ") but label has "
                                     << bottom[1]->shape(0) << " (" << bottom[1]->shape_string()
                                     << ")");
  MOKA_CHECK(!Hdf5HasLink(file_, "data") && !Hdf5HasLink(file_, "label"), IoError,
             "HDF5Output: HDF5 file '" << file_name_
                                       << "' already holds a batch; as in Caffe, each file takes "
                                          "the datasets 'data' and 'label' of one Forward only");
  data_.Reshape(LegacyShape4(*bottom[0], "data"));
  label_.Reshape(LegacyShape4(*bottom[1], "label"));
  cpu_copy(data_.count(), bottom[0]->cpu_data(), data_.mutable_cpu_data());
  cpu_copy(label_.count(), bottom[1]->cpu_data(), label_.mutable_cpu_data());
  Hdf5WriteBlob(file_, "data", data_);
  Hdf5WriteBlob(file_, "label", label_);
  // On disk now, should the process end without closing the file.
  H5Fflush(file_.id(), H5F_SCOPE_GLOBAL);
}

template <typename Dtype>
void HDF5OutputLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  SaveBlobs(bottom);
}

#ifdef MOKA_CUDA
template <typename Dtype>
void HDF5OutputLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  SaveBlobs(bottom);
}
#endif

MOKA_INSTANTIATE_CLASS(HDF5OutputLayer);
MOKA_REGISTER_LAYER(HDF5Output);

}  // namespace moka
