#include "layers/reshape.hpp"

#include <climits>

#include "layer_registry.hpp"

namespace moka {

template <typename Dtype>
void ReshapeLayer<Dtype>::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  MOKA_CHECK(top[0] != bottom[0], ConfigError, "Reshape cannot run in place");
  const BlobShape& shape = this->layer_param_.reshape_param().shape();
  copy_axes_.clear();
  inferred_axis_ = -1;
  constant_count_ = 1;
  for (int i = 0; i < shape.dim_size(); ++i) {
    const long long dim = shape.dim(i);
    if (dim == 0) {
      copy_axes_.push_back(i);
    } else if (dim == -1) {
      MOKA_CHECK(inferred_axis_ == -1, ConfigError,
                 "reshape_param.shape may hold at most one -1 (dims " << inferred_axis_ << " and "
                                                                      << i << " are -1)");
      inferred_axis_ = i;
    } else {
      MOKA_CHECK(dim > 0 && dim <= INT_MAX, ConfigError,
                 "reshape_param.shape dim " << i << " is " << dim
                                            << "; only positive values, 0 (copy) and -1 (infer) "
                                               "are allowed");
      constant_count_ *= dim;
    }
  }
}

template <typename Dtype>
void ReshapeLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  const ReshapeParameter& param = this->layer_param_.reshape_param();
  const BlobShape& shape = param.shape();
  const Blob<Dtype>& in = *bottom[0];
  const int in_axes = in.num_axes();
  // A negative axis counts insertion points from the end: -1 is after the last axis.
  const int start = param.axis() >= 0 ? param.axis() : in_axes + param.axis() + 1;
  MOKA_CHECK(start >= 0 && start <= in_axes, ShapeError,
             "reshape_param.axis " << param.axis() << " is out of range for a bottom of shape "
                                   << in.shape_string());
  MOKA_CHECK(param.num_axes() >= -1, ConfigError,
             "reshape_param.num_axes must be >= -1, got " << param.num_axes());
  const int end = param.num_axes() == -1 ? in_axes : start + param.num_axes();
  MOKA_CHECK(end <= in_axes, ShapeError,
             "reshape_param.axis " << param.axis() << " with num_axes " << param.num_axes()
                                   << " reaches past the last axis of a bottom of shape "
                                   << in.shape_string());

  std::vector<int> out(in.shape().begin(), in.shape().begin() + start);
  for (int i = 0; i < shape.dim_size(); ++i) out.push_back(static_cast<int>(shape.dim(i)));
  out.insert(out.end(), in.shape().begin() + end, in.shape().end());

  for (int i : copy_axes_) {
    MOKA_CHECK(start + i < in_axes, ShapeError,
               "reshape_param.shape dim " << i << " is 0 (copy), but a bottom of shape "
                                          << in.shape_string() << " has no axis " << start + i);
    out[start + i] = in.shape(start + i);
  }
  if (inferred_axis_ >= 0) {
    long long known = constant_count_ * in.count(0, start) * in.count(end);
    for (int i : copy_axes_) known *= out[start + i];
    MOKA_CHECK(known != 0 && in.count() % known == 0, ShapeError,
               "cannot infer the -1 of reshape_param.shape: bottom of shape "
                   << in.shape_string() << " does not divide into parts of " << known
                   << " elements");
    out[start + inferred_axis_] = static_cast<int>(in.count() / known);
  }
  long long out_count = 1;
  for (int dim : out) out_count *= dim;
  MOKA_CHECK(out_count == in.count(), ShapeError,
             "reshape to " << ShapeString(out) << " changes the count of a bottom of shape "
                           << in.shape_string());
  top[0]->Reshape(out);
  top[0]->ShareData(in);
  top[0]->ShareDiff(in);
}

MOKA_INSTANTIATE_CLASS(ReshapeLayer);
MOKA_REGISTER_LAYER(Reshape);

}  // namespace moka
