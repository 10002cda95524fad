#include "layers/image_io.hpp"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <fstream>

#include "common.hpp"

namespace moka {

cv::Mat ReadImage(const std::string& path, int new_height, int new_width, bool is_color) {
  {
    std::ifstream probe(path, std::ios::binary);
    MOKA_CHECK(probe.good(), IoError, "cannot open image file '" << path << "'");
  }
  cv::Mat image;
  try {
    image = cv::imread(path, is_color ? cv::IMREAD_COLOR : cv::IMREAD_GRAYSCALE);
  } catch (const cv::Exception& e) {
    MOKA_THROW(IoError, "cannot decode image file '" << path << "': " << e.what());
  }
  MOKA_CHECK(!image.empty(), IoError,
             "cannot decode image file '" << path << "' (not an image OpenCV can read)");
  if (new_height > 0 && new_width > 0) {
    cv::Mat resized;
    cv::resize(image, resized, cv::Size(new_width, new_height), 0, 0, cv::INTER_LINEAR);
    return resized;
  }
  return image;
}

cv::Mat DecodeColorImage(const std::string& bytes, const std::string& name) {
  cv::Mat image;
  try {
    const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8UC1,
                         const_cast<char*>(bytes.data()));
    image = cv::imdecode(buffer, cv::IMREAD_COLOR);
  } catch (const cv::Exception& e) {
    MOKA_THROW(IoError, "cannot decode image file '" << name << "': " << e.what());
  }
  MOKA_CHECK(!image.empty(), IoError,
             "cannot decode image file '" << name << "' (not an image OpenCV can read)");
  return image;
}

void MatToDatum(const cv::Mat& image, int label, Datum* datum) {
  MOKA_CHECK(image.depth() == CV_8U, ShapeError,
             "images must have 8-bit pixels, got OpenCV depth " << image.depth());
  const int channels = image.channels();
  const int height = image.rows;
  const int width = image.cols;
  datum->set_channels(channels);
  datum->set_height(height);
  datum->set_width(width);
  datum->set_label(label);
  datum->set_encoded(false);
  datum->clear_float_data();
  std::string* bytes = datum->mutable_data();
  bytes->resize(static_cast<size_t>(channels) * height * width);
  // OpenCV keeps pixels interleaved (H x W x C); Datum keeps whole channel planes.
  for (int h = 0; h < height; ++h) {
    const uint8_t* row = image.ptr<uint8_t>(h);
    for (int w = 0; w < width; ++w) {
      for (int c = 0; c < channels; ++c) {
        (*bytes)[(static_cast<size_t>(c) * height + h) * width + w] =
            static_cast<char>(row[w * channels + c]);
      }
    }
  }
}

}  // namespace moka
