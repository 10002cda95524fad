#include "layers/batch_reindex.hpp"

#include "layer_registry.hpp"
#include "math_functions.hpp"

namespace moka {

template <typename Dtype>
void BatchReindexLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  MOKA_CHECK(bottom[1]->num_axes() == 1, ShapeError,
             "the index bottom must have one axis, got shape " << bottom[1]->shape_string());
  MOKA_CHECK(bottom[0]->num_axes() >= 1, ShapeError, "the data bottom must have at least one axis");
  std::vector<int> shape = bottom[0]->shape();
  shape[0] = bottom[1]->shape(0);
  top[0]->Reshape(shape);
}

template <typename Dtype>
int BatchReindexLayer<Dtype>::Source(const BlobVec& bottom, int i) const {
  const Dtype value = bottom[1]->cpu_data()[i];
  const int index = static_cast<int>(value);
  MOKA_CHECK(index >= 0 && index < bottom[0]->shape(0), ShapeError,
             "index " << value << " at position " << i << " is outside the batch of "
                      << bottom[0]->shape(0));
  return index;
}

template <typename Dtype>
void BatchReindexLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  const int dim = bottom[0]->count(1);
  const Dtype* x = bottom[0]->cpu_data();
  Dtype* y = top[0]->mutable_cpu_data();
  for (int i = 0; i < top[0]->shape(0); ++i) {
    cpu_copy(dim, x + static_cast<size_t>(Source(bottom, i)) * dim,
             y + static_cast<size_t>(i) * dim);
  }
}

template <typename Dtype>
void BatchReindexLayer<Dtype>::Backward_cpu(const BlobVec& top,
                                            const std::vector<bool>& propagate_down,
                                            const BlobVec& bottom) {
  MOKA_CHECK(!propagate_down[1], ConfigError,
             "cannot backpropagate to the index bottom; set propagate_down: false");
  if (!propagate_down[0]) return;
  const int dim = bottom[0]->count(1);
  const Dtype* dy = top[0]->cpu_diff();
  Dtype* dx = bottom[0]->mutable_cpu_diff();
  cpu_set(bottom[0]->count(), Dtype(0), dx);
  for (int i = 0; i < top[0]->shape(0); ++i) {
    cpu_axpy(dim, Dtype(1), dy + static_cast<size_t>(i) * dim,
             dx + static_cast<size_t>(Source(bottom, i)) * dim);
  }
}

MOKA_INSTANTIATE_CLASS(BatchReindexLayer);
MOKA_REGISTER_LAYER(BatchReindex);

}  // namespace moka
