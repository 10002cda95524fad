#include "layers/recurrent.hpp"

#include <glog/logging.h>

#include <utility>

#include "filler.hpp"
#ifdef MOKA_CUDA
#include "gpu_resources.hpp"
#include "math_functions_gpu.hpp"
#endif

namespace moka {

template <typename Dtype>
void RecurrentLayer<Dtype>::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  const RecurrentParameter& param = this->layer_param_.recurrent_param();
  H_ = static_cast<int>(param.num_output());
  MOKA_CHECK(H_ > 0, ConfigError, "recurrent_param.num_output must be positive");
  const Blob<Dtype>& x = *bottom[0];
  MOKA_CHECK(x.num_axes() >= 3, ShapeError,
             "x must have at least 3 axes (T x N x features), got " << x.shape_string());
  T_ = x.shape(0);
  N_ = x.shape(1);
  I_ = x.count(2);
  const int exposed = ExposeHidden() ? NumStates() : 0;
  static_input_ = static_cast<int>(bottom.size()) > 2 + exposed;
  if (static_input_) {
    const Blob<Dtype>& x_static = *bottom[2];
    MOKA_CHECK(
        x_static.num_axes() >= 2, ShapeError,
        "x_static must have at least 2 axes (N x features), got " << x_static.shape_string());
    S_ = x_static.count(1);
  }
  CheckParamBlobs();
  this->param_propagate_down_.assign(this->blobs_.size(), true);
}

template <typename Dtype>
void RecurrentLayer<Dtype>::CheckParamBlobs() {
  const std::vector<ParamInfo> layout = ParamLayout();
  const RecurrentParameter& param = this->layer_param_.recurrent_param();
  if (this->blobs_.empty()) {
    for (const ParamInfo& info : layout) {
      this->blobs_.push_back(std::make_shared<Blob<Dtype>>(info.shape));
      Fill(info.is_bias ? param.bias_filler() : param.weight_filler(), this->context().rng(),
           this->blobs_.back().get());
    }
    return;
  }
  MOKA_CHECK(this->blobs_.size() == layout.size(), ConfigError,
             "has " << this->blobs_.size() << " parameter blob(s), expected " << layout.size()
                    << (static_input_ ? " (with a static input)" : " (without a static input)"));
  for (size_t i = 0; i < layout.size(); ++i) {
    Blob<Dtype>& blob = *this->blobs_[i];
    if (blob.shape() == layout[i].shape) continue;
    // Legacy 4-D blobs hold the same values under a padded shape.
    int expected_count = 1;
    for (int dim : layout[i].shape) expected_count *= dim;
    MOKA_CHECK(blob.count() == expected_count, ShapeError,
               "parameter blob " << i << " (" << layout[i].name << ") has shape "
                                 << blob.shape_string() << ", expected "
                                 << ShapeString(layout[i].shape));
    blob.Reshape(layout[i].shape);
  }
}

