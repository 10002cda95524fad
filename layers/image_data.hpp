#pragma once
// ImageData layer: reads the images named in a list file (lines "PATH LABEL", PATH taken up to the
// last space, relative to root_folder) with OpenCV, in list order (shuffled at setup and again
// after every pass when `shuffle` is set, after an optional random skip of up to rand_skip lines),
// wrapping around at the end, and produces
//   top[0] = transform(image) for batch_size images   (batch_size x C x H' x W')
//   top[1] = label                                      (batch_size)
// Images are read as BGR (is_color) or gray and resized to new_height x new_width when those are
// set. A background thread keeps data_param.prefetch batches ready; every batch takes the shape
// of its first image. Randomness (shuffles, crops, mirrors) comes from a stream seeded by the
// context at LayerSetUp.
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "data_transformer.hpp"
#include "layer.hpp"
#include "layers/prefetching_data.hpp"

namespace moka {

template <typename Dtype>
class ImageDataLayer : public PrefetchingDataLayer<Dtype> {
 public:
  using typename Layer<Dtype>::BlobVec;

  explicit ImageDataLayer(const LayerParameter& param) : PrefetchingDataLayer<Dtype>(param) {}
  ~ImageDataLayer() override;

  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;

  const char* type() const override { return "ImageData"; }
  int ExactNumTopBlobs() const override { return 2; }

 private:
  void ReadList(const std::string& source);
  void Shuffle();
  /// Reads line `index` of the list into datum_.
  void ReadLine(size_t index);
  void LoadBatch(DataBatch<Dtype>* batch);

  std::vector<std::pair<std::string, int>> lines_;
  size_t line_id_ = 0;  // used only by the prefetch thread once it runs
  std::unique_ptr<DataTransformer<Dtype>> transformer_;
  std::mt19937_64 rng_;  // likewise
  Datum datum_;          // likewise
};

}  // namespace moka
