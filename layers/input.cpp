#include "layers/input.hpp"

#include "layer_registry.hpp"

namespace moka {

template <typename Dtype>
void InputLayer<Dtype>::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  const InputParameter& param = this->layer_param_.input_param();
  const int num_top = static_cast<int>(top.size());
  const int num_shape = param.shape_size();
  MOKA_CHECK(num_shape == 0 || num_shape == 1 || num_shape == num_top, ConfigError,
             "input_param must give 'shape' once, once per top blob, or not at all; got "
                 << num_shape << " shape(s) for " << num_top << " top blob(s)");
  if (num_shape == 0) return;
  for (int i = 0; i < num_top; ++i) top[i]->Reshape(param.shape(num_shape == 1 ? 0 : i));
}

MOKA_INSTANTIATE_CLASS(InputLayer);
MOKA_REGISTER_LAYER(Input);

}  // namespace moka