template <typename Dtype>
void RecurrentLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  const Blob<Dtype>& x = *bottom[0];
  MOKA_CHECK(x.num_axes() >= 3, ShapeError,
             "x must have at least 3 axes (T x N x features), got " << x.shape_string());
  const int T = x.shape(0);
  const int N = x.shape(1);
  MOKA_CHECK(T > 0, ShapeError, "x must hold at least one time step, got " << x.shape_string());
  MOKA_CHECK(x.count(2) == I_, ShapeError,
             "x has shape " << x.shape_string() << ", " << x.count(2)
                            << " features per step; the weights expect " << I_);
  const Blob<Dtype>& cont = *bottom[1];
  MOKA_CHECK(cont.num_axes() == 2 && cont.shape(0) == T && cont.shape(1) == N, ShapeError,
             "cont must be T x N = " << T << " x " << N << " (as x), got " << cont.shape_string());
  if (static_input_) {
    const Blob<Dtype>& x_static = *bottom[2];
    MOKA_CHECK(x_static.num_axes() >= 2 && x_static.shape(0) == N && x_static.count(1) == S_,
               ShapeError,
               "x_static must be N x ... = " << N << " x (" << S_ << " features), got "
                                             << x_static.shape_string());
  }
  const std::vector<int> state_shape = {1, N, H_};
  if (ExposeHidden()) {
    for (int k = 0; k < NumStates(); ++k) {
      const Blob<Dtype>& state = *bottom[StateBottom(k)];
      MOKA_CHECK(state.shape() == state_shape, ShapeError,
                 "bottom " << StateBottom(k) << " (initial state) must be "
                           << ShapeString(state_shape) << ", got " << state.shape_string());
    }
  } else if (state_in_.empty() || N != N_) {
    // A new number of streams cannot continue the old ones: start from zeros.
    state_in_.clear();
    state_out_.clear();
    for (int k = 0; k < NumStates(); ++k) {
      state_in_.push_back(std::make_shared<Blob<Dtype>>(state_shape));
      state_out_.push_back(std::make_shared<Blob<Dtype>>(state_shape));
      state_in_.back()->set_data(Dtype(0));
      state_out_.back()->set_data(Dtype(0));
    }
  }
  T_ = T;
  N_ = N;
  top[0]->Reshape({T_, N_, H_});
  for (int k = 1; k < static_cast<int>(top.size()); ++k) top[k]->Reshape(state_shape);
  static_gates_.Reshape({N_, GateWidth()});
  hc_.Reshape({T_, N_, H_});
  dh_recurrent_.Reshape({N_, H_});
  if (ones_tn_.count() != T_ * N_) {
    ones_tn_.Reshape({T_ * N_});
    ones_tn_.set_data(Dtype(1));
  }
  if (ones_t_.count() != T_) {
    ones_t_.Reshape({T_});
    ones_t_.set_data(Dtype(1));
  }
  ReshapeBuffers();
}

template <typename Dtype>
void RecurrentLayer<Dtype>::Reset() {
  for (auto& blob : state_in_) blob->set_data(Dtype(0));
  for (auto& blob : state_out_) blob->set_data(Dtype(0));
}

template <typename Dtype>
const Dtype* RecurrentLayer<Dtype>::InitialState(const BlobVec& bottom, int k) const {
  return ExposeHidden() ? Data(*bottom[StateBottom(k)]) : Data(*state_in_[k]);
}

template <typename Dtype>
void RecurrentLayer<Dtype>::AdvanceCarriedState() {
  if (!ExposeHidden()) std::swap(state_in_, state_out_);
}

template <typename Dtype>
void RecurrentLayer<Dtype>::StoreFinalState(const BlobVec& top, int k, const Dtype* final_state) {
  Blob<Dtype>* target = ExposeHidden() ? top[1 + k] : state_out_[k].get();
  Copy(N_ * H_, final_state, MutableData(target));
}

template <typename Dtype>
void RecurrentLayer<Dtype>::ProjectInputs(const BlobVec& bottom, Dtype* gates) {
  const int G = GateWidth();
  Gemm(Trans::kNo, Trans::kYes, T_ * N_, G, I_, Dtype(1), Data(*bottom[0]), Data(*this->blobs_[0]),
       Dtype(0), gates);
  Gemm(Trans::kNo, Trans::kNo, T_ * N_, G, 1, Dtype(1), Data(ones_tn_), Data(*this->blobs_[1]),
       Dtype(1), gates);
  if (static_input_) {
    Gemm(Trans::kNo, Trans::kYes, N_, G, S_, Dtype(1), Data(*bottom[2]), Data(*this->blobs_[2]),
         Dtype(0), MutableData(&static_gates_));
  }
}

