#include <glog/logging.h>

#include <algorithm>
#include <string>
#include <vector>

#include "cuda_check.hpp"
#include "gpu_resources.hpp"
#include "im2col_gpu.hpp"
#include "layers/convolution.hpp"
#include "math_functions_gpu.hpp"

namespace moka {
namespace {

#ifdef MOKA_CUDNN
// cuDNN may use up to this much scratch memory per convolution (the workspace is shared by all
// layers of a context, so this bounds it too), and at most a quarter of the free memory.
constexpr size_t kCudnnWorkspaceLimit = size_t(256) << 20;

template <typename Dtype>
cudnnDataType_t CudnnType();
template <>
cudnnDataType_t CudnnType<float>() { return CUDNN_DATA_FLOAT; }
template <>
cudnnDataType_t CudnnType<double>() { return CUDNN_DATA_DOUBLE; }

const char* FwdAlgoName(cudnnConvolutionFwdAlgo_t algo) {
  switch (algo) {
    case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM: return "implicit_gemm";
    case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM: return "implicit_precomp_gemm";
    case CUDNN_CONVOLUTION_FWD_ALGO_GEMM: return "gemm";
    case CUDNN_CONVOLUTION_FWD_ALGO_DIRECT: return "direct";
    case CUDNN_CONVOLUTION_FWD_ALGO_FFT: return "fft";
    case CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING: return "fft_tiling";
    case CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD: return "winograd";
    case CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED: return "winograd_nonfused";
    default: return "unknown";
  }
}

const char* BwdDataAlgoName(cudnnConvolutionBwdDataAlgo_t algo) {
  switch (algo) {
    case CUDNN_CONVOLUTION_BWD_DATA_ALGO_0: return "algo_0";
    case CUDNN_CONVOLUTION_BWD_DATA_ALGO_1: return "algo_1";
    case CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT: return "fft";
    case CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING: return "fft_tiling";
    case CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD: return "winograd";
    case CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED: return "winograd_nonfused";
    default: return "unknown";
  }
}

const char* BwdFilterAlgoName(cudnnConvolutionBwdFilterAlgo_t algo) {
  switch (algo) {
    case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0: return "algo_0";
    case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1: return "algo_1";
    case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT: return "fft";
    case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3: return "algo_3";
    case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED: return "winograd_nonfused";
    case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT_TILING: return "fft_tiling";
    default: return "unknown";
  }
}

// The algorithm families that compute the same sums of products as the CPU, in another order
// (GEMM-like and direct). FFT and Winograd transform the data and lose precision (in float, errors
// around 1e-5 relative against 1e-7), and which of them a run measures as fastest varies, so the
// results of one net would vary from run to run. moka uses only the precise families: each
// operation stays within float rounding of the CPU's, and a run is reproducible.
bool Precise(cudnnConvolutionFwdAlgo_t algo) {
  return algo == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM ||
         algo == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM ||
         algo == CUDNN_CONVOLUTION_FWD_ALGO_GEMM || algo == CUDNN_CONVOLUTION_FWD_ALGO_DIRECT;
}
bool Precise(cudnnConvolutionBwdDataAlgo_t algo) {
  return algo == CUDNN_CONVOLUTION_BWD_DATA_ALGO_0 || algo == CUDNN_CONVOLUTION_BWD_DATA_ALGO_1;
}
bool Precise(cudnnConvolutionBwdFilterAlgo_t algo) {
  return algo == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0 ||
         algo == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1 || algo == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3;
}

/// Index of the measured algorithm to use: the fastest deterministic one that succeeded within the
/// workspace limit, in a precise family, without tensor-core (TF32) math; else the fastest such
/// non-deterministic one; -1 if none qualifies. The results come sorted by time.
template <typename Perf>
int ChooseAlgorithm(const Perf* perf, int count, size_t limit) {
  int any = -1;
  for (int i = 0; i < count; ++i) {
    if (perf[i].status != CUDNN_STATUS_SUCCESS || perf[i].memory > limit) continue;
    if (!Precise(perf[i].algo)) continue;
    if (perf[i].mathType == CUDNN_TENSOR_OP_MATH ||
        perf[i].mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION) {
      continue;
    }
    if (perf[i].determinism == CUDNN_DETERMINISTIC) return i;
    if (any < 0) any = i;
  }
  return any;
}

/// A temporary device buffer for measuring algorithms.
class ScratchBuffer {
 public:
  explicit ScratchBuffer(size_t bytes) : ptr_(AllocateDeviceMemory(bytes)) {
    ZeroDeviceMemory(ptr_, bytes);
  }
  ~ScratchBuffer() { FreeDeviceMemory(ptr_); }
  MOKA_DISABLE_COPY(ScratchBuffer);
  void* get() const { return ptr_; }

