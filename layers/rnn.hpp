#pragma once
#include <vector>

#include "layers/recurrent.hpp"

namespace moka {

/// Caffe's simple recurrent net: for each step t, with cont_t scaling the carried state,
///   h_t = tanh(W_xh x_t + b_h (+ W_xh_static x_static) + W_hh (cont_t h_{t-1})),
///   o_t = tanh(W_ho h_t + b_o);   top = o (T x N x H).
/// Parameter blobs, in Caffe's order: W_xh (H x I), b_h (H), W_xh_static (H x S, only with a
/// static input), W_hh (H x H), W_ho (H x H), b_o (H). State: h.
template <typename Dtype>
class RNNLayer : public RecurrentLayer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  using typename RecurrentLayer<Dtype>::ParamInfo;
  explicit RNNLayer(const LayerParameter& param) : RecurrentLayer<Dtype>(param) {}
  const char* type() const override { return "RNN"; }

 protected:
  int NumStates() const override { return 1; }
  int GateWidth() const override { return this->H_; }
  std::vector<ParamInfo> ParamLayout() const override;
  void ReshapeBuffers() override;

  void Forward_cpu(const BlobVec& bottom, const BlobVec& top) override { Run(bottom, top); }
  void Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                    const BlobVec& bottom) override {
    RunBackward(top, propagate_down, bottom);
  }
#ifdef MOKA_CUDA
  void Forward_gpu(const BlobVec& bottom, const BlobVec& top) override;
  void Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                    const BlobVec& bottom) override;
#endif

 private:
  /// The whole pass on the context's device (the GPU entry points call these too).
  void Run(const BlobVec& bottom, const BlobVec& top);
  void RunBackward(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom);
  int OutputWeightIndex() const {
    return this->RecurrentWeightIndex() + 1;
  }

  Blob<Dtype> pre_;     // T x N x H: hidden pre-activations; diff: their gradient
  Blob<Dtype> hidden_;  // T x N x H: h_t; diff: the gradient reaching h_t from o_t
  Blob<Dtype> output_;  // T x N x H: o_t (kept apart from the top, which later layers may
                        // overwrite in place); diff: gradient of W_ho h_t + b_o
};

#ifdef MOKA_CUDA
namespace rnn_gpu {
/// y = tanh(x (+ extra)); extra may be null.
template <typename Dtype>
void Tanh(int count, const Dtype* x, const Dtype* extra, Dtype* y);
/// dx = (dy (+ cont[i / width] * dy_next)) * (1 - y^2); dy_next may be null.
template <typename Dtype>
void TanhBackward(int count, int width, const Dtype* y, const Dtype* dy, const Dtype* dy_next,
                  const Dtype* cont, Dtype* dx);
}  // namespace rnn_gpu
#endif

}  // namespace moka
