#pragma once
#include <cmath>
#include <vector>

#include "layer.hpp"

#ifdef __CUDACC__
#define MOKA_LSTM_FN __host__ __device__ __forceinline__
#else
#define MOKA_LSTM_FN inline
#endif

namespace moka {

/// One time step of an LSTM's non-linearity, as Caffe's LSTMUnit. Bottoms: c_prev (1 x N x H),
/// the gate pre-activations x = [i', f', o', g'] (1 x N x 4H), cont (1 x N). Tops: c and h
/// (1 x N x H each):
///   i = sigmoid(i'), f = cont * sigmoid(f') (0 when cont is 0), o = sigmoid(o'), g = tanh(g'),
///   c = f .* c_prev + i .* g,   h = o .* tanh(c).
/// cont receives no gradient. tanh is computed as 2 sigmoid(2x) - 1, as Caffe does here.
template <typename Dtype>
class LSTMUnitLayer : public Layer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit LSTMUnitLayer(const LayerParameter& param) : Layer<Dtype>(param) {}
  const char* type() const override { return "LSTMUnit"; }
  int ExactNumBottomBlobs() const override { return 3; }
  int ExactNumTopBlobs() const override { return 2; }
  bool AllowForceBackward(int bottom_index) const override { return bottom_index != 2; }

  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

 protected:
  void Forward_cpu(const BlobVec& bottom, const BlobVec& top) override;
  void Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                    const BlobVec& bottom) override;
#ifdef MOKA_CUDA
  void Forward_gpu(const BlobVec& bottom, const BlobVec& top) override;
  void Backward_gpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                    const BlobVec& bottom) override;
#endif

 private:
  int hidden_ = 0;
};

