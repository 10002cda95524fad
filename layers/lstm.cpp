#include "layers/lstm.hpp"

#include <glog/logging.h>

#include "layer_registry.hpp"
#include "layers/lstm_unit.hpp"

namespace moka {
namespace {

template <typename Dtype>
void StepForward(bool on_gpu, int streams, int H, const Dtype* static_gates, const Dtype* c_prev,
                 const Dtype* cont, Dtype* gates, Dtype* c, Dtype* h) {
#ifdef MOKA_CUDA
  if (on_gpu) {
    lstm_gpu::StepForward<Dtype>(streams, H, static_gates, c_prev, cont, gates, c, h);
    return;
  }
#endif
  for (int n = 0; n < streams; ++n) {
    Dtype* gates_n = gates + n * 4 * H;
    const Dtype* static_n = static_gates == nullptr ? nullptr : static_gates + n * 4 * H;
    for (int d = 0; d < H; ++d) {
      const int index = n * H + d;
      h[index] =
          lstm_math::StepForward(H, gates_n + d, static_n == nullptr ? nullptr : static_n + d,
                                 c_prev[index], cont[n], &c[index]);
    }
  }
}

template <typename Dtype>
void StepBackward(bool on_gpu, int streams, int H, const Dtype* gates, const Dtype* c_prev,
                  const Dtype* c, const Dtype* dh_top, const Dtype* dh_next, const Dtype* cont_next,
                  Dtype* dc, Dtype* dgates) {
#ifdef MOKA_CUDA
  if (on_gpu) {
    lstm_gpu::StepBackward<Dtype>(streams, H, gates, c_prev, c, dh_top, dh_next, cont_next, dc,
                                  dgates);
    return;
  }
#endif
  for (int n = 0; n < streams; ++n) {
    for (int d = 0; d < H; ++d) {
      const int index = n * H + d;
      const int gate = n * 4 * H + d;
      // h_t reaches the output and, scaled by cont_{t+1}, the next step's recurrent product.
      const Dtype dh =
          dh_next == nullptr ? dh_top[index] : dh_top[index] + cont_next[n] * dh_next[index];
      lstm_math::StepBackward(H, gates + gate, c_prev[index], c[index], dh, &dc[index],
                              dgates + gate);
    }
  }
}

}  // namespace

template <typename Dtype>
std::vector<typename LSTMLayer<Dtype>::ParamInfo> LSTMLayer<Dtype>::ParamLayout() const {
  const int G = 4 * this->H_;
  std::vector<ParamInfo> layout = {{"W_xc", {G, this->I_}, false}, {"b_c", {G}, true}};
  if (this->static_input_) layout.push_back({"W_xc_static", {G, this->S_}, false});
  layout.push_back({"W_hc", {G, this->H_}, false});
  return layout;
}

template <typename Dtype>
void LSTMLayer<Dtype>::ReshapeBuffers() {
  gates_.Reshape({this->T_, this->N_, 4 * this->H_});
  cells_.Reshape({this->T_, this->N_, this->H_});
  dcell_.Reshape({this->N_, this->H_});
}

template <typename Dtype>
void LSTMLayer<Dtype>::Run(const BlobVec& bottom, const BlobVec& top) {
  const int T = this->T_, N = this->N_, H = this->H_;
  const int NH = N * H, NG = N * 4 * H;
  const bool gpu = this->OnGpu();
  this->AdvanceCarriedState();
  Dtype* gates = this->MutableData(&gates_);
  this->ProjectInputs(bottom, gates);
  const Dtype* cont = this->Data(*bottom[1]);
  const Dtype* static_gates = this->static_input_ ? this->Data(this->static_gates_) : nullptr;
  const Dtype* h0 = this->InitialState(bottom, 0);
  const Dtype* c0 = this->InitialState(bottom, 1);
  Dtype* h = this->MutableData(top[0]);
  Dtype* c = this->MutableData(&cells_);
  Dtype* hc = this->MutableData(&this->hc_);
  for (int t = 0; t < T; ++t) {
    const Dtype* h_prev = t == 0 ? h0 : h + (t - 1) * NH;
    const Dtype* c_prev = t == 0 ? c0 : c + (t - 1) * NH;
    this->AddRecurrentProduct(t, cont, h_prev, hc + t * NH, gates + t * NG);
    StepForward(gpu, N, H, static_gates, c_prev, cont + t * N, gates + t * NG, c + t * NH,
                h + t * NH);
  }
  this->StoreFinalState(top, 0, h + (T - 1) * NH);
  this->StoreFinalState(top, 1, c + (T - 1) * NH);
  if (this->DebugInfo()) {
    this->LogParams("Forward", false);
    for (int t = 0; t < T; ++t) {
      const std::string step = std::to_string(t + 1);
      LOG(INFO) << "    [Forward] Layer " << this->InnerName("unit_" + step) << ", top blob c_"
                << step << " data: " << this->MeanAbs(NH, c + t * NH);
      LOG(INFO) << "    [Forward] Layer " << this->InnerName("unit_" + step) << ", top blob h_"
                << step << " data: " << this->MeanAbs(NH, h + t * NH);
    }
  }
}

template <typename Dtype>
void LSTMLayer<Dtype>::RunBackward(const BlobVec& top, const std::vector<bool>& propagate_down,
                                   const BlobVec& bottom) {
  const int T = this->T_, N = this->N_, H = this->H_;
  const int NH = N * H, NG = N * 4 * H;
  const bool gpu = this->OnGpu();
  const Dtype* cont = this->Data(*bottom[1]);
  const Dtype* gates = this->Data(gates_);
  const Dtype* c = this->Data(cells_);
  const Dtype* c0 = this->InitialState(bottom, 1);
  const Dtype* dh_top = this->Diff(*top[0]);
  const Dtype* w_hc = this->Data(*this->blobs_[this->RecurrentWeightIndex()]);
  Dtype* dgates = this->MutableDiff(&gates_);
  Dtype* dc = this->MutableData(&dcell_);
  Dtype* dh_next = this->MutableData(&this->dh_recurrent_);
  // Caffe's final states feed nothing that carries a gradient: c_T and h_T start from zero.
  this->Set(NH, Dtype(0), dc);
  for (int t = T - 1; t >= 0; --t) {
    const bool last = t == T - 1;
    StepBackward(gpu, N, H, gates + t * NG, t == 0 ? c0 : c + (t - 1) * NH, c + t * NH,
                 dh_top + t * NH, last ? nullptr : dh_next, last ? nullptr : cont + (t + 1) * N, dc,
                 dgates + t * NG);
    if (t > 0) {
      this->Gemm(Trans::kNo, Trans::kNo, N, H, 4 * H, Dtype(1), dgates + t * NG, w_hc, Dtype(0),
                 dh_next);
    }
  }
  this->BackwardProjections(bottom, propagate_down, dgates, this->Data(this->hc_));
  this->ClearStateDiffs(propagate_down, bottom);
  if (this->DebugInfo()) {
    for (int t = T - 1; t >= 0; --t) {
      const std::string step = std::to_string(t + 1);
      LOG(INFO) << "    [Backward] Layer " << this->InnerName("unit_" + step)
                << ", bottom blob gate_input_" << step
                << " diff: " << this->MeanAbs(NG, dgates + t * NG);
    }
    if (propagate_down[0]) {
      LOG(INFO) << "    [Backward] Layer " << this->layer_param_.name() << ", bottom blob x diff: "
                << this->MeanAbs(bottom[0]->count(), this->Diff(*bottom[0]));
    }
    this->LogParams("Backward", true);
  }
}

MOKA_INSTANTIATE_CLASS(LSTMLayer);
MOKA_REGISTER_LAYER(LSTM);

}  // namespace moka
