#include "layers/window_data.hpp"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>

#include "layer_registry.hpp"
#include "layers/image_io.hpp"
#include "math_functions.hpp"
#include "proto_io.hpp"

namespace moka {

template <typename Dtype>
WindowDataLayer<Dtype>::~WindowDataLayer() {
  this->prefetcher_.Stop();
}

template <typename Dtype>
void WindowDataLayer<Dtype>::ReadWindowFile(const std::string& source) {
  const WindowDataParameter& param = this->layer_param_.window_data_param();
  std::ifstream in(source);
  MOKA_CHECK(in.good(), IoError, "cannot open window file '" << source << "'");
  images_.clear();
  fg_windows_.clear();
  bg_windows_.clear();
  std::string hash;
  int index = 0;
  while (in >> hash >> index) {
    const int expected = static_cast<int>(images_.size());
    MOKA_CHECK(hash == "#", IoError,
               "window file '" << source << "': expected '# " << expected << "' to start image "
                               << expected << ", found '" << hash << "'");
    // Windows name their image by this index, which Caffe takes as the position in the file.
    MOKA_CHECK(index == expected, IoError,
               "window file '" << source << "': image " << expected << " is numbered " << index
                               << "; number images 0, 1, 2, ... in file order");
    Image image;
    int num_windows = 0;
    in >> image.path >> image.channels >> image.height >> image.width >> num_windows;
    MOKA_CHECK(!in.fail() && num_windows >= 0, IoError,
               "window file '" << source << "': image " << index
                               << " needs PATH CHANNELS HEIGHT WIDTH NUM_WINDOWS");
    image.path = param.root_folder() + image.path;
    MOKA_CHECK(image.channels == 3, IoError,
               "window file '" << source << "': image '" << image.path << "' has " << image.channels
                               << " channels; WindowData reads every image as 3-channel colour");
    if (param.cache_images()) {
      std::ifstream file(image.path, std::ios::binary);
      MOKA_CHECK(file.good(), IoError, "cannot open image file '" << image.path << "'");
      image.bytes.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
    }
    for (int i = 0; i < num_windows; ++i) {
      Window window;
      window.image = index;
      in >> window.label >> window.overlap >> window.x1 >> window.y1 >> window.x2 >> window.y2;
      MOKA_CHECK(!in.fail(), IoError,
                 "window file '" << source << "': window " << i << " of image " << index
                                 << " needs CLASS OVERLAP X1 Y1 X2 Y2");
      MOKA_CHECK(window.x1 <= window.x2 && window.y1 <= window.y2, IoError,
                 "window file '" << source << "': window " << i << " of image " << index
                                 << " has corners (" << window.x1 << ", " << window.y1 << ") and ("
                                 << window.x2 << ", " << window.y2 << ")");
      if (window.overlap >= param.fg_threshold()) {
        MOKA_CHECK(window.label > 0, IoError,
                   "window file '" << source << "': foreground window " << i << " of image "
                                   << index << " has class " << window.label
                                   << "; class 0 is the background");
        fg_windows_.push_back(window);
      } else if (window.overlap < param.bg_threshold()) {
        window.label = 0;
        window.overlap = 0;
        bg_windows_.push_back(window);
      }
    }
    images_.push_back(std::move(image));
  }
  MOKA_CHECK(!images_.empty(), IoError, "window file '" << source << "' lists no images");
  MOKA_CHECK(in.eof(), IoError,
             "window file '" << source << "': cannot read past image " << images_.size() - 1);
}

template <typename Dtype>
void WindowDataLayer<Dtype>::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  this->prefetcher_.Stop();
  const WindowDataParameter& param = this->layer_param_.window_data_param();
  const TransformationParameter& transform = this->layer_param_.transform_param();
  MOKA_CHECK(param.has_source() && !param.source().empty(), ConfigError,
             "window_data_param needs a source");
  MOKA_CHECK(param.batch_size() > 0, ConfigError,
             "window_data_param.batch_size must be positive, got " << param.batch_size());
  crop_size_ = static_cast<int>(transform.crop_size());
  MOKA_CHECK(crop_size_ > 0, ConfigError,
             "WindowData needs transform_param.crop_size, the side of its square output");
  MOKA_CHECK(2 * static_cast<int>(param.context_pad()) < crop_size_, ConfigError,
             "window_data_param.context_pad " << param.context_pad()
                                              << " leaves nothing of crop_size " << crop_size_);
  MOKA_CHECK(
      param.crop_mode() == "warp" || param.crop_mode() == "square", ConfigError,
      "window_data_param.crop_mode must be 'warp' or 'square', got '" << param.crop_mode() << "'");
  MOKA_CHECK(!(transform.has_mean_file() && transform.mean_value_size() > 0), ConfigError,
             "transform_param gives both mean_file and mean_value; give one of them");
  const uint32_t prefetch = this->layer_param_.data_param().prefetch();
  MOKA_CHECK(prefetch > 0, ConfigError, "data_param.prefetch must be positive, got " << prefetch);

