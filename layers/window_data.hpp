#pragma once
// WindowData layer (R-CNN fine-tuning): reads a window file of records
//   # IMAGE_INDEX \n PATH \n CHANNELS \n HEIGHT \n WIDTH \n NUM_WINDOWS \n
//   then NUM_WINDOWS lines "CLASS OVERLAP X1 Y1 X2 Y2" (inclusive pixel corners),
// keeps windows with OVERLAP >= fg_threshold as foreground (their class must be positive) and
// those with OVERLAP < bg_threshold as background (class and overlap set to 0), and per batch
// samples batch_size - floor(batch_size * fg_fraction) background windows, then the foreground
// ones, uniformly with replacement. Each window is cut from its image (read as BGR), grown by
// context_pad pixels of the crop_size x crop_size output per side ("warp"), or also made square
// ("square"), clipped to the image with the clipped part left zero, warped bilinearly, mirrored
// at random when `mirror` is set, and written as
//   top[0] = (pixel - mean) * window_data_param.scale    (batch_size x 3 x crop_size x crop_size)
//   top[1] = window class                                  (batch_size)
// As in Caffe, crop_size, mirror, mean_file and mean_value come from transform_param, but the
// scale from window_data_param. A background thread keeps data_param.prefetch batches ready.
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "layer.hpp"
#include "layers/prefetching_data.hpp"

namespace moka {

template <typename Dtype>
class WindowDataLayer : public PrefetchingDataLayer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;

  explicit WindowDataLayer(const LayerParameter& param) : PrefetchingDataLayer<Dtype>(param) {}
  ~WindowDataLayer() override;

  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;

  const char* type() const override { return "WindowData"; }
  int ExactNumTopBlobs() const override { return 2; }

 private:
  struct Window {
    int image = 0;
    int label = 0;
    float overlap = 0;
    int x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  };
  struct Image {
    std::string path;
    int channels = 0, height = 0, width = 0;
    std::string bytes;  // the file's contents, with cache_images
  };

  void ReadWindowFile(const std::string& source);
  void LoadBatch(DataBatch<Dtype>* batch);
  /// Writes one sampled window into `out` (channels x crop x crop, zeroed by the caller).
  void WarpWindow(const Window& window, bool mirror, Dtype* out);

  std::vector<Image> images_;
  std::vector<Window> fg_windows_;
  std::vector<Window> bg_windows_;
  int channels_ = 0;
  int crop_size_ = 0;
  Blob<Dtype> mean_;                // per-pixel mean from mean_file, empty otherwise
  std::vector<Dtype> mean_values_;  // one per channel when mean_value is given
  std::mt19937_64 rng_;             // used only by the prefetch thread once it runs
};

}  // namespace moka