// The cell arithmetic, shared by LSTMUnit and LSTM on both devices so that they cannot drift.
namespace lstm_math {

MOKA_LSTM_FN float Exp(float x) {
  return expf(x);
}
MOKA_LSTM_FN double Exp(double x) {
  return exp(x);
}

template <typename Dtype>
MOKA_LSTM_FN Dtype Sigmoid(Dtype x) {
  return Dtype(1) / (Dtype(1) + Exp(-x));
}

template <typename Dtype>
MOKA_LSTM_FN Dtype Tanh(Dtype x) {
  return Dtype(2) * Sigmoid(Dtype(2) * x) - Dtype(1);
}

/// Gate activations of one cell; f already carries the cont factor.
template <typename Dtype>
struct Gates {
  Dtype i, f, o, g;
};

template <typename Dtype>
MOKA_LSTM_FN Gates<Dtype> Activate(Dtype xi, Dtype xf, Dtype xo, Dtype xg, Dtype cont) {
  Gates<Dtype> a;
  a.i = Sigmoid(xi);
  a.f = cont == Dtype(0) ? Dtype(0) : cont * Sigmoid(xf);
  a.o = Sigmoid(xo);
  a.g = Tanh(xg);
  return a;
}

/// c = f c_prev + i g; returns h = o tanh(c).
template <typename Dtype>
MOKA_LSTM_FN Dtype CellForward(const Gates<Dtype>& a, Dtype c_prev, Dtype* c) {
  const Dtype cell = a.f * c_prev + a.i * a.g;
  *c = cell;
  return a.o * Tanh(cell);
}

/// Gradients of one cell from dc (of c, through later steps) and dh (of h).
template <typename Dtype>
struct CellGrad {
  Dtype c_prev, i, f, o, g;
};

template <typename Dtype>
MOKA_LSTM_FN CellGrad<Dtype> CellBackward(const Gates<Dtype>& a, Dtype c_prev, Dtype c, Dtype dc,
                                          Dtype dh) {
  const Dtype tanh_c = Tanh(c);
  const Dtype c_term = dc + dh * a.o * (Dtype(1) - tanh_c * tanh_c);
  CellGrad<Dtype> d;
  d.c_prev = c_term * a.f;
  d.i = c_term * a.g * a.i * (Dtype(1) - a.i);
  d.f = c_term * c_prev * a.f * (Dtype(1) - a.f);
  d.o = dh * tanh_c * a.o * (Dtype(1) - a.o);
  d.g = c_term * a.i * (Dtype(1) - a.g * a.g);
  return d;
}

/// One cell of an LSTM layer's step. `gates` points at the cell's i' (f', o', g' follow at
/// strides of H) and is overwritten with the activations i, f, o, g that the backward pass reads;
/// `extra` (the static input's share, laid out alike) is added last, as Caffe's sum does.
template <typename Dtype>
MOKA_LSTM_FN Dtype StepForward(int H, Dtype* gates, const Dtype* extra, Dtype c_prev, Dtype cont,
                               Dtype* c) {
  Dtype xi = gates[0], xf = gates[H], xo = gates[2 * H], xg = gates[3 * H];
  if (extra != nullptr) {
    xi += extra[0];
    xf += extra[H];
    xo += extra[2 * H];
    xg += extra[3 * H];
  }
  const Gates<Dtype> a = Activate(xi, xf, xo, xg, cont);
  gates[0] = a.i;
  gates[H] = a.f;
  gates[2 * H] = a.o;
  gates[3 * H] = a.g;
  return CellForward(a, c_prev, c);
}

/// The backward twin of StepForward: `dc` holds the gradient of c_t on entry and that of c_{t-1}
/// on return; the pre-activation gradients go to dgates (laid out as gates).
template <typename Dtype>
MOKA_LSTM_FN void StepBackward(int H, const Dtype* gates, Dtype c_prev, Dtype c, Dtype dh,
                               Dtype* dc, Dtype* dgates) {
  Gates<Dtype> a;
  a.i = gates[0];
  a.f = gates[H];
  a.o = gates[2 * H];
  a.g = gates[3 * H];
  const CellGrad<Dtype> d = CellBackward(a, c_prev, c, *dc, dh);
  *dc = d.c_prev;
  dgates[0] = d.i;
  dgates[H] = d.f;
  dgates[2 * H] = d.o;
  dgates[3 * H] = d.g;
}

/// One element of LSTMUnit's forward (index runs over N x H): reads the four gate inputs of its
/// unit from x (N x 4H) and writes c and h.
template <typename Dtype>
MOKA_LSTM_FN void UnitForwardAt(int index, int H, const Dtype* c_prev, const Dtype* x,
                                const Dtype* cont, Dtype* c, Dtype* h) {
  const int n = index / H;
  const Dtype* xn = x + n * 4 * H + index % H;
  const auto a = Activate(xn[0], xn[H], xn[2 * H], xn[3 * H], cont[n]);
  h[index] = CellForward(a, c_prev[index], &c[index]);
}

/// One element of LSTMUnit's backward; either gradient output may be null (not propagated).
template <typename Dtype>
MOKA_LSTM_FN void UnitBackwardAt(int index, int H, const Dtype* c_prev, const Dtype* x,
                                 const Dtype* cont, const Dtype* c, const Dtype* dc,
                                 const Dtype* dh, Dtype* c_prev_diff, Dtype* x_diff) {
  const int n = index / H;
  const int offset = n * 4 * H + index % H;
  const Dtype* xn = x + offset;
  const auto a = Activate(xn[0], xn[H], xn[2 * H], xn[3 * H], cont[n]);
  const auto d = CellBackward(a, c_prev[index], c[index], dc[index], dh[index]);
  if (c_prev_diff != nullptr) c_prev_diff[index] = d.c_prev;
  if (x_diff != nullptr) {
    Dtype* dx = x_diff + offset;
    dx[0] = d.i;
    dx[H] = d.f;
    dx[2 * H] = d.o;
    dx[3 * H] = d.g;
  }
}

}  // namespace lstm_math

}  // namespace moka
