#pragma once
// Base of the element-wise layers (ReLU, Sigmoid, TanH, ...): one bottom, one top of the same
// shape, and in-place computation (top == bottom) allowed.
#include "layer.hpp"

namespace moka {

template <typename Dtype>
class NeuronLayer : public Layer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit NeuronLayer(const LayerParameter& param) : Layer<Dtype>(param) {}

  void Reshape(const BlobVec& bottom, const BlobVec& top) override {
    if (top[0] != bottom[0]) top[0]->ReshapeLike(*bottom[0]);
  }
  int ExactNumBottomBlobs() const override { return 1; }
  int ExactNumTopBlobs() const override { return 1; }
};

}  // namespace moka
