#include "layers/tile.hpp"

#include "layer_registry.hpp"
#include "math_functions.hpp"

namespace moka {

template <typename Dtype>
void TileLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  const TileParameter& param = this->layer_param_.tile_param();
  MOKA_CHECK(param.has_tiles(), ConfigError, "tile_param needs tiles");
  MOKA_CHECK(param.tiles() > 0, ConfigError, "tiles must be positive, got " << param.tiles());
  const int axis = bottom[0]->CanonicalAxisIndex(param.axis());
  tiles_ = param.tiles();
  std::vector<int> shape = bottom[0]->shape();
  shape[axis] *= tiles_;
  top[0]->Reshape(shape);
  outer_dim_ = bottom[0]->count(0, axis);
  inner_dim_ = bottom[0]->count(axis);
}

template <typename Dtype>
void TileLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  const Dtype* x = bottom[0]->cpu_data();
  Dtype* y = top[0]->mutable_cpu_data();
  for (int o = 0; o < outer_dim_; ++o) {
    for (int t = 0; t < tiles_; ++t) {
      cpu_copy(inner_dim_, x, y);
      y += inner_dim_;
    }
    x += inner_dim_;
  }
}

template <typename Dtype>
void TileLayer<Dtype>::Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                    const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const Dtype* dy = top[0]->cpu_diff();
  Dtype* dx = bottom[0]->mutable_cpu_diff();
  for (int o = 0; o < outer_dim_; ++o) {
    cpu_copy(inner_dim_, dy, dx);
    dy += inner_dim_;
    for (int t = 1; t < tiles_; ++t) {
      cpu_axpy(inner_dim_, Dtype(1), dy, dx);
      dy += inner_dim_;
    }
    dx += inner_dim_;
  }
}

MOKA_INSTANTIATE_CLASS(TileLayer);
MOKA_REGISTER_LAYER(Tile);

}  // namespace moka
