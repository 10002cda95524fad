#pragma once
// Image reading for the data layers that decode files with OpenCV (ImageData, WindowData) and the
// conversion of 8-bit images into raw Datum records, so that they go through the same
// DataTransformer as database records.
#include <opencv2/core.hpp>

#include <string>

#include "moka.pb.h"

namespace moka {

/// Reads an image file as 3-channel BGR (is_color) or 1-channel gray, resized with bilinear
/// interpolation to new_height x new_width when both are positive (Caffe's ReadImageToCVMat).
/// Throws IoError naming the file when it is missing or not a decodable image.
cv::Mat ReadImage(const std::string& path, int new_height, int new_width, bool is_color);

/// Decodes an image held in memory (the bytes of an image file) as 3-channel BGR; `name` is used
/// in the IoError raised when the bytes are not an image.
cv::Mat DecodeColorImage(const std::string& bytes, const std::string& name);

/// Stores an 8-bit image as a raw Datum: channels, height and width from the image, bytes in
/// channel-major (C x H x W) order, with `label`. Throws ShapeError for other pixel depths.
void MatToDatum(const cv::Mat& image, int label, Datum* datum);

}  // namespace moka
