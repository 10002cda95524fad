#include "layers/crop.hpp"

#include "layer_registry.hpp"
#include "math_functions.hpp"

namespace moka {

template <typename Dtype>
void CropLayer<Dtype>::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  const CropParameter& param = this->layer_param_.crop_param();
  MOKA_CHECK(bottom[0]->num_axes() == bottom[1]->num_axes(), ShapeError,
             "both bottoms must have the same number of axes, got shapes "
                 << bottom[0]->shape_string() << " and " << bottom[1]->shape_string());
  const int num_axes = bottom[0]->num_axes();
  const int start = bottom[0]->CanonicalAxisIndex(param.axis());
  if (param.offset_size() > 1) {
    MOKA_CHECK(start + param.offset_size() == num_axes, ConfigError,
               param.offset_size() << " offsets given, but axes " << start << " to " << num_axes - 1
                                   << " are cropped (" << num_axes - start << " axes)");
  }
}

template <typename Dtype>
void CropLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  const CropParameter& param = this->layer_param_.crop_param();
  const int num_axes = bottom[0]->num_axes();
  MOKA_CHECK(bottom[1]->num_axes() == num_axes, ShapeError,
             "both bottoms must have the same number of axes, got shapes "
                 << bottom[0]->shape_string() << " and " << bottom[1]->shape_string());
  const int start = bottom[0]->CanonicalAxisIndex(param.axis());
  offsets_.assign(num_axes, 0);
  std::vector<int> shape = bottom[0]->shape();
  for (int i = start; i < num_axes; ++i) {
    int offset = 0;
    if (param.offset_size() == 1) {
      offset = static_cast<int>(param.offset(0));
    } else if (param.offset_size() > 1) {
      offset = static_cast<int>(param.offset(i - start));
    }
    MOKA_CHECK(offset >= 0 && bottom[0]->shape(i) - offset >= bottom[1]->shape(i), ShapeError,
               "crop of axis " << i << " to size " << bottom[1]->shape(i) << " at offset " << offset
                               << " falls outside bottom shape " << bottom[0]->shape_string());
    shape[i] = bottom[1]->shape(i);
    offsets_[i] = offset;
  }
  top[0]->Reshape(shape);
}

template <typename Dtype>
void CropLayer<Dtype>::CopyWindow(const Blob<Dtype>& bottom, const Blob<Dtype>& top, bool to_top,
                                  const Dtype* src, Dtype* dst) const {
  const int num_axes = top.num_axes();
  if (top.count() == 0) return;
  if (num_axes == 0) {
    dst[0] = src[0];
    return;
  }
  const int run = top.shape(num_axes - 1);
  const int rows = top.count() / run;
  std::vector<int> index(num_axes, 0);
  for (int r = 0; r < rows; ++r) {
    // index holds the top position of this run (last axis 0); walk it like an odometer.
    size_t bottom_offset = 0;
    for (int a = 0; a < num_axes; ++a) {
      bottom_offset = bottom_offset * bottom.shape(a) + index[a] + offsets_[a];
    }
    const size_t top_offset = static_cast<size_t>(r) * run;
    if (to_top) {
      cpu_copy(run, src + bottom_offset, dst + top_offset);
    } else {
      cpu_copy(run, src + top_offset, dst + bottom_offset);
    }
    for (int a = num_axes - 2; a >= 0; --a) {
      if (++index[a] < top.shape(a)) break;
      index[a] = 0;
    }
  }
}

template <typename Dtype>
void CropLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  CopyWindow(*bottom[0], *top[0], true, bottom[0]->cpu_data(), top[0]->mutable_cpu_data());
}

template <typename Dtype>
void CropLayer<Dtype>::Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                    const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  Dtype* dx = bottom[0]->mutable_cpu_diff();
  cpu_set(bottom[0]->count(), Dtype(0), dx);
  CopyWindow(*bottom[0], *top[0], false, top[0]->cpu_diff(), dx);
}

MOKA_INSTANTIATE_CLASS(CropLayer);
MOKA_REGISTER_LAYER(Crop);

}  // namespace moka
