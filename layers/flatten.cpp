#include "layers/flatten.hpp"

#include "layer_registry.hpp"

namespace moka {

template <typename Dtype>
void FlattenLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  MOKA_CHECK(top[0] != bottom[0], ConfigError, "Flatten cannot run in place");
  const FlattenParameter& param = this->layer_param_.flatten_param();
  const int start = bottom[0]->CanonicalAxisIndex(param.axis());
  const int end = bottom[0]->CanonicalAxisIndex(param.end_axis());
  MOKA_CHECK(start <= end, ConfigError,
             "axis " << param.axis() << " comes after end_axis " << param.end_axis()
                     << " for a bottom of shape " << bottom[0]->shape_string());
  const std::vector<int>& in = bottom[0]->shape();
  std::vector<int> shape(in.begin(), in.begin() + start);
  shape.push_back(bottom[0]->count(start, end + 1));
  shape.insert(shape.end(), in.begin() + end + 1, in.end());
  top[0]->Reshape(shape);
  // Sharing here, not in Forward/Backward, keeps the top valid after any reshape of the bottom.
  top[0]->ShareData(*bottom[0]);
  top[0]->ShareDiff(*bottom[0]);
}

MOKA_INSTANTIATE_CLASS(FlattenLayer);
MOKA_REGISTER_LAYER(Flatten);

}  // namespace moka
