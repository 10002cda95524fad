#pragma once
#include <vector>

#include "layers/recurrent.hpp"

namespace moka {

/// Caffe's LSTM: for each step t, with cont_t scaling the carried state,
///   [i' f' o' g'] = W_xc x_t + b_c (+ W_xc_static x_static) + W_hc (cont_t h_{t-1}),
///   i = sigmoid(i'), f = cont_t sigmoid(f'), o = sigmoid(o'), g = tanh(g'),
///   c_t = f .* c_{t-1} + i .* g,   h_t = o .* tanh(c_t);   top = h (T x N x H).
/// Parameter blobs, in Caffe's order: W_xc (4H x I), b_c (4H), W_xc_static (4H x S, only with a
/// static input), W_hc (4H x H); gate rows in the order i, f, o, g. States: h, then c.
template <typename Dtype>
class LSTMLayer : public RecurrentLayer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  using typename RecurrentLayer<Dtype>::ParamInfo;
  explicit LSTMLayer(const LayerParameter& param) : RecurrentLayer<Dtype>(param) {}
  const char* type() const override { return "LSTM"; }

 protected:
  int NumStates() const override { return 2; }
  int GateWidth() const override { return 4 * this->H_; }
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

  /// Gate pre-activations of one step (N x 4H), replaced by their activations i, f, o, g.
  Blob<Dtype> gates_;  // T x N x 4H; diff: gradient of the pre-activations
  Blob<Dtype> cells_;  // T x N x H: c_t
  Blob<Dtype> dcell_;  // N x H: gradient reaching c_t from later steps
};

#ifdef MOKA_CUDA
namespace lstm_gpu {
/// One step over N x H cells: see lstm.cpp (StepForward / StepBackward) for the CPU twins.
template <typename Dtype>
void StepForward(int streams, int hidden, const Dtype* static_gates, const Dtype* c_prev,
                 const Dtype* cont, Dtype* gates, Dtype* c, Dtype* h);
template <typename Dtype>
void StepBackward(int streams, int hidden, const Dtype* gates, const Dtype* c_prev, const Dtype* c,
                  const Dtype* dh_top, const Dtype* dh_next, const Dtype* cont_next, Dtype* dc,
                  Dtype* dgates);
}  // namespace lstm_gpu
#endif

}  // namespace moka
