#include "data_transformer.hpp"

#include <opencv2/imgcodecs.hpp>

#include "proto_io.hpp"

namespace moka {
namespace {

/// An encoded record (the bytes of a PNG or JPEG file, as convert_imageset --encoded writes)
/// as a raw one: decoded with its own channels unless transform_param forces colour or gray, as
/// Caffe's data layer does.
Datum DecodeDatum(const Datum& encoded, const TransformationParameter& param) {
  MOKA_CHECK(!(param.force_color() && param.force_gray()), ConfigError,
             "transform_param sets both force_color and force_gray");
  const int mode = param.force_color()  ? cv::IMREAD_COLOR
                   : param.force_gray() ? cv::IMREAD_GRAYSCALE
                                        : cv::IMREAD_ANYCOLOR;
  const std::string& bytes = encoded.data();
  cv::Mat image;
  try {
    const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8UC1,
                         const_cast<char*>(bytes.data()));
    image = cv::imdecode(buffer, mode);
  } catch (const cv::Exception& error) {
    MOKA_THROW(IoError, "cannot decode an encoded Datum: " << error.what());
  }
  MOKA_CHECK(!image.empty() && image.depth() == CV_8U, IoError,
             "an encoded Datum holds " << bytes.size()
                                       << " bytes that are not an 8-bit image OpenCV can decode");
  Datum raw;
  raw.set_channels(image.channels());
  raw.set_height(image.rows);
  raw.set_width(image.cols);
  raw.set_label(encoded.label());
  std::string* data = raw.mutable_data();
  data->resize(static_cast<size_t>(image.channels()) * image.rows * image.cols);
  for (int h = 0; h < image.rows; ++h) {
    const uint8_t* row = image.ptr<uint8_t>(h);
    for (int w = 0; w < image.cols; ++w) {
      for (int c = 0; c < image.channels(); ++c) {
        (*data)[(static_cast<size_t>(c) * image.rows + h) * image.cols + w] =
            static_cast<char>(row[w * image.channels() + c]);
      }
    }
  }
  return raw;
}

}  // namespace

template <typename Dtype>
DataTransformer<Dtype>::DataTransformer(const TransformationParameter& param, Phase phase)
    : param_(param), phase_(phase) {
  MOKA_CHECK(!(param_.has_mean_file() && param_.mean_value_size() > 0), ConfigError,
             "transform_param gives both mean_file and mean_value; give one of them");
  if (param_.has_mean_file()) {
    BlobProto proto;
    ReadProtoFromBinaryFile(param_.mean_file(), &proto);
    mean_.FromProto(proto);
  }
  for (int i = 0; i < param_.mean_value_size(); ++i) mean_values_.push_back(param_.mean_value(i));
}

template <typename Dtype>
void DataTransformer<Dtype>::CheckDatum(const Datum& datum) const {
  MOKA_ASSERT(!datum.encoded());
  const int channels = datum.channels();
  const int height = datum.height();
  const int width = datum.width();
  MOKA_CHECK(channels > 0 && height > 0 && width > 0, IoError,
             "Datum has shape " << channels << " x " << height << " x " << width
                                << "; every dimension must be positive");
  const size_t count = static_cast<size_t>(channels) * height * width;
  if (!datum.data().empty()) {
    MOKA_CHECK(datum.data().size() == count, IoError,
               "Datum of shape " << channels << " x " << height << " x " << width << " holds "
                                 << datum.data().size() << " bytes of data, expected " << count);
  } else {
    MOKA_CHECK(static_cast<size_t>(datum.float_data_size()) == count, IoError,
               "Datum of shape " << channels << " x " << height << " x " << width << " holds "
                                 << datum.float_data_size() << " float_data values, expected "
                                 << count);
  }
  const int crop = static_cast<int>(param_.crop_size());
  MOKA_CHECK(
      crop <= height && crop <= width, ShapeError,
      "crop_size " << crop << " is larger than the " << height << " x " << width << " image");
  if (param_.has_mean_file()) {
    MOKA_CHECK(mean_.count() == static_cast<int>(count) && mean_.channels() == channels &&
                   mean_.height() == height && mean_.width() == width,
               ShapeError,
               "mean file '" << param_.mean_file() << "' has shape " << mean_.shape_string()
                             << ", but the data is " << channels << " x " << height << " x "
                             << width);
  }
  if (!mean_values_.empty()) {
    MOKA_CHECK(
        mean_values_.size() == 1 || static_cast<int>(mean_values_.size()) == channels, ConfigError,
        "give one mean_value or one per channel (" << channels << "), got " << mean_values_.size());
  }
}