  ReadWindowFile(param.source());
  channels_ = images_.back().channels;
  const int batch_size = static_cast<int>(param.batch_size());
  const int num_fg = static_cast<int>(static_cast<float>(batch_size) * param.fg_fraction());
  MOKA_CHECK(num_fg == 0 || !fg_windows_.empty(), ConfigError,
             "window file '" << param.source() << "' has no foreground windows (overlap >= "
                             << param.fg_threshold() << "), but batches take " << num_fg);
  MOKA_CHECK(num_fg == batch_size || !bg_windows_.empty(), ConfigError,
             "window file '" << param.source() << "' has no background windows (overlap < "
                             << param.bg_threshold() << "), but batches take "
                             << batch_size - num_fg);

  mean_values_.clear();
  mean_.Reshape(std::vector<int>{0});
  if (transform.has_mean_file()) {
    BlobProto proto;
    ReadProtoFromBinaryFile(transform.mean_file(), &proto);
    mean_.FromProto(proto);
    // The mean is read around its centre, offset by the same amount on both axes.
    const int offset = (mean_.width() - crop_size_) / 2;
    MOKA_CHECK(
        mean_.channels() == channels_ && offset >= 0 && offset + crop_size_ <= mean_.height(),
        ShapeError,
        "mean file '" << transform.mean_file() << "' has shape " << mean_.shape_string()
                      << "; WindowData needs " << channels_ << " channels of at least crop_size "
                      << crop_size_ << " pixels");
  }
  if (transform.mean_value_size() > 0) {
    MOKA_CHECK(transform.mean_value_size() == 1 || transform.mean_value_size() == channels_,
               ConfigError,
               "give one mean_value or one per channel (" << channels_ << "), got "
                                                          << transform.mean_value_size());
    for (int c = 0; c < channels_; ++c) {
      mean_values_.push_back(transform.mean_value(transform.mean_value_size() == 1 ? 0 : c));
    }
  }

  rng_.seed(this->context().NextSeed());
  const std::vector<int> shape{batch_size, channels_, crop_size_, crop_size_};
  top[0]->Reshape(shape);
  top[1]->Reshape(std::vector<int>{batch_size});
  this->prefetcher_.Start(prefetch, shape, {batch_size},
                    [this](DataBatch<Dtype>* batch) { LoadBatch(batch); });
}

