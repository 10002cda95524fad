#include "layers/eltwise.hpp"

#include "layer_registry.hpp"
#include "math_functions.hpp"

namespace moka {

template <typename Dtype>
void EltwiseLayer<Dtype>::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  const EltwiseParameter& param = this->layer_param_.eltwise_param();
  op_ = param.operation();
  stable_prod_grad_ = param.stable_prod_grad();
  MOKA_CHECK(param.coeff_size() == 0 || param.coeff_size() == static_cast<int>(bottom.size()),
             ConfigError,
             "eltwise_param has " << param.coeff_size() << " coeff value(s) for " << bottom.size()
                                  << " bottoms; give one per bottom or none");
  MOKA_CHECK(op_ == EltwiseParameter::SUM || param.coeff_size() == 0, ConfigError,
             "eltwise_param.coeff applies only to operation SUM");
  coeffs_.assign(bottom.size(), Dtype(1));
  for (int i = 0; i < param.coeff_size(); ++i) coeffs_[i] = param.coeff(i);
}

template <typename Dtype>
void EltwiseLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  for (size_t i = 0; i < bottom.size(); ++i) {
    // PROD and MAX read bottoms 0 and 1 element by element before writing, so Caffe's deploy nets
    // may run them in place on those; SUM clears the top first, and later bottoms are read after
    // the top is written.
    if (top[0] == bottom[i]) {
      MOKA_CHECK(op_ != EltwiseParameter::SUM && i < 2, ConfigError,
                 "Eltwise can run in place only for PROD or MAX, on bottom 0 or 1 (top is bottom "
                     << i << ")");
    }
    MOKA_CHECK(bottom[i]->shape() == bottom[0]->shape(), ShapeError,
               "bottoms must have one shape: bottom 0 has shape "
                   << bottom[0]->shape_string() << ", bottom " << i << " has shape "
                   << bottom[i]->shape_string());
  }
  top[0]->ReshapeLike(*bottom[0]);
  if (op_ == EltwiseParameter::MAX) max_index_.resize(bottom[0]->count());
}

template <typename Dtype>
void EltwiseLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  const int n = top[0]->count();
  Dtype* y = top[0]->mutable_cpu_data();
  switch (op_) {
    case EltwiseParameter::PROD:
      cpu_mul(n, bottom[0]->cpu_data(), bottom[1]->cpu_data(), y);
      for (size_t i = 2; i < bottom.size(); ++i) cpu_mul(n, y, bottom[i]->cpu_data(), y);
      break;
    case EltwiseParameter::SUM:
      cpu_set(n, Dtype(0), y);
      for (size_t i = 0; i < bottom.size(); ++i) cpu_axpy(n, coeffs_[i], bottom[i]->cpu_data(), y);
      break;
    case EltwiseParameter::MAX: {
      int* index = max_index_.data();
      const Dtype* a = bottom[0]->cpu_data();
      const Dtype* b = bottom[1]->cpu_data();
      // Ties follow Caffe: between the first two bottoms the second wins, after that the
      // earlier one keeps the element.
      for (int k = 0; k < n; ++k) {
        const bool first = a[k] > b[k];
        y[k] = first ? a[k] : b[k];
        index[k] = first ? 0 : 1;
      }
      for (size_t i = 2; i < bottom.size(); ++i) {
        const Dtype* x = bottom[i]->cpu_data();
        for (int k = 0; k < n; ++k) {
          if (x[k] > y[k]) {
            y[k] = x[k];
            index[k] = static_cast<int>(i);
          }
        }
      }
      break;
    }
    default:
      MOKA_THROW(ConfigError, "unknown eltwise_param.operation " << static_cast<int>(op_));
  }
}

template <typename Dtype>
void EltwiseLayer<Dtype>::CheckNotInPlace(const BlobVec& top, const BlobVec& bottom) const {
  for (size_t i = 0; i < bottom.size(); ++i) {
    // The overwritten input (PROD) or the shared diff (MAX) would give wrong gradients.
    MOKA_CHECK(top[0] != bottom[i], ConfigError,
               "cannot backpropagate through an Eltwise run in place (top is bottom " << i << ")");
  }
}

template <typename Dtype>
void EltwiseLayer<Dtype>::Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                       const BlobVec& bottom) {
  CheckNotInPlace(top, bottom);
  const int n = top[0]->count();
  const Dtype* dy = top[0]->cpu_diff();
  for (size_t i = 0; i < bottom.size(); ++i) {
    if (!propagate_down[i]) continue;
    Dtype* dx = bottom[i]->mutable_cpu_diff();
    switch (op_) {
      case EltwiseParameter::PROD:
        if (stable_prod_grad_) {
          // The product of the other bottoms, which stays exact where x_i is zero.
          bool started = false;
          for (size_t j = 0; j < bottom.size(); ++j) {
            if (j == i) continue;
            if (started) {
              cpu_mul(n, dx, bottom[j]->cpu_data(), dx);
            } else {
              cpu_copy(n, bottom[j]->cpu_data(), dx);
              started = true;
            }
          }
        } else {
          cpu_div(n, top[0]->cpu_data(), bottom[i]->cpu_data(), dx);
        }
        cpu_mul(n, dy, dx, dx);
        break;
      case EltwiseParameter::SUM:
        if (coeffs_[i] == Dtype(1)) {
          cpu_copy(n, dy, dx);
        } else {
          cpu_scale(n, coeffs_[i], dy, dx);
        }
        break;
      case EltwiseParameter::MAX: {
        const int* index = max_index_.data();
        const int which = static_cast<int>(i);
        for (int k = 0; k < n; ++k) dx[k] = index[k] == which ? dy[k] : Dtype(0);
        break;
      }
      default:
        MOKA_THROW(ConfigError, "unknown eltwise_param.operation " << static_cast<int>(op_));
    }
  }
}

MOKA_INSTANTIATE_CLASS(EltwiseLayer);
MOKA_REGISTER_LAYER(Eltwise);

}  // namespace moka
