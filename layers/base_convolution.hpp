#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "layer.hpp"
#include "layers/winograd_conv.hpp"
#include "task_pool.hpp"

namespace moka {

/// How a convolution walks the images: kAuto batches whenever the bottom holds more than one.
enum class ConvBatching { kAuto, kPerImage, kBatched };

/// When a convolution uses Winograd's method: never, where it is expected to pay (the default),
/// or wherever it applies (the tests, to cover small shapes).
enum class WinogradUse { kNever, kWhereWorthwhile, kWherePossible };

/// Shared machinery of the convolution-like layers (Convolution, and the transposed direction,
/// Deconvolution): ConvolutionParameter parsing, parameter blobs, shapes, and the im2col + GEMM
/// kernels. Every bottom i maps to top i with the same weights.
///
/// For one image, with G groups, the layer computes per group g
///   out_g (C_out/G x P) = W_g (C_out/G x K) * col_g (K x P),  K = C_in/G * k_1 * ... * k_d,
/// where col is the im2col unrolling of the input and P the number of output positions. In the
/// transposed direction the roles of bottom and top swap: the "convolution input" is the top.
///
/// Two ways to walk a batch. Per image (Caffe's, and the reference the other is tested against):
/// one product of P columns per image and group. Batched: the batch is cut into tasks of B
/// consecutive images whose columns sit side by side, (K x B*P), so that one product per group
/// covers B images; the channel-major result (C_out/G x B*P) is reordered into the images' layout
/// with the bias added in the same pass. Small feature maps (P of a few dozen) make per-image
/// products too thin for BLAS to run well, which is what batching repairs; B makes the products
/// about kTargetWidth columns wide, which keeps a task's buffers in the core's cache. The tasks run
/// on as many threads as BLAS is set to use (BLAS itself single-threaded meanwhile, and restored
/// after), each with its own buffers, claiming tasks until none is left: a thread that is not
/// scheduled (a busy machine) delays nobody. Gradients are summed per task and the task partials
/// added in task order, so results do not depend on the thread count or timing.
template <typename Dtype>
class BaseConvolutionLayer : public Layer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit BaseConvolutionLayer(const LayerParameter& param) : Layer<Dtype>(param) {}

  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

  int MinBottomBlobs() const override { return 1; }
  int MinTopBlobs() const override { return 1; }
  bool EqualNumBottomTopBlobs() const override { return true; }
  std::string engine() const override;

  using Batching = ConvBatching;
  /// Tuning and test hooks; they take effect at the next Reshape. The column budget (bytes) bounds
  /// one task's column buffer; task_images > 0 sets the images per task outright (else they
  /// follow kTargetWidth and the budget); gradient_runs > 0 sets the runs of BackwardBatched
  /// (else kPartialBudget decides); threads <= 0 follows BLAS's thread count.
  void set_batching(Batching batching) { batching_ = batching; }
  void set_column_budget(size_t bytes) { column_budget_ = bytes; }
  void set_task_images(int images) { requested_chunk_ = images; }
  void set_gradient_runs(int runs) { requested_runs_ = runs; }
  void set_threads(int threads) { requested_threads_ = threads; }
  /// Whether a depthwise layer (see depthwise()) may use the direct kernel; false forces the
  /// general path, which the tests use as the reference.
  void set_depthwise(bool allowed) { allow_depthwise_ = allowed; }
  /// After Reshape: whether the direct depthwise kernel runs (2-D, group == input channels ==
  /// num_output > 1, not transposed). It threads across images x channels (forward) and channels
  /// (backward) on batch_threads() threads; no BLAS, no column buffer.
  bool depthwise() const { return depthwise_; }
  /// When 3x3 and 5x5 stride-1 convolutions use Winograd's F(4x4, 3x3) or F(2x2, 5x5) (see
  /// winograd_conv.hpp); kNever forces im2col + GEMM, which the tests use as the reference.
  void set_winograd(WinogradUse use) { winograd_use_ = use; }
  /// After Reshape: whether the forward and backward passes run by Winograd's method.
  bool winograd() const { return winograd_; }
  /// After Reshape: whether the batched path runs, the images per task, the tasks per bottom, the
  /// runs their gradients are summed in, and the threads that run them.
  bool batched() const { return batched_; }
  int batch_chunk() const { return chunk_; }
  int batch_tasks() const { return tasks_; }
  int batch_gradient_runs() const { return runs_; }
  int batch_threads() const { return threads_; }