 private:
  void* ptr_;
};

/// Packed (row-major) strides of a shape.
std::vector<int> PackedStrides(const std::vector<int>& dims) {
  std::vector<int> strides(dims.size(), 1);
  for (int i = static_cast<int>(dims.size()) - 2; i >= 0; --i) strides[i] = strides[i + 1] * dims[i + 1];
  return strides;
}
#endif  // MOKA_CUDNN

}  // namespace

template <typename Dtype>
struct ConvolutionLayer<Dtype>::GpuState {
  ~GpuState() { DestroyDescriptors(); }

  /// The bottom shape the state below was prepared for.
  std::vector<int> prepared_shape;
  bool use_cudnn = false;
  std::string engine = "im2col+cublas";
  /// The last reason cuDNN was not used, logged once per change.
  std::string fallback_reason;

  // im2col + cuBLAS.
  ConvGeometryGpu geometry;
  Blob<Dtype> col;
  Blob<Dtype> ones;

#ifdef MOKA_CUDNN
  void DestroyDescriptors() noexcept {
    if (x_desc) cudnnDestroyTensorDescriptor(x_desc);
    if (y_desc) cudnnDestroyTensorDescriptor(y_desc);
    if (bias_desc) cudnnDestroyTensorDescriptor(bias_desc);
    if (w_desc) cudnnDestroyFilterDescriptor(w_desc);
    if (conv_desc) cudnnDestroyConvolutionDescriptor(conv_desc);
    x_desc = y_desc = bias_desc = nullptr;
    w_desc = nullptr;
    conv_desc = nullptr;
  }

