#pragma once
// The parts that Caffe's recurrent layers (RNN, LSTM) share. Caffe builds an unrolled inner net of
// InnerProduct, Scale, Eltwise and LSTMUnit layers; moka computes the same thing directly: the
// input projection of all T time steps is one matrix product, then each step adds the recurrent
// product of its (cont-scaled) previous hidden state and applies the cell, and the backward pass
// runs the steps in reverse and forms the weight gradients with one product over the whole
// sequence. One driver serves both devices through the small dispatch helpers below.
#include <memory>
#include <string>
#include <vector>

#include "layer.hpp"
#include "math_functions.hpp"

namespace moka {

/// Bottoms: x (T x N x ...), cont (T x N; 0 starts a new sequence in that stream), optionally a
/// static input x_static (N x ...), and with expose_hidden the initial states (1 x N x H each).
/// Tops: the per-step output (T x N x H), and with expose_hidden the final states (1 x N x H).
/// Without expose_hidden, the final states of one Forward are the initial states of the next (as
/// in Caffe: sequences continue across batches until cont says otherwise). As in Caffe, the
/// exposed initial states receive no gradient and the gradient of the exposed final states is
/// ignored; cont receives none.
template <typename Dtype>
class RecurrentLayer : public Layer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit RecurrentLayer(const LayerParameter& param) : Layer<Dtype>(param) {}

  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;
  /// Forgets the state carried between Forward calls (it restarts from zeros).
  void Reset();

  std::string engine() const override {
    return this->context_ != nullptr && this->context_->on_gpu() ? "cublas" : "blas";
  }
  int MinBottomBlobs() const override { return 2 + (ExposeHidden() ? NumStates() : 0); }
  int MaxBottomBlobs() const override { return MinBottomBlobs() + 1; }
  int ExactNumTopBlobs() const override { return 1 + (ExposeHidden() ? NumStates() : 0); }
  bool AllowForceBackward(int bottom_index) const override { return bottom_index != 1; }

 protected:
  struct ParamInfo {
    std::string name;  // Caffe's name for the blob in the unrolled net (W_xc, b_c, ...)
    std::vector<int> shape;
    bool is_bias;
  };

  /// Recurrent state blobs: 1 (h) for RNN, 2 (h, c) for LSTM.
  virtual int NumStates() const = 0;
  /// Width of the per-step pre-activations: H for RNN, 4H for LSTM.
  virtual int GateWidth() const = 0;
  /// The parameter blobs in Caffe's order, from H_, I_ and S_.
  virtual std::vector<ParamInfo> ParamLayout() const = 0;
  /// Sizes the subclass's buffers from T_, N_ and H_.
  virtual void ReshapeBuffers() = 0;

  bool ExposeHidden() const { return this->layer_param_.recurrent_param().expose_hidden(); }
  bool DebugInfo() const { return this->layer_param_.recurrent_param().debug_info(); }
  /// Index of the bottom holding initial state k (expose_hidden only).
  int StateBottom(int k) const { return 2 + (static_input_ ? 1 : 0) + k; }
  /// Index of the recurrent weight blob (W_hc / W_hh): after W_x, b and the static weights.
  int RecurrentWeightIndex() const { return static_input_ ? 3 : 2; }

  /// Where Forward reads initial state k: the exposed bottom, or the state carried over.
  const Dtype* InitialState(const BlobVec& bottom, int k) const;
  /// Makes the carried state of the previous Forward the initial state of this one.
  void AdvanceCarriedState();
  /// Records final state k (N x H at `final_state`): into the exposed top, or carried over.
  void StoreFinalState(const BlobVec& top, int k, const Dtype* final_state);

  /// gates (T*N x G) = x W_x^T + b, and, with a static input, static_gates_ (N x G) = x_static
  /// W_static^T: the projections Caffe's x_transform and x_static_transform compute.
  void ProjectInputs(const BlobVec& bottom, Dtype* gates);
  /// hc_t = cont_t * h_{t-1}, then gates_t += hc_t W_h^T.
  void AddRecurrentProduct(int t, const Dtype* cont, const Dtype* h_prev, Dtype* hc_t,
                           Dtype* gates_t);
  /// Given d gates (T*N x G), the gradients of W_x, b, W_static, W_h and of x and x_static.
  void BackwardProjections(const BlobVec& bottom, const std::vector<bool>& propagate_down,
                           const Dtype* dgates, const Dtype* hc);
  /// Zeroes the diffs of the exposed initial states that were asked for (Caffe gives them none).
  void ClearStateDiffs(const std::vector<bool>& propagate_down, const BlobVec& bottom);

  // Device dispatch: each runs on the device of the layer's context.
  bool OnGpu() const { return this->context().on_gpu(); }
  const Dtype* Data(const Blob<Dtype>& blob) const;
  const Dtype* Diff(const Blob<Dtype>& blob) const;
  Dtype* MutableData(Blob<Dtype>* blob) const;
  Dtype* MutableDiff(Blob<Dtype>* blob) const;
  void Gemm(Trans trans_a, Trans trans_b, int M, int N, int K, Dtype alpha, const Dtype* A,
            const Dtype* B, Dtype beta, Dtype* C) const;
  void Gemv(Trans trans_a, int M, int N, Dtype alpha, const Dtype* A, const Dtype* x, Dtype beta,
            Dtype* y) const;
  void Copy(int n, const Dtype* x, Dtype* y) const;
  void Set(int n, Dtype value, Dtype* y) const;
  /// y[n, :] = cont[n] * x[n, :] for `streams` rows of `width`.
  void ScaleRows(int streams, int width, const Dtype* cont, const Dtype* x, Dtype* y) const;
  /// Mean absolute value of n elements (for debug_info lines).
  Dtype MeanAbs(int n, const Dtype* x) const;

  /// "name_suffix" as Caffe names the layers of the unrolled net ("suffix" for unnamed layers).
  std::string InnerName(const std::string& suffix) const;
  void LogParams(const char* pass, bool diff) const;

  int T_ = 0;  // time steps
  int N_ = 0;  // independent streams
  int H_ = 0;  // num_output
  int I_ = 0;  // input features per step
  int S_ = 0;  // static input features
  bool static_input_ = false;

  /// x_static W_static^T (N x G); its diff collects the gates' gradient summed over time.
  Blob<Dtype> static_gates_;
  /// cont-scaled previous hidden states, one per step (T x N x H): the recurrent product's input.
  Blob<Dtype> hc_;
  /// d(W_h hc_t) / d h_{t-1} before the cont scaling (N x H).
  Blob<Dtype> dh_recurrent_;
  Blob<Dtype> ones_tn_;  // T*N ones: the bias as a rank-1 product
  Blob<Dtype> ones_t_;   // T ones: sums over time

 private:
  void CheckParamBlobs();
  /// Carried states: the initial states of this Forward, and the final ones it produced.
  std::vector<std::shared_ptr<Blob<Dtype>>> state_in_;
  std::vector<std::shared_ptr<Blob<Dtype>>> state_out_;
};

#ifdef MOKA_CUDA
namespace recurrent_gpu {
template <typename Dtype>
void ScaleRows(int streams, int width, const Dtype* cont, const Dtype* x, Dtype* y);
}  // namespace recurrent_gpu
#endif

}  // namespace moka