template <typename Dtype>
std::vector<int> DataTransformer<Dtype>::InferBlobShape(const Datum& datum) const {
  if (datum.encoded()) return InferBlobShape(DecodeDatum(datum, param_));
  CheckDatum(datum);
  const int crop = static_cast<int>(param_.crop_size());
  return {1, datum.channels(), crop > 0 ? crop : datum.height(), crop > 0 ? crop : datum.width()};
}

template <typename Dtype>
void DataTransformer<Dtype>::Transform(const Datum& datum, std::mt19937_64* rng, Dtype* out) const {
  if (datum.encoded()) return Transform(DecodeDatum(datum, param_), rng, out);
  CheckDatum(datum);
  const int channels = datum.channels();
  const int in_height = datum.height();
  const int in_width = datum.width();
  const int crop = static_cast<int>(param_.crop_size());
  const Dtype scale = param_.scale();

  // The draws come in Caffe's order: the mirror coin first, then the crop offsets.
  const bool mirror = param_.mirror() && Rand(rng, 2) != 0;
  int height = in_height, width = in_width, h_off = 0, w_off = 0;
  if (crop > 0) {
    height = width = crop;
    if (phase_ == TRAIN) {
      h_off = Rand(rng, in_height - crop + 1);
      w_off = Rand(rng, in_width - crop + 1);
    } else {
      h_off = (in_height - crop) / 2;
      w_off = (in_width - crop) / 2;
    }
  }

  const std::string& bytes = datum.data();
  const bool from_bytes = !bytes.empty();
  const Dtype* mean_pixels = param_.has_mean_file() ? mean_.cpu_data() : nullptr;
  for (int c = 0; c < channels; ++c) {
    const Dtype channel_mean =
        mean_values_.empty() ? Dtype(0) : mean_values_[mean_values_.size() == 1 ? 0 : c];
    for (int h = 0; h < height; ++h) {
      // The mean file is indexed like the uncropped input.
      const int in_row = (c * in_height + h_off + h) * in_width + w_off;
      Dtype* out_row = out + (c * height + h) * width;
      for (int w = 0; w < width; ++w) {
        const int in_index = in_row + w;
        const Dtype x = from_bytes ? Dtype(static_cast<uint8_t>(bytes[in_index]))
                                   : Dtype(datum.float_data(in_index));
        const Dtype mean = mean_pixels != nullptr ? mean_pixels[in_index] : channel_mean;
        out_row[mirror ? width - 1 - w : w] = (x - mean) * scale;
      }
    }
  }
}

TransformationParameter EffectiveTransformParam(const LayerParameter& param) {
  if (param.has_transform_param() || !param.has_data_param()) return param.transform_param();
  const DataParameter& data = param.data_param();
  TransformationParameter transform;
  if (data.has_scale()) transform.set_scale(data.scale());
  if (data.has_mean_file()) transform.set_mean_file(data.mean_file());
  if (data.has_crop_size()) transform.set_crop_size(data.crop_size());
  if (data.has_mirror()) transform.set_mirror(data.mirror());
  return transform;
}

MOKA_INSTANTIATE_CLASS(DataTransformer);

}  // namespace moka