  /// A task holds enough images for products this many columns wide: thinner ones run BLAS
  /// inefficiently, wider ones spill the task's buffers out of the core's cache (measured on
  /// LeNet's convolutions: 64 columns ran at 2/3 the speed of 256, and 4096 at 3/4).
  static constexpr int kTargetWidth = 256;
  /// Upper bound on one task's column buffer; a task holds at least one image.
  static constexpr size_t kDefaultColumnBudget = size_t(8) << 20;
  /// The batched backward pass sums the parameter gradients in runs of consecutive tasks, one
  /// partial per run: as many runs as tasks where the partials fit kPartialBudget, else fewer, but
  /// at least kMinGradientRuns (fewer runs leave threads idle). The runs depend on shapes alone, so
  /// results do not depend on the thread count.
  static constexpr size_t kPartialBudget = size_t(32) << 20;
  static constexpr int kMinGradientRuns = 8;

 protected:
  /// True for the transposed direction, where the bottom is the convolution's output.
  virtual bool reverse_dimensions() const = 0;
  /// Sets output_shape_ (the top's spatial sizes) from the bottom's spatial sizes, input_shape(i).
  virtual void ComputeOutputShape() = 0;

  /// Spatial size of the bottom on spatial axis i.
  int input_shape(int i) const { return bottom_shape_[channel_axis_ + 1 + i]; }

  /// The batched convolution of one bottom's num_ images (in convolution terms: for the
  /// transposed direction "input" is the top): output = conv(input) + bias (bias may be null).
  void ForwardBatched(const Dtype* input, const Dtype* weights, const Dtype* bias, Dtype* output);
  /// Its gradients from output_diff: weight_diff and bias_diff accumulate, input_diff is
  /// overwritten; each may be null when not wanted.
  void BackwardBatched(const Dtype* input, const Dtype* output_diff, const Dtype* weights,
                       Dtype* weight_diff, Dtype* bias_diff, Dtype* input_diff);

  /// The depthwise counterparts of ForwardBatched and BackwardBatched (when depthwise()).
  void ForwardDepthwise(const Dtype* input, const Dtype* weights, const Dtype* bias, Dtype* output);
  void BackwardDepthwise(const Dtype* input, const Dtype* output_diff, const Dtype* weights,
                         Dtype* weight_diff, Dtype* bias_diff, Dtype* input_diff);

  /// The Winograd counterparts of ForwardBatched and BackwardBatched (when winograd()).
  void ForwardWinograd(const Dtype* input, const Dtype* weights, const Dtype* bias, Dtype* output);
  void BackwardWinograd(const Dtype* input, const Dtype* output_diff, const Dtype* weights,
                        Dtype* weight_diff, Dtype* bias_diff, Dtype* input_diff);

  // Kernels for one image; weight and bias gradients accumulate.
  void ForwardGemm(const Dtype* input, const Dtype* weights, Dtype* output);
  void ForwardBias(Dtype* output, const Dtype* bias);
  void BackwardGemm(const Dtype* output_diff, const Dtype* weights, Dtype* input_diff);
  void WeightGemm(const Dtype* input, const Dtype* output_diff, Dtype* weights_diff);
  void BackwardBias(Dtype* bias_diff, const Dtype* output_diff);

  std::vector<int> kernel_shape_;
  std::vector<int> stride_;
  std::vector<int> pad_;
  std::vector<int> dilation_;
  /// Spatial sizes of the top.
  std::vector<int> output_shape_;
  std::vector<int> bottom_shape_;

