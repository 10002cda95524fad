#pragma once
// Images to Datum records and back, and record databases chosen by a --backend name: what
// convert_imageset, compute_image_mean and extract share. Conversions follow Caffe's io.cpp:
// records hold uint8 pixels in C x H x W order with OpenCV's channel order (BGR), or the encoded
// file bytes with encoded = true.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "db.hpp"
#include "moka.pb.h"

namespace moka {

struct ImageReadOptions {
  /// Three channels (BGR) when true, one (gray) when false.
  bool color = true;
  /// Both positive: the image is resized (bilinear) to this size.
  int resize_height = 0;
  int resize_width = 0;
  /// Empty: raw pixels. Otherwise a codec extension ("png", "jpg"): the record holds the image
  /// encoded that way.
  std::string encoding;
  /// With an encoding taken from the file's own name: store the file's bytes unchanged when the
  /// image needs no resize and its channel count is the one asked for. (Caffe re-encodes whenever
  /// the encoding was given explicitly, since its extension check compares ".jpg" with "jpg".)
  bool reuse_file_bytes = false;
};

/// Reads an image file into a Datum with `label`, and returns the stored image's {C, H, W} (as
/// decoded, for encoded records too). Throws IoError when the file is missing or is not an image
/// OpenCV can decode.
std::vector<int> ImageFileToDatum(const std::string& path, int label,
                                  const ImageReadOptions& options, Datum* datum);

/// Reads an image as Caffe's ReadImageToCVMat does: `color` or gray, resized when both sizes are
/// positive. Throws IoError when it cannot be read.
cv::Mat ReadImage(const std::string& path, bool color, int resize_height = 0,
                  int resize_width = 0);

/// Stores an 8-bit image as raw CHW pixels, clearing any previous data. Throws IoError for other
/// pixel depths.
void CvMatToDatum(const cv::Mat& image, Datum* datum);

/// Decodes an encoded record in place keeping the file's own channels (Caffe's
/// DecodeDatumNative); returns false when the record was not encoded. Throws IoError when the
/// bytes do not decode.
bool DecodeDatumNative(Datum* datum);

/// The lower-cased extension of `path` without the dot ("" when it has none).
std::string FileExtension(const std::string& path);

/// A new database of `backend` ("lmdb" or "leveldb", as Caffe's --backend) at `path`, which must
/// not exist yet: adding to an old database would mix two runs' records.
std::unique_ptr<db::Writer> NewDatabase(const std::string& backend, const std::string& path);
/// An existing database, with an IoError naming the path when there is none.
std::unique_ptr<db::Reader> OpenDatabase(const std::string& backend, const std::string& path);

}  // namespace moka