  cudnnTensorDescriptor_t x_desc = nullptr;
  cudnnTensorDescriptor_t y_desc = nullptr;
  cudnnTensorDescriptor_t bias_desc = nullptr;
  cudnnFilterDescriptor_t w_desc = nullptr;
  cudnnConvolutionDescriptor_t conv_desc = nullptr;
  cudnnConvolutionFwdAlgo_t fwd_algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
  cudnnConvolutionBwdDataAlgo_t bwd_data_algo = CUDNN_CONVOLUTION_BWD_DATA_ALGO_0;
  cudnnConvolutionBwdFilterAlgo_t bwd_filter_algo = CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0;
  size_t workspace_bytes = 0;
#else
  void DestroyDescriptors() noexcept {}
#endif
};

template <typename Dtype>
std::string ConvolutionLayer<Dtype>::engine() const {
  if (this->context_ == nullptr || !this->context_->on_gpu()) {
    return BaseConvolutionLayer<Dtype>::engine();
  }
  return gpu_state_ ? gpu_state_->engine : std::string("gpu (engine chosen at the first forward)");
}

// Chooses the engine for the bottom's shape (measuring cuDNN's algorithms once per shape) and sets
// up what it needs.
template <typename Dtype>
void ConvolutionLayer<Dtype>::PrepareGpu(const BlobVec& bottom) {
  if (!gpu_state_) gpu_state_ = std::make_shared<GpuState>();
  GpuState& state = *gpu_state_;
  if (state.prepared_shape == bottom[0]->shape()) return;
  state.prepared_shape.clear();
  state.DestroyDescriptors();
  state.use_cudnn = false;
  state.engine = "im2col+cublas";

  const int axes = this->num_spatial_axes_;
  MOKA_CHECK(axes <= kMaxConvAxesGpu, ConfigError,
             "the GPU convolution handles at most " << kMaxConvAxesGpu << " spatial axes, got "
                                                    << axes);
  ConvGeometryGpu& g = state.geometry;
  g = ConvGeometryGpu();
  g.num_axes = axes;
  g.channels = this->channels_;
  for (int a = 0; a < axes; ++a) {
    g.im_shape[a] = this->input_shape(a);
    g.col_shape[a] = this->output_shape_[a];
    g.kernel[a] = this->kernel_shape_[a];
    g.pad[a] = this->pad_[a];
    g.stride[a] = this->stride_[a];
    g.dilation[a] = this->dilation_[a];
  }

  const ConvolutionParameter::Engine requested =
      this->layer_param_.convolution_param().engine();
  std::string reason;
  if (requested == ConvolutionParameter::CAFFE) {
    reason = "engine: CAFFE was requested";
  }
#ifndef MOKA_CUDNN
  if (reason.empty()) reason = "this moka was built without cuDNN";
#else
  if (reason.empty() && axes > 3) {
    reason = "cuDNN convolves 1 to 3 spatial axes, this layer has " + std::to_string(axes);
  }
  for (int a = 0; a < axes && reason.empty(); ++a) {
    const int extent = g.dilation[a] * (g.kernel[a] - 1) + 1;
    if (g.im_shape[a] + 2 * g.pad[a] < extent) {
      reason = "on spatial axis " + std::to_string(a) + " the padded input (" +
               std::to_string(g.im_shape[a] + 2 * g.pad[a]) + ") is shorter than the kernel "
               "extent (" + std::to_string(extent) + "), where Caffe still computes one output";
    }
  }
  if (reason.empty()) {
    try {
      GpuResources& gpu = this->context().gpu();
      const cudnnDataType_t type = CudnnType<Dtype>();
      // cuDNN wants at least two spatial axes: a 1-D convolution becomes 1 x W.
      const int lead = axes == 1 ? 1 : 0;
      std::vector<int> x_dims = {this->num_, this->channels_};
      std::vector<int> y_dims = {this->num_, this->num_output_};
      std::vector<int> w_dims = {this->num_output_, this->channels_ / this->group_};
      std::vector<int> pads, strides, dilations;
      std::vector<int> bias_dims = {1, this->num_output_};
      if (lead) {
        x_dims.push_back(1);
        y_dims.push_back(1);
        w_dims.push_back(1);
        pads.push_back(0);
        strides.push_back(1);
        dilations.push_back(1);
        bias_dims.push_back(1);
      }
      for (int a = 0; a < axes; ++a) {
        x_dims.push_back(g.im_shape[a]);
        y_dims.push_back(g.col_shape[a]);
        w_dims.push_back(g.kernel[a]);
        pads.push_back(g.pad[a]);
        strides.push_back(g.stride[a]);
        dilations.push_back(g.dilation[a]);
        bias_dims.push_back(1);
      }
      const int nb_dims = static_cast<int>(x_dims.size());
      MOKA_CUDNN_CHECK(cudnnCreateTensorDescriptor(&state.x_desc));
      MOKA_CUDNN_CHECK(cudnnCreateTensorDescriptor(&state.y_desc));
      MOKA_CUDNN_CHECK(cudnnCreateTensorDescriptor(&state.bias_desc));
      MOKA_CUDNN_CHECK(cudnnCreateFilterDescriptor(&state.w_desc));
      MOKA_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&state.conv_desc));
      MOKA_CUDNN_CHECK(cudnnSetTensorNdDescriptor(state.x_desc, type, nb_dims, x_dims.data(),
                                                  PackedStrides(x_dims).data()));
      MOKA_CUDNN_CHECK(cudnnSetTensorNdDescriptor(state.y_desc, type, nb_dims, y_dims.data(),
                                                  PackedStrides(y_dims).data()));
      MOKA_CUDNN_CHECK(cudnnSetTensorNdDescriptor(state.bias_desc, type, nb_dims,
                                                  bias_dims.data(),
                                                  PackedStrides(bias_dims).data()));
      MOKA_CUDNN_CHECK(cudnnSetFilterNdDescriptor(state.w_desc, type, CUDNN_TENSOR_NCHW, nb_dims,
                                                  w_dims.data()));
      MOKA_CUDNN_CHECK(cudnnSetConvolutionNdDescriptor(
          state.conv_desc, nb_dims - 2, pads.data(), strides.data(), dilations.data(),
          CUDNN_CROSS_CORRELATION, type));
      MOKA_CUDNN_CHECK(cudnnSetConvolutionGroupCount(state.conv_desc, this->group_));
      // Plain FMA arithmetic, never TF32 tensor cores: results then agree with the CPU's to float
      // rounding, as Caffe's do.
      MOKA_CUDNN_CHECK(cudnnSetConvolutionMathType(state.conv_desc, CUDNN_FMA_MATH));

      std::vector<int> cudnn_out(nb_dims);
      MOKA_CUDNN_CHECK(cudnnGetConvolutionNdForwardOutputDim(state.conv_desc, state.x_desc,
                                                             state.w_desc, nb_dims,
                                                             cudnn_out.data()));
      if (cudnn_out != y_dims) {
        reason = "cuDNN's output shape differs from Caffe's for this input (Caffe's output size "
                 "rounds toward zero when the input is shorter than the kernel extent)";
      }

      if (reason.empty()) {
        size_t free_bytes = 0, total_bytes = 0;
        MOKA_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
        const size_t limit = std::min(kCudnnWorkspaceLimit, free_bytes / 4);
        void* workspace = gpu.Workspace(limit);
        const Dtype* x = bottom[0]->gpu_data();
        const Dtype* w = this->blobs_[0]->gpu_data();
        // The measurement writes its outputs: scratch buffers keep the layer's blobs (the
        // accumulating weight diff above all) untouched.
        const size_t y_bytes = sizeof(Dtype) * static_cast<size_t>(this->num_) * this->top_dim_;
        const size_t x_bytes = sizeof(Dtype) * static_cast<size_t>(this->num_) * this->bottom_dim_;
        const size_t w_bytes = sizeof(Dtype) * static_cast<size_t>(this->blobs_[0]->count());
        ScratchBuffer y_scratch(y_bytes);
        ScratchBuffer dx_scratch(x_bytes);
        ScratchBuffer dw_scratch(w_bytes);

        cudnnConvolutionFwdAlgoPerf_t fwd[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
        cudnnConvolutionBwdDataAlgoPerf_t bwd_data[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
        cudnnConvolutionBwdFilterAlgoPerf_t bwd_filter[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
        int fwd_count = 0, bwd_data_count = 0, bwd_filter_count = 0;
        MOKA_CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithmEx(
            gpu.cudnn(), state.x_desc, x, state.w_desc, w, state.conv_desc, state.y_desc,
            y_scratch.get(), CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &fwd_count, fwd, workspace, limit));
        MOKA_CUDNN_CHECK(cudnnFindConvolutionBackwardDataAlgorithmEx(
            gpu.cudnn(), state.w_desc, w, state.y_desc, y_scratch.get(), state.conv_desc,
            state.x_desc, dx_scratch.get(), CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &bwd_data_count,
            bwd_data, workspace, limit));
        MOKA_CUDNN_CHECK(cudnnFindConvolutionBackwardFilterAlgorithmEx(
            gpu.cudnn(), state.x_desc, x, state.y_desc, y_scratch.get(), state.conv_desc,
            state.w_desc, dw_scratch.get(), CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT,
            &bwd_filter_count, bwd_filter, workspace, limit));
        const int f = ChooseAlgorithm(fwd, fwd_count, limit);
        const int d = ChooseAlgorithm(bwd_data, bwd_data_count, limit);
        const int b = ChooseAlgorithm(bwd_filter, bwd_filter_count, limit);
        if (f < 0 || d < 0 || b < 0) {
          reason = "no cuDNN algorithm runs this convolution within " +
                   std::to_string(limit >> 20) + " MiB of workspace with a precise (GEMM-like or direct) algorithm and no TF32";
        } else {
          state.fwd_algo = fwd[f].algo;
          state.bwd_data_algo = bwd_data[d].algo;
          state.bwd_filter_algo = bwd_filter[b].algo;
          state.workspace_bytes =
              std::max({fwd[f].memory, bwd_data[d].memory, bwd_filter[b].memory});
          state.use_cudnn = true;
          state.engine = std::string("cudnn:fwd=") + FwdAlgoName(state.fwd_algo) +
                         ",bwd_data=" + BwdDataAlgoName(state.bwd_data_algo) +
                         ",bwd_filter=" + BwdFilterAlgoName(state.bwd_filter_algo);
        }
      }
    } catch (const DeviceError& error) {
      reason = std::string("cuDNN refused the configuration: ") + error.what();
    }
  }
#endif  // MOKA_CUDNN

  if (!state.use_cudnn) {
    state.DestroyDescriptors();
    MOKA_CHECK(requested != ConvolutionParameter::CUDNN, ConfigError,
               "engine: CUDNN was requested, but cuDNN cannot run it: " << reason);
    // An explicit engine: CAFFE is the definition's choice, not a fallback worth a warning.
    if (requested != ConvolutionParameter::CAFFE && reason != state.fallback_reason) {
      LOG(WARNING) << this->Describe() << ": using im2col + cuBLAS on the GPU: " << reason;
    }
    state.fallback_reason = reason;
    if (!this->is_1x1_) {
      std::vector<int> col_shape = {this->channels_ * static_cast<int>(this->blobs_[0]->count(2))};
      col_shape.insert(col_shape.end(), this->output_shape_.begin(), this->output_shape_.end());
      state.col.Reshape(col_shape);
    }
    if (this->bias_term_ && state.ones.count() != this->out_spatial_dim_) {
      state.ones.Reshape({this->out_spatial_dim_});
      state.ones.set_data(Dtype(1));
    }
  }
  state.prepared_shape = bottom[0]->shape();
}

template <typename Dtype>
void ConvolutionLayer<Dtype>::Forward_gpu(const BlobVec& bottom, const BlobVec& top) {
  PrepareGpu(bottom);
  if (!gpu_state_->use_cudnn) {
    ForwardGpuIm2col(bottom, top);
    return;
  }
#ifdef MOKA_CUDNN
  GpuState& state = *gpu_state_;
  GpuResources& gpu = this->context().gpu();
  void* workspace = state.workspace_bytes > 0 ? gpu.Workspace(state.workspace_bytes) : nullptr;
  const Dtype one = 1, zero = 0;
  const Dtype* w = this->blobs_[0]->gpu_data();
  for (size_t i = 0; i < bottom.size(); ++i) {
    Dtype* y = top[i]->mutable_gpu_data();
    MOKA_CUDNN_CHECK(cudnnConvolutionForward(gpu.cudnn(), &one, state.x_desc,
                                             bottom[i]->gpu_data(), state.w_desc, w,
                                             state.conv_desc, state.fwd_algo, workspace,
                                             state.workspace_bytes, &zero, state.y_desc, y));
    if (this->bias_term_) {
      MOKA_CUDNN_CHECK(cudnnAddTensor(gpu.cudnn(), &one, state.bias_desc,
                                      this->blobs_[1]->gpu_data(), &one, state.y_desc, y));
    }
  }
#endif
}

template <typename Dtype>
void ConvolutionLayer<Dtype>::Backward_gpu(const BlobVec& top,
                                           const std::vector<bool>& propagate_down,
                                           const BlobVec& bottom) {
  PrepareGpu(bottom);
  if (!gpu_state_->use_cudnn) {
    BackwardGpuIm2col(top, propagate_down, bottom);
    return;
  }
#ifdef MOKA_CUDNN
  GpuState& state = *gpu_state_;
  GpuResources& gpu = this->context().gpu();
  void* workspace = state.workspace_bytes > 0 ? gpu.Workspace(state.workspace_bytes) : nullptr;
  const Dtype one = 1, zero = 0;
  const bool weight_grad = this->param_propagate_down(0);
  const bool bias_grad = this->bias_term_ && this->param_propagate_down(1);
  for (size_t i = 0; i < top.size(); ++i) {
    const Dtype* dy = top[i]->gpu_diff();
    // Parameter gradients accumulate (beta = 1), as on the CPU.
    if (bias_grad) {
      MOKA_CUDNN_CHECK(cudnnConvolutionBackwardBias(gpu.cudnn(), &one, state.y_desc, dy, &one,
                                                    state.bias_desc,
                                                    this->blobs_[1]->mutable_gpu_diff()));
    }
    if (weight_grad) {
      MOKA_CUDNN_CHECK(cudnnConvolutionBackwardFilter(
          gpu.cudnn(), &one, state.x_desc, bottom[i]->gpu_data(), state.y_desc, dy,
          state.conv_desc, state.bwd_filter_algo, workspace, state.workspace_bytes, &one,
          state.w_desc, this->blobs_[0]->mutable_gpu_diff()));
    }
    if (propagate_down[i]) {
      MOKA_CUDNN_CHECK(cudnnConvolutionBackwardData(
          gpu.cudnn(), &one, state.w_desc, this->blobs_[0]->gpu_data(), state.y_desc, dy,
          state.conv_desc, state.bwd_data_algo, workspace, state.workspace_bytes, &zero,
          state.x_desc, bottom[i]->mutable_gpu_diff()));
    }
  }
#endif
}

// Per image and group, as the CPU path: out_g = W_g * col_g (+ bias * ones).
template <typename Dtype>
void ConvolutionLayer<Dtype>::ForwardGpuIm2col(const BlobVec& bottom, const BlobVec& top) {
  GpuState& state = *gpu_state_;
  GpuResources& gpu = this->context().gpu();
  const int group = this->group_;
  const int out_per_group = this->num_output_ / group;
  const int kernel_dim = this->blobs_[0]->count(1);
  const int positions = this->out_spatial_dim_;
  const Dtype* w = this->blobs_[0]->gpu_data();
  for (size_t i = 0; i < bottom.size(); ++i) {
    const Dtype* x = bottom[i]->gpu_data();
    Dtype* y = top[i]->mutable_gpu_data();
    for (int n = 0; n < this->num_; ++n) {
      const Dtype* col = x + n * this->bottom_dim_;
      if (!this->is_1x1_) {
        Im2colGpu(col, state.geometry, state.col.mutable_gpu_data());
        col = state.col.gpu_data();
      }
      Dtype* out = y + n * this->top_dim_;
      for (int g = 0; g < group; ++g) {
        gpu_gemm<Dtype>(gpu, Trans::kNo, Trans::kNo, out_per_group, positions, kernel_dim,
                        Dtype(1), w + g * out_per_group * kernel_dim,
                        col + g * kernel_dim * positions, Dtype(0),
                        out + g * out_per_group * positions);
      }
      if (this->bias_term_) {
        gpu_gemm<Dtype>(gpu, Trans::kNo, Trans::kNo, this->num_output_, positions, 1, Dtype(1),
                        this->blobs_[1]->gpu_data(), state.ones.gpu_data(), Dtype(1), out);
      }
    }
  }
}

template <typename Dtype>
void ConvolutionLayer<Dtype>::BackwardGpuIm2col(const BlobVec& top,
                                                const std::vector<bool>& propagate_down,
                                                const BlobVec& bottom) {
  GpuState& state = *gpu_state_;
  GpuResources& gpu = this->context().gpu();
  const int group = this->group_;
  const int out_per_group = this->num_output_ / group;
  const int kernel_dim = this->blobs_[0]->count(1);
  const int positions = this->out_spatial_dim_;
  const bool weight_grad = this->param_propagate_down(0);
  const bool bias_grad = this->bias_term_ && this->param_propagate_down(1);
  const Dtype* w = this->blobs_[0]->gpu_data();
  for (size_t i = 0; i < top.size(); ++i) {
    const Dtype* dy = top[i]->gpu_diff();
    if (bias_grad) {
      Dtype* bias_diff = this->blobs_[1]->mutable_gpu_diff();
      for (int n = 0; n < this->num_; ++n) {
        gpu_gemv<Dtype>(gpu, Trans::kNo, this->num_output_, positions, Dtype(1),
                        dy + n * this->top_dim_, state.ones.gpu_data(), Dtype(1), bias_diff);
      }
    }
    if (!weight_grad && !propagate_down[i]) continue;
    const Dtype* x = bottom[i]->gpu_data();
    Dtype* weight_diff = weight_grad ? this->blobs_[0]->mutable_gpu_diff() : nullptr;
    Dtype* dx = propagate_down[i] ? bottom[i]->mutable_gpu_diff() : nullptr;
    for (int n = 0; n < this->num_; ++n) {
      const Dtype* dy_n = dy + n * this->top_dim_;
      if (weight_grad) {
        const Dtype* col = x + n * this->bottom_dim_;
        if (!this->is_1x1_) {
          Im2colGpu(col, state.geometry, state.col.mutable_gpu_data());
          col = state.col.gpu_data();
        }
        for (int g = 0; g < group; ++g) {
          gpu_gemm<Dtype>(gpu, Trans::kNo, Trans::kYes, out_per_group, kernel_dim, positions,
                          Dtype(1), dy_n + g * out_per_group * positions,
                          col + g * kernel_dim * positions, Dtype(1),
                          weight_diff + g * out_per_group * kernel_dim);
        }
      }
      if (dx != nullptr) {
        Dtype* dx_n = dx + n * this->bottom_dim_;
        Dtype* col = this->is_1x1_ ? dx_n : state.col.mutable_gpu_data();
        for (int g = 0; g < group; ++g) {
          gpu_gemm<Dtype>(gpu, Trans::kYes, Trans::kNo, kernel_dim, positions, out_per_group,
                          Dtype(1), w + g * out_per_group * kernel_dim,
                          dy_n + g * out_per_group * positions, Dtype(0),
                          col + g * kernel_dim * positions);
        }
        if (!this->is_1x1_) Col2imGpu(static_cast<const Dtype*>(col), state.geometry, dx_n);
      }
    }
  }
}

MOKA_INSTANTIATE_LAYER_GPU_FUNCS(ConvolutionLayer);
template std::string ConvolutionLayer<float>::engine() const;
template std::string ConvolutionLayer<double>::engine() const;

}  // namespace moka
