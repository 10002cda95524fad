#include "layers/lstm_unit.hpp"

#include "layer_registry.hpp"

namespace moka {

template <typename Dtype>
void LSTMUnitLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  const Blob<Dtype>& c_prev = *bottom[0];
  const Blob<Dtype>& x = *bottom[1];
  const Blob<Dtype>& cont = *bottom[2];
  MOKA_CHECK(c_prev.num_axes() == 3 && c_prev.shape(0) == 1, ShapeError,
             "c_prev must be 1 x N x H, got " << c_prev.shape_string());
  const int streams = c_prev.shape(1);
  hidden_ = c_prev.shape(2);
  MOKA_CHECK(
      x.num_axes() == 3 && x.shape(0) == 1 && x.shape(1) == streams && x.shape(2) == 4 * hidden_,
      ShapeError,
      "the gate input must be 1 x " << streams << " x " << 4 * hidden_ << " (4H), got "
                                    << x.shape_string());
  MOKA_CHECK(cont.num_axes() == 2 && cont.shape(0) == 1 && cont.shape(1) == streams, ShapeError,
             "cont must be 1 x " << streams << ", got " << cont.shape_string());
  top[0]->ReshapeLike(c_prev);
  top[1]->ReshapeLike(c_prev);
}

template <typename Dtype>
void LSTMUnitLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  const int H = hidden_;
  const int count = bottom[0]->count();
  const Dtype* c_prev = bottom[0]->cpu_data();
  const Dtype* x = bottom[1]->cpu_data();
  const Dtype* cont = bottom[2]->cpu_data();
  Dtype* c = top[0]->mutable_cpu_data();
  Dtype* h = top[1]->mutable_cpu_data();
  for (int index = 0; index < count; ++index) {
    lstm_math::UnitForwardAt(index, H, c_prev, x, cont, c, h);
  }
}

template <typename Dtype>
void LSTMUnitLayer<Dtype>::Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                        const BlobVec& bottom) {
  if (!propagate_down[0] && !propagate_down[1]) return;
  const int H = hidden_;
  const int count = bottom[0]->count();
  const Dtype* c_prev = bottom[0]->cpu_data();
  const Dtype* x = bottom[1]->cpu_data();
  const Dtype* cont = bottom[2]->cpu_data();
  const Dtype* c = top[0]->cpu_data();
  const Dtype* dc = top[0]->cpu_diff();
  const Dtype* dh = top[1]->cpu_diff();
  Dtype* c_prev_diff = propagate_down[0] ? bottom[0]->mutable_cpu_diff() : nullptr;
  Dtype* x_diff = propagate_down[1] ? bottom[1]->mutable_cpu_diff() : nullptr;
  for (int index = 0; index < count; ++index) {
    lstm_math::UnitBackwardAt(index, H, c_prev, x, cont, c, dc, dh, c_prev_diff, x_diff);
  }
}

MOKA_INSTANTIATE_CLASS(LSTMUnitLayer);
MOKA_REGISTER_LAYER(LSTMUnit);

}  // namespace moka
