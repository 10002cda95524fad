#include "tools/datum_io.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "db.hpp"
#include "error.hpp"

namespace moka {

cv::Mat ReadImage(const std::string& path, bool color, int resize_height, int resize_width) {
  MOKA_CHECK(std::filesystem::is_regular_file(path), IoError, "no such image file");
  cv::Mat image;
  try {
    image = cv::imread(path, color ? cv::IMREAD_COLOR : cv::IMREAD_GRAYSCALE);
  } catch (const cv::Exception& error) {
    MOKA_THROW(IoError, "cannot decode the image: " << error.what());
  }
  MOKA_CHECK(!image.empty(), IoError, "not an image OpenCV can decode (corrupt or unknown format)");
  if (resize_height > 0 && resize_width > 0) {
    cv::Mat resized;
    cv::resize(image, resized, cv::Size(resize_width, resize_height));
    return resized;
  }
  return image;
}

void CvMatToDatum(const cv::Mat& image, Datum* datum) {
  MOKA_CHECK(image.depth() == CV_8U, IoError,
             "has " << image.elemSize1() * 8 << "-bit pixels; records hold 8-bit pixels only");
  const int channels = image.channels(), height = image.rows, width = image.cols;
  datum->set_channels(channels);
  datum->set_height(height);
  datum->set_width(width);
  datum->clear_float_data();
  datum->set_encoded(false);
  std::string pixels(static_cast<size_t>(channels) * height * width, '\0');
  // OpenCV stores pixels interleaved (HWC); records store planes (CHW).
  for (int h = 0; h < height; ++h) {
    const unsigned char* row = image.ptr<unsigned char>(h);
    for (int w = 0; w < width; ++w) {
      for (int c = 0; c < channels; ++c) {
        pixels[(static_cast<size_t>(c) * height + h) * width + w] =
            static_cast<char>(row[w * channels + c]);
      }
    }
  }
  datum->set_data(std::move(pixels));
}

std::string FileExtension(const std::string& path) {
  const size_t dot = path.rfind('.');
  const size_t slash = path.rfind('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string extension = path.substr(dot + 1);
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return extension;
}

namespace {

std::string ReadFileBytes(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  MOKA_CHECK(file, IoError, "cannot open the file");
  std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  MOKA_CHECK(!file.bad(), IoError, "cannot read the file");
  return bytes;
}

}  // namespace

std::vector<int> ImageFileToDatum(const std::string& path, int label,
                                  const ImageReadOptions& options, Datum* datum) {
  const cv::Mat image =
      ReadImage(path, options.color, options.resize_height, options.resize_width);
  const std::vector<int> shape = {image.channels(), image.rows, image.cols};
  datum->Clear();
  datum->set_label(label);
  if (options.encoding.empty()) {
    CvMatToDatum(image, datum);
    return shape;
  }
  const bool resized = options.resize_height > 0 || options.resize_width > 0;
  if (options.reuse_file_bytes && !resized && (image.channels() == 3) == options.color) {
    datum->set_data(ReadFileBytes(path));
  } else {
    std::vector<unsigned char> bytes;
    bool written = false;
    try {
      written = cv::imencode("." + options.encoding, image, bytes);
    } catch (const cv::Exception& error) {
      MOKA_THROW(IoError, "cannot encode as '" << options.encoding << "': " << error.what());
    }
    MOKA_CHECK(written, IoError, "cannot encode as '" << options.encoding << "'");
    datum->set_data(std::string(bytes.begin(), bytes.end()));
  }
  datum->set_encoded(true);
  return shape;
}

bool DecodeDatumNative(Datum* datum) {
  if (!datum->encoded()) return false;
  const std::string& bytes = datum->data();
  cv::Mat image;
  try {
    image = cv::imdecode(cv::Mat(1, static_cast<int>(bytes.size()), CV_8UC1,
                                 const_cast<char*>(bytes.data())),
                         cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& error) {
    MOKA_THROW(IoError, "cannot decode an encoded record: " << error.what());
  }
  MOKA_CHECK(!image.empty(), IoError, "cannot decode an encoded record (" << bytes.size()
                                                                          << " bytes)");
  CvMatToDatum(image, datum);
  return true;
}

std::unique_ptr<db::Writer> NewDatabase(const std::string& backend, const std::string& path) {
  const db::Backend kind = db::ParseBackend(backend);
  MOKA_CHECK(!std::filesystem::exists(path), IoError,
             "output database '" << path << "' already exists; remove it or choose another path");
  return db::OpenWriter(kind, path);
}

std::unique_ptr<db::Reader> OpenDatabase(const std::string& backend, const std::string& path) {
  const db::Backend kind = db::ParseBackend(backend);
  MOKA_CHECK(std::filesystem::exists(path), IoError,
             "no " << db::BackendName(kind) << " database at '" << path << "'");
  return db::OpenReader(kind, path);
}

}  // namespace moka
