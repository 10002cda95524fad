#include "layers/rnn.hpp"

#include <glog/logging.h>

#include <cmath>

#include "layer_registry.hpp"

namespace moka {
namespace {

template <typename Dtype>
void Tanh(bool on_gpu, int count, const Dtype* x, const Dtype* extra, Dtype* y) {
#ifdef MOKA_CUDA
  if (on_gpu) {
    rnn_gpu::Tanh<Dtype>(count, x, extra, y);
    return;
  }
#endif
  if (extra == nullptr) {
    for (int i = 0; i < count; ++i) y[i] = std::tanh(x[i]);
  } else {
    for (int i = 0; i < count; ++i) y[i] = std::tanh(x[i] + extra[i]);
  }
}

template <typename Dtype>
void TanhBackward(bool on_gpu, int count, int width, const Dtype* y, const Dtype* dy,
                  const Dtype* dy_next, const Dtype* cont, Dtype* dx) {
#ifdef MOKA_CUDA
  if (on_gpu) {
    rnn_gpu::TanhBackward<Dtype>(count, width, y, dy, dy_next, cont, dx);
    return;
  }
#endif
  for (int i = 0; i < count; ++i) {
    // h_t reaches o_t and, scaled by cont_{t+1}, the next step's recurrent product.
    const Dtype grad = dy_next == nullptr ? dy[i] : dy[i] + cont[i / width] * dy_next[i];
    dx[i] = grad * (Dtype(1) - y[i] * y[i]);
  }
}

}  // namespace

template <typename Dtype>
std::vector<typename RNNLayer<Dtype>::ParamInfo> RNNLayer<Dtype>::ParamLayout() const {
  const int H = this->H_;
  std::vector<ParamInfo> layout = {{"W_xh", {H, this->I_}, false}, {"b_h", {H}, true}};
  if (this->static_input_) layout.push_back({"W_xh_static", {H, this->S_}, false});
  layout.push_back({"W_hh", {H, H}, false});
  layout.push_back({"W_ho", {H, H}, false});
  layout.push_back({"b_o", {H}, true});
  return layout;
}

template <typename Dtype>
void RNNLayer<Dtype>::ReshapeBuffers() {
  const std::vector<int> shape = {this->T_, this->N_, this->H_};
  pre_.Reshape(shape);
  hidden_.Reshape(shape);
  output_.Reshape(shape);
}

template <typename Dtype>
void RNNLayer<Dtype>::Run(const BlobVec& bottom, const BlobVec& top) {
  const int T = this->T_, N = this->N_, H = this->H_;
  const int NH = N * H, TNH = T * NH;
  const bool gpu = this->OnGpu();
  this->AdvanceCarriedState();
  Dtype* pre = this->MutableData(&pre_);
  this->ProjectInputs(bottom, pre);
  const Dtype* cont = this->Data(*bottom[1]);
  const Dtype* static_part = this->static_input_ ? this->Data(this->static_gates_) : nullptr;
  const Dtype* h0 = this->InitialState(bottom, 0);
  Dtype* h = this->MutableData(&hidden_);
  Dtype* hc = this->MutableData(&this->hc_);
  for (int t = 0; t < T; ++t) {
    this->AddRecurrentProduct(t, cont, t == 0 ? h0 : h + (t - 1) * NH, hc + t * NH, pre + t * NH);
    Tanh(gpu, NH, pre + t * NH, static_part, h + t * NH);
  }
  // The output projection of all steps at once: o = tanh(h W_ho^T + b_o).
  Dtype* o = this->MutableData(&output_);
  this->Gemm(Trans::kNo, Trans::kYes, T * N, H, H, Dtype(1), h,
             this->Data(*this->blobs_[OutputWeightIndex()]), Dtype(0), o);
  this->Gemm(Trans::kNo, Trans::kNo, T * N, H, 1, Dtype(1), this->Data(this->ones_tn_),
             this->Data(*this->blobs_[OutputWeightIndex() + 1]), Dtype(1), o);
  Tanh<Dtype>(gpu, TNH, o, nullptr, o);
  this->Copy(TNH, o, this->MutableData(top[0]));
  this->StoreFinalState(top, 0, h + (T - 1) * NH);
  if (this->DebugInfo()) {
    this->LogParams("Forward", false);
    for (int t = 0; t < T; ++t) {
      const std::string step = std::to_string(t + 1);
      LOG(INFO) << "    [Forward] Layer " << this->InnerName("h_neuron_" + step) << ", top blob h_"
                << step << " data: " << this->MeanAbs(NH, h + t * NH);
      LOG(INFO) << "    [Forward] Layer " << this->InnerName("o_neuron_" + step) << ", top blob o_"
                << step << " data: " << this->MeanAbs(NH, o + t * NH);
    }
  }
}

template <typename Dtype>
void RNNLayer<Dtype>::RunBackward(const BlobVec& top, const std::vector<bool>& propagate_down,
                                  const BlobVec& bottom) {
  const int T = this->T_, N = this->N_, H = this->H_;
  const int NH = N * H, TN = T * N;
  const bool gpu = this->OnGpu();
  auto& blobs = this->blobs_;
  const int w_ho = OutputWeightIndex();
  const Dtype* cont = this->Data(*bottom[1]);
  const Dtype* h = this->Data(hidden_);
  // Through o_t = tanh(W_ho h_t + b_o), for all steps at once.
  Dtype* d_out = this->MutableDiff(&output_);
  TanhBackward<Dtype>(gpu, TN * H, H, this->Data(output_), this->Diff(*top[0]), nullptr, nullptr,
                      d_out);
  if (this->param_propagate_down(w_ho)) {
    this->Gemm(Trans::kYes, Trans::kNo, H, H, TN, Dtype(1), d_out, h, Dtype(1),
               this->MutableDiff(blobs[w_ho].get()));
  }
  if (this->param_propagate_down(w_ho + 1)) {
    this->Gemv(Trans::kYes, TN, H, Dtype(1), d_out, this->Data(this->ones_tn_), Dtype(1),
               this->MutableDiff(blobs[w_ho + 1].get()));
  }
  Dtype* dh_out = this->MutableDiff(&hidden_);
  this->Gemm(Trans::kNo, Trans::kNo, TN, H, H, Dtype(1), d_out, this->Data(*blobs[w_ho]), Dtype(0),
             dh_out);
  // Back through time: each h_t also feeds step t+1's recurrent product.
  const Dtype* w_hh = this->Data(*blobs[this->RecurrentWeightIndex()]);
  Dtype* dpre = this->MutableDiff(&pre_);
  Dtype* dh_next = this->MutableData(&this->dh_recurrent_);
  for (int t = T - 1; t >= 0; --t) {
    const bool last = t == T - 1;
    TanhBackward<Dtype>(gpu, NH, H, h + t * NH, dh_out + t * NH, last ? nullptr : dh_next,
                        last ? nullptr : cont + (t + 1) * N, dpre + t * NH);
    if (t > 0) {
      this->Gemm(Trans::kNo, Trans::kNo, N, H, H, Dtype(1), dpre + t * NH, w_hh, Dtype(0), dh_next);
    }
  }
  this->BackwardProjections(bottom, propagate_down, dpre, this->Data(this->hc_));
  this->ClearStateDiffs(propagate_down, bottom);
  if (this->DebugInfo()) {
    for (int t = T - 1; t >= 0; --t) {
      const std::string step = std::to_string(t + 1);
      LOG(INFO) << "    [Backward] Layer " << this->InnerName("h_neuron_" + step)
                << ", bottom blob h_neuron_input_" << step
                << " diff: " << this->MeanAbs(NH, dpre + t * NH);
    }
    if (propagate_down[0]) {
      LOG(INFO) << "    [Backward] Layer " << this->layer_param_.name() << ", bottom blob x diff: "
                << this->MeanAbs(bottom[0]->count(), this->Diff(*bottom[0]));
    }
    this->LogParams("Backward", true);
  }
}

MOKA_INSTANTIATE_CLASS(RNNLayer);
MOKA_REGISTER_LAYER(RNN);

}  // namespace moka
