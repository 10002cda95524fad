#include "layers/mvn.hpp"

#include "layer_registry.hpp"
#include "math_functions.hpp"

namespace moka {

template <typename Dtype>
void MVNLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  MOKA_CHECK(bottom[0]->num_axes() >= 1 && bottom[0]->num_axes() <= 4, ShapeError,
             "bottom must have 1 to 4 axes (num, channels, height, width), got shape "
                 << bottom[0]->shape_string());
  const MVNParameter& param = this->layer_param_.mvn_param();
  // Caffe gives the top the legacy 4-D shape, so an (N, C) bottom yields an (N, C, 1, 1) top.
  const Blob<Dtype>& x = *bottom[0];
  top[0]->Reshape({x.LegacyShape(0), x.LegacyShape(1), x.LegacyShape(2), x.LegacyShape(3)});
  const int num = bottom[0]->LegacyShape(0);
  num_ = param.across_channels() ? num : num * bottom[0]->LegacyShape(1);
  dim_ = num_ == 0 ? 0 : bottom[0]->count() / num_;
  mean_.Reshape({num_});
  variance_.Reshape({num_});
  temp_.ReshapeLike(*bottom[0]);
  if (sum_multiplier_.count() != dim_) {
    sum_multiplier_.Reshape({dim_});
    sum_multiplier_.set_data(1);
  }
}

namespace {

// data[r, :] += alpha * values[r] for each of `rows` rows of length `dim`.
template <typename Dtype>
void AddPerRow(int rows, int dim, const Dtype* values, Dtype alpha, Dtype* data) {
  for (int r = 0; r < rows; ++r)
    cpu_add_scalar(dim, alpha * values[r], data + static_cast<size_t>(r) * dim);
}

template <typename Dtype>
void FillPerRow(int rows, int dim, const Dtype* values, Dtype* data) {
  for (int r = 0; r < rows; ++r) cpu_set(dim, values[r], data + static_cast<size_t>(r) * dim);
}

}  // namespace

template <typename Dtype>
void MVNLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  const int count = bottom[0]->count();
  const Dtype eps = this->layer_param_.mvn_param().eps();
  const Dtype* x = bottom[0]->cpu_data();
  Dtype* y = top[0]->mutable_cpu_data();
  const Dtype* ones = sum_multiplier_.cpu_data();
  cpu_gemv(Trans::kNo, num_, dim_, Dtype(1. / dim_), x, ones, Dtype(0), mean_.mutable_cpu_data());
  if (x != y) cpu_copy(count, x, y);
  AddPerRow(num_, dim_, mean_.cpu_data(), Dtype(-1), y);
  if (!this->layer_param_.mvn_param().normalize_variance()) return;
  cpu_sqr(count, y, temp_.mutable_cpu_data());
  cpu_gemv(Trans::kNo, num_, dim_, Dtype(1. / dim_), temp_.cpu_data(), ones, Dtype(0),
           variance_.mutable_cpu_data());
  // Caffe adds eps to the standard deviation, not to the variance.
  cpu_powx(num_, variance_.cpu_data(), Dtype(0.5), variance_.mutable_cpu_data());
  cpu_add_scalar(num_, eps, variance_.mutable_cpu_data());
  FillPerRow(num_, dim_, variance_.cpu_data(), temp_.mutable_cpu_data());
  cpu_div(count, y, temp_.cpu_data(), y);
}

template <typename Dtype>
void MVNLayer<Dtype>::Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                   const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const int count = bottom[0]->count();
  const Dtype* y = top[0]->cpu_data();
  const Dtype* dy = top[0]->cpu_diff();
  Dtype* dx = bottom[0]->mutable_cpu_diff();
  const Dtype* ones = sum_multiplier_.cpu_data();
  Dtype* row_sums = mean_.mutable_cpu_data();
  if (this->layer_param_.mvn_param().normalize_variance()) {
    MOKA_CHECK(top[0] != bottom[0], ConfigError,
               "cannot run backward in place with normalize_variance");
    cpu_mul(count, y, dy, dx);
    cpu_gemv(Trans::kNo, num_, dim_, Dtype(1), dx, ones, Dtype(0), row_sums);
    FillPerRow(num_, dim_, mean_.cpu_data(), dx);
    cpu_mul(count, y, dx, dx);
    cpu_gemv(Trans::kNo, num_, dim_, Dtype(1), dy, ones, Dtype(0), row_sums);
    AddPerRow(num_, dim_, mean_.cpu_data(), Dtype(1), dx);
    cpu_axpby(count, Dtype(1), dy, Dtype(-1. / dim_), dx);
    FillPerRow(num_, dim_, variance_.cpu_data(), temp_.mutable_cpu_data());
    cpu_div(count, dx, temp_.cpu_data(), dx);
  } else {
    cpu_gemv(Trans::kNo, num_, dim_, Dtype(1. / dim_), dy, ones, Dtype(0), row_sums);
    if (dx != dy) cpu_copy(count, dy, dx);
    AddPerRow(num_, dim_, mean_.cpu_data(), Dtype(-1), dx);
  }
}

MOKA_INSTANTIATE_CLASS(MVNLayer);
MOKA_REGISTER_LAYER(MVN);

}  // namespace moka