template <typename Dtype>
void RecurrentLayer<Dtype>::AddRecurrentProduct(int t, const Dtype* cont, const Dtype* h_prev,
                                                Dtype* hc_t, Dtype* gates_t) {
  ScaleRows(N_, H_, cont + t * N_, h_prev, hc_t);
  Gemm(Trans::kNo, Trans::kYes, N_, GateWidth(), H_, Dtype(1), hc_t,
       Data(*this->blobs_[RecurrentWeightIndex()]), Dtype(1), gates_t);
}

template <typename Dtype>
void RecurrentLayer<Dtype>::BackwardProjections(const BlobVec& bottom,
                                                const std::vector<bool>& propagate_down,
                                                const Dtype* dgates, const Dtype* hc) {
  const int G = GateWidth();
  const int TN = T_ * N_;
  auto& blobs = this->blobs_;
  if (this->param_propagate_down(0)) {
    Gemm(Trans::kYes, Trans::kNo, G, I_, TN, Dtype(1), dgates, Data(*bottom[0]), Dtype(1),
         MutableDiff(blobs[0].get()));
  }
  if (this->param_propagate_down(1)) {
    Gemv(Trans::kYes, TN, G, Dtype(1), dgates, Data(ones_tn_), Dtype(1),
         MutableDiff(blobs[1].get()));
  }
  const int r = RecurrentWeightIndex();
  if (this->param_propagate_down(r)) {
    Gemm(Trans::kYes, Trans::kNo, G, H_, TN, Dtype(1), dgates, hc, Dtype(1),
         MutableDiff(blobs[r].get()));
  }
  if (propagate_down[0]) {
    Gemm(Trans::kNo, Trans::kNo, TN, I_, G, Dtype(1), dgates, Data(*blobs[0]), Dtype(0),
         MutableDiff(bottom[0]));
  }
  const bool static_param = static_input_ && this->param_propagate_down(2);
  const bool static_bottom = static_input_ && propagate_down[2];
  if (static_param || static_bottom) {
    // The static projection feeds every step: its gradient is the gates' summed over time.
    Dtype* summed = MutableDiff(&static_gates_);
    Gemv(Trans::kYes, T_, N_ * G, Dtype(1), dgates, Data(ones_t_), Dtype(0), summed);
    if (static_param) {
      Gemm(Trans::kYes, Trans::kNo, G, S_, N_, Dtype(1), summed, Data(*bottom[2]), Dtype(1),
           MutableDiff(blobs[2].get()));
    }
    if (static_bottom) {
      Gemm(Trans::kNo, Trans::kNo, N_, S_, G, Dtype(1), summed, Data(*blobs[2]), Dtype(0),
           MutableDiff(bottom[2]));
    }
  }
}

template <typename Dtype>
void RecurrentLayer<Dtype>::ClearStateDiffs(const std::vector<bool>& propagate_down,
                                            const BlobVec& bottom) {
  if (propagate_down[1]) Set(bottom[1]->count(), Dtype(0), MutableDiff(bottom[1]));
  if (!ExposeHidden()) return;
  for (int k = 0; k < NumStates(); ++k) {
    const int index = StateBottom(k);
    if (propagate_down[index]) Set(bottom[index]->count(), Dtype(0), MutableDiff(bottom[index]));
  }
}

template <typename Dtype>
const Dtype* RecurrentLayer<Dtype>::Data(const Blob<Dtype>& blob) const {
#ifdef MOKA_CUDA
  if (OnGpu()) return blob.gpu_data();
#endif
  return blob.cpu_data();
}

template <typename Dtype>
const Dtype* RecurrentLayer<Dtype>::Diff(const Blob<Dtype>& blob) const {
#ifdef MOKA_CUDA
  if (OnGpu()) return blob.gpu_diff();
#endif
  return blob.cpu_diff();
}

template <typename Dtype>
Dtype* RecurrentLayer<Dtype>::MutableData(Blob<Dtype>* blob) const {
#ifdef MOKA_CUDA
  if (OnGpu()) return blob->mutable_gpu_data();
#endif
  return blob->mutable_cpu_data();
}