  int num_spatial_axes_ = 0;
  int channel_axis_ = 1;
  /// Images per bottom: the product of the axes before the channel axis.
  int num_ = 0;
  int channels_ = 0;
  int num_output_ = 0;
  int group_ = 1;
  /// Values per image in a bottom and in a top.
  int bottom_dim_ = 0;
  int top_dim_ = 0;
  int out_spatial_dim_ = 0;
  bool bias_term_ = true;
  bool is_1x1_ = false;
  bool force_nd_im2col_ = false;

 private:
  void ConvIm2col(const Dtype* data, Dtype* col, int col_row_stride = -1);
  void ConvCol2im(const Dtype* col, Dtype* data, int col_row_stride = -1);
  /// Chooses the path, chunk, tasks and threads, and sizes the buffers.
  void PlanBatching();
  /// Decides winograd_ and prepares its two convolutions.
  void PlanWinograd();
  /// The threads set by set_threads, else the CPU layers' (BLAS's) thread count.
  int ThreadsWanted() const { return requested_threads_ > 0 ? requested_threads_ : CpuThreads(); }
  void CheckOrCreateParams();

  // Steps of one batched task over `images` consecutive images. `col` is (K*G x images*P) and
  // `product` (C_out x images*P), channel-major, each group's rows contiguous.
  void GatherColumns(const Dtype* input, int images, Dtype* col);
  /// The adjoint of GatherColumns: overwrites the inputs with the sums of their column entries.
  void ScatterColumns(const Dtype* col, int images, Dtype* input);
  /// product from outputs (images x C_out x P); adds each channel's sum to bias_diff when given.
  void GatherProduct(const Dtype* output, int images, Dtype* product, Dtype* bias_diff);
  /// outputs from product, adding bias[c] when given.
  void ScatterProduct(const Dtype* product, int images, const Dtype* bias, Dtype* output);

  int conv_out_channels_ = 0;
  int conv_in_channels_ = 0;
  int conv_out_spatial_dim_ = 0;
  /// Rows of the column buffer per group: C_in/G * prod(kernel).
  int kernel_dim_ = 0;
  int weight_offset_ = 0;
  int col_offset_ = 0;
  int output_offset_ = 0;
  /// (conv_in_channels, spatial sizes of the convolution input).
  std::vector<int> conv_input_shape_;
  /// (kernel_dim * group, spatial sizes of the convolution output).
  std::vector<int> col_buffer_shape_;
  /// Column buffer of the per-image path.
  Blob<Dtype> col_buffer_;
  Blob<Dtype> bias_multiplier_;

  Batching batching_ = Batching::kAuto;
  size_t column_budget_ = kDefaultColumnBudget;
  int requested_chunk_ = 0;
  int requested_runs_ = 0;
  int requested_threads_ = 0;
  bool batched_ = false;
  bool allow_depthwise_ = true;
  bool depthwise_ = false;
  WinogradUse winograd_use_ = WinogradUse::kWhereWorthwhile;
  bool winograd_ = false;
  WinogradConvolution<Dtype> winograd_forward_;
  /// The input gradient's convolution (over the top's diff, kernels flipped).
  WinogradConvolution<Dtype> winograd_backward_;
  int chunk_ = 1;
  int tasks_ = 1;
  /// Runs of consecutive tasks whose parameter gradients share a partial (BackwardBatched).
  int runs_ = 1;
  int threads_ = 1;
  /// Values per image in the convolution input (the bottom, or the top when transposed).
  int conv_input_dim_ = 0;
  // Batched-path buffers: per thread, columns and product of one task; per run of tasks, its
  // weight and bias gradient partials.
  std::vector<std::vector<Dtype>> task_columns_;
  std::vector<std::vector<Dtype>> task_products_;
  std::vector<Dtype> weight_partials_;
  std::vector<Dtype> bias_partials_;
};

}  // namespace moka