template <typename Dtype>
void WindowDataLayer<Dtype>::WarpWindow(const Window& window, bool mirror, Dtype* out) {
  const WindowDataParameter& param = this->layer_param_.window_data_param();
  const Image& image = images_[window.image];
  const cv::Mat picture = param.cache_images() ? DecodeColorImage(image.bytes, image.path)
                                               : ReadImage(image.path, 0, 0, true);
  const int crop = crop_size_;
  const int context_pad = static_cast<int>(param.context_pad());
  const bool square = param.crop_mode() == "square";

  int x1 = window.x1, y1 = window.y1, x2 = window.x2, y2 = window.y2;
  cv::Size warped_size(crop, crop);
  int pad_w = 0, pad_h = 0;  // where the warped region starts in the output
  if (context_pad > 0 || square) {
    // Grow the window so that, warped to crop x crop, context_pad pixels surround it per side.
    const Dtype context_scale =
        static_cast<Dtype>(crop) / static_cast<Dtype>(crop - 2 * context_pad);
    Dtype half_height = static_cast<Dtype>(y2 - y1 + 1) / 2.0;
    Dtype half_width = static_cast<Dtype>(x2 - x1 + 1) / 2.0;
    const Dtype center_x = static_cast<Dtype>(x1) + half_width;
    const Dtype center_y = static_cast<Dtype>(y1) + half_height;
    if (square) half_width = half_height = std::max(half_width, half_height);
    x1 = static_cast<int>(std::round(center_x - half_width * context_scale));
    x2 = static_cast<int>(std::round(center_x + half_width * context_scale));
    y1 = static_cast<int>(std::round(center_y - half_height * context_scale));
    y2 = static_cast<int>(std::round(center_y + half_height * context_scale));

    // Clip to the image; the part beyond it stays zero in the output.
    const int unclipped_height = y2 - y1 + 1;
    const int unclipped_width = x2 - x1 + 1;
    int pad_x1 = std::max(0, -x1);
    int pad_y1 = std::max(0, -y1);
    int pad_x2 = std::max(0, x2 - picture.cols + 1);
    int pad_y2 = std::max(0, y2 - picture.rows + 1);
    x1 += pad_x1;
    x2 -= pad_x2;
    y1 += pad_y1;
    y2 -= pad_y2;
    MOKA_CHECK(x1 <= x2 && y1 <= y2, IoError,
               "window (" << window.x1 << ", " << window.y1 << ", " << window.x2 << ", "
                          << window.y2 << ") lies outside image '" << image.path << "' ("
                          << picture.cols << " x " << picture.rows << ")");
    const Dtype scale_x = static_cast<Dtype>(crop) / static_cast<Dtype>(unclipped_width);
    const Dtype scale_y = static_cast<Dtype>(crop) / static_cast<Dtype>(unclipped_height);
    warped_size.width = static_cast<int>(std::round(static_cast<Dtype>(x2 - x1 + 1) * scale_x));
    warped_size.height = static_cast<int>(std::round(static_cast<Dtype>(y2 - y1 + 1) * scale_y));
    pad_x1 = static_cast<int>(std::round(static_cast<Dtype>(pad_x1) * scale_x));
    pad_x2 = static_cast<int>(std::round(static_cast<Dtype>(pad_x2) * scale_x));
    pad_y1 = static_cast<int>(std::round(static_cast<Dtype>(pad_y1) * scale_y));
    pad_h = pad_y1;
    // A mirrored window is mirrored with its padding.
    pad_w = mirror ? pad_x2 : pad_x1;
    // Rounding may overshoot the output by a pixel.
    if (pad_h + warped_size.height > crop) warped_size.height = crop - pad_h;
    if (pad_w + warped_size.width > crop) warped_size.width = crop - pad_w;
  } else {
    MOKA_CHECK(x1 >= 0 && y1 >= 0 && x2 < picture.cols && y2 < picture.rows, IoError,
               "window (" << x1 << ", " << y1 << ", " << x2 << ", " << y2
                          << ") does not fit in image '" << image.path << "' (" << picture.cols
                          << " x " << picture.rows << ")");
  }
  MOKA_CHECK(warped_size.width > 0 && warped_size.height > 0, IoError,
             "window (" << window.x1 << ", " << window.y1 << ", " << window.x2 << ", " << window.y2
                        << ") of image '" << image.path << "' warps to nothing");

  cv::Mat warped;
  cv::resize(picture(cv::Rect(x1, y1, x2 - x1 + 1, y2 - y1 + 1)), warped, warped_size, 0, 0,
             cv::INTER_LINEAR);
  if (mirror) cv::flip(warped, warped, 1);

  const Dtype scale = param.scale();
  const bool has_mean_file = mean_.count() > 0;
  const int mean_offset = has_mean_file ? (mean_.width() - crop) / 2 : 0;
  const Dtype* mean = has_mean_file ? mean_.cpu_data() : nullptr;
  const int channels = warped.channels();
  for (int h = 0; h < warped.rows; ++h) {
    const uint8_t* row = warped.ptr<uint8_t>(h);
    for (int w = 0; w < warped.cols; ++w) {
      for (int c = 0; c < channels; ++c) {
        const Dtype pixel = static_cast<Dtype>(row[w * channels + c]);
        Dtype offset = 0;
        if (has_mean_file) {
          offset = mean[(c * mean_.height() + h + mean_offset + pad_h) * mean_.width() + w +
                        mean_offset + pad_w];
        } else if (!mean_values_.empty()) {
          offset = mean_values_[c];
        }
        out[(c * crop + h + pad_h) * crop + w + pad_w] = (pixel - offset) * scale;
      }
    }
  }
}

template <typename Dtype>
void WindowDataLayer<Dtype>::LoadBatch(DataBatch<Dtype>* batch) {
  const WindowDataParameter& param = this->layer_param_.window_data_param();
  const bool mirror = this->layer_param_.transform_param().mirror();
  const int batch_size = static_cast<int>(param.batch_size());
  const int num_fg = static_cast<int>(static_cast<float>(batch_size) * param.fg_fraction());
  const int item_count = channels_ * crop_size_ * crop_size_;
  Dtype* data = batch->data.mutable_cpu_data();
  Dtype* labels = batch->label.mutable_cpu_data();
  cpu_set(batch->data.count(), Dtype(0), data);

  int item = 0;
  // Background windows first, then foreground ones, as in Caffe.
  for (const bool foreground : {false, true}) {
    const std::vector<Window>& windows = foreground ? fg_windows_ : bg_windows_;
    const int count = foreground ? num_fg : batch_size - num_fg;
    for (int i = 0; i < count && !this->prefetcher_.stopping(); ++i, ++item) {
      const Window& window = windows[rng_() % windows.size()];
      const bool do_mirror = mirror && rng_() % 2 != 0;
      try {
        WarpWindow(window, do_mirror, data + static_cast<size_t>(item) * item_count);
      } catch (const cv::Exception& e) {
        MOKA_THROW(IoError, "cannot warp a window of image '" << images_[window.image].path
                                                              << "': " << e.what());
      }
      labels[item] = static_cast<Dtype>(window.label);
    }
  }
}

MOKA_INSTANTIATE_CLASS(WindowDataLayer);
MOKA_REGISTER_LAYER(WindowData);

}  // namespace moka