template <typename Dtype>
Dtype* RecurrentLayer<Dtype>::MutableDiff(Blob<Dtype>* blob) const {
#ifdef MOKA_CUDA
  if (OnGpu()) return blob->mutable_gpu_diff();
#endif
  return blob->mutable_cpu_diff();
}

template <typename Dtype>
void RecurrentLayer<Dtype>::Gemm(Trans trans_a, Trans trans_b, int M, int N, int K, Dtype alpha,
                                 const Dtype* A, const Dtype* B, Dtype beta, Dtype* C) const {
#ifdef MOKA_CUDA
  if (OnGpu()) {
    gpu_gemm<Dtype>(this->context().gpu(), trans_a, trans_b, M, N, K, alpha, A, B, beta, C);
    return;
  }
#endif
  cpu_gemm<Dtype>(trans_a, trans_b, M, N, K, alpha, A, B, beta, C);
}

template <typename Dtype>
void RecurrentLayer<Dtype>::Gemv(Trans trans_a, int M, int N, Dtype alpha, const Dtype* A,
                                 const Dtype* x, Dtype beta, Dtype* y) const {
#ifdef MOKA_CUDA
  if (OnGpu()) {
    gpu_gemv<Dtype>(this->context().gpu(), trans_a, M, N, alpha, A, x, beta, y);
    return;
  }
#endif
  cpu_gemv<Dtype>(trans_a, M, N, alpha, A, x, beta, y);
}

template <typename Dtype>
void RecurrentLayer<Dtype>::Copy(int n, const Dtype* x, Dtype* y) const {
#ifdef MOKA_CUDA
  if (OnGpu()) {
    gpu_copy<Dtype>(n, x, y);
    return;
  }
#endif
  cpu_copy<Dtype>(n, x, y);
}

template <typename Dtype>
void RecurrentLayer<Dtype>::Set(int n, Dtype value, Dtype* y) const {
#ifdef MOKA_CUDA
  if (OnGpu()) {
    gpu_set<Dtype>(n, value, y);
    return;
  }
#endif
  cpu_set<Dtype>(n, value, y);
}

template <typename Dtype>
void RecurrentLayer<Dtype>::ScaleRows(int streams, int width, const Dtype* cont, const Dtype* x,
                                      Dtype* y) const {
#ifdef MOKA_CUDA
  if (OnGpu()) {
    recurrent_gpu::ScaleRows<Dtype>(streams, width, cont, x, y);
    return;
  }
#endif
  for (int n = 0; n < streams; ++n) {
    const Dtype scale = cont[n];
    for (int d = 0; d < width; ++d) y[n * width + d] = scale * x[n * width + d];
  }
}

template <typename Dtype>
Dtype RecurrentLayer<Dtype>::MeanAbs(int n, const Dtype* x) const {
  if (n == 0) return Dtype(0);
#ifdef MOKA_CUDA
  if (OnGpu()) return gpu_asum<Dtype>(n, x) / n;
#endif
  return cpu_asum<Dtype>(n, x) / n;
}

template <typename Dtype>
std::string RecurrentLayer<Dtype>::InnerName(const std::string& suffix) const {
  const std::string& name = this->layer_param_.name();
  return name.empty() ? suffix : name + "_" + suffix;
}

template <typename Dtype>
void RecurrentLayer<Dtype>::LogParams(const char* pass, bool diff) const {
  const std::vector<ParamInfo> layout = ParamLayout();
  for (size_t i = 0; i < this->blobs_.size(); ++i) {
    const Blob<Dtype>& blob = *this->blobs_[i];
    LOG(INFO) << "    [" << pass << "] Layer " << this->layer_param_.name() << ", param blob " << i
              << " (" << layout[i].name << ") " << (diff ? "diff" : "data") << ": "
              << MeanAbs(blob.count(), diff ? Diff(blob) : Data(blob));
  }
}

MOKA_INSTANTIATE_CLASS(RecurrentLayer);

}  // namespace moka
