#include "layers/parameter.hpp"

namespace moka {

// Nothing to compute on either device: the top is the parameter blob's memory, re-shared in case
// the blob was reallocated, and its gradient is already the parameter's.
template <typename Dtype>
void ParameterLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  top[0]->ShareData(*this->blobs_[0]);
  top[0]->ShareDiff(*this->blobs_[0]);
}

template <typename Dtype>
void ParameterLayer<Dtype>::Backward_gpu(const BlobVec& top,
                                         const std::vector<bool>& propagate_down,
                                         const BlobVec& bottom) {}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(ParameterLayer);

}  // namespace moka
