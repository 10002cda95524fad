#pragma once
#include <memory>
#include <vector>

#include "layer.hpp"

namespace moka {

/// 2-D pooling over (N, C, H, W). Window (ph, pw) covers rows [ph * stride_h - pad_h, + kernel_h)
/// and the matching columns, clipped to the image:
///   MAX: y = max over the window; an optional second top holds the argmax (h * W + w) as Dtype.
///   AVE: y = sum over the window / pool area, the area counting padding but not beyond in + pad.
///   STOCHASTIC (no padding): TRAIN picks x_i with probability x_i / sum(x); TEST gives
///   sum(x^2) / sum(x).
/// Output size: ceil (CEIL) or floor (FLOOR) of (in + 2 * pad - kernel) / stride, plus 1, less one
/// when there is padding (on either axis) and the last window would start at or beyond in + pad.
template <typename Dtype>
class PoolingLayer : public Layer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;
  explicit PoolingLayer(const LayerParameter& param) : Layer<Dtype>(param) {}
  const char* type() const override { return "Pooling"; }
  int ExactNumBottomBlobs() const override { return 1; }
  int MinTopBlobs() const override { return 1; }
  int MaxTopBlobs() const override {
    return this->layer_param_.pooling_param().pool() == PoolingParameter::MAX ? 2 : 1;
  }

  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

  /// Whether MAX may take its fast path (packs of neighbouring outputs compared tap by tap in
  /// vector registers); false scans every window on its own, the reference the tests compare
  /// against.
  void set_fast_max(bool allowed) { fast_max_ = allowed; }

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
  void ForwardMax(const BlobVec& bottom, const BlobVec& top);
  void ForwardAve(const BlobVec& bottom, const BlobVec& top);
  void ForwardStochastic(const BlobVec& bottom, const BlobVec& top);

  PoolingParameter::PoolMethod pool_ = PoolingParameter::MAX;
  bool global_pooling_ = false;
  int kernel_h_ = 0, kernel_w_ = 0;
  int stride_h_ = 1, stride_w_ = 1;
  int pad_h_ = 0, pad_w_ = 0;
  int num_ = 0, channels_ = 0, height_ = 0, width_ = 0;
  int pooled_height_ = 0, pooled_width_ = 0;
  /// MAX without a mask top: the argmax of each output within its input plane.
  std::vector<int> max_idx_;
  /// MAX with a mask top: an int argmax plane per thread, before conversion to Dtype.
  std::vector<int> mask_scratch_;
  /// MAX: a padded copy of a plane per thread, for planes with many edge windows.
  std::vector<Dtype> pad_scratch_;
  bool fast_max_ = true;
  /// STOCHASTIC in TRAIN: one uniform draw per output, and the bottom index each output chose.
  std::vector<Dtype> rand_draw_;
  std::vector<int> rand_idx_;
#ifdef MOKA_CUDA
  /// The GPU path's MAX argmax (int per output, when there is no mask top), STOCHASTIC TRAIN draws
  /// (made on the host from the context's stream, as rand_draw_ is) and choices (int per output).
  std::unique_ptr<SyncedMemory> gpu_max_idx_;
  Blob<Dtype> gpu_rand_draw_;
  std::unique_ptr<SyncedMemory> gpu_rand_idx_;
#endif
};

}  // namespace moka
