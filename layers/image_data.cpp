#include "layers/image_data.hpp"

#include <cctype>
#include <cstdlib>
#include <fstream>

#include "layer_registry.hpp"
#include "layers/image_io.hpp"

namespace moka {

template <typename Dtype>
ImageDataLayer<Dtype>::~ImageDataLayer() {
  this->prefetcher_.Stop();
}

template <typename Dtype>
void ImageDataLayer<Dtype>::ReadList(const std::string& source) {
  std::ifstream in(source);
  MOKA_CHECK(in.good(), IoError, "cannot open image list '" << source << "'");
  lines_.clear();
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    if (line.empty()) continue;
    // Like Caffe, the label follows the last space, so paths may contain spaces.
    const size_t space = line.find_last_of(' ');
    MOKA_CHECK(space != std::string::npos && space > 0, IoError,
               "line " << number << " of image list '" << source << "' is not 'PATH LABEL': '"
                       << line << "'");
    const std::string label_text = line.substr(space + 1);
    char* end = nullptr;
    const long label = std::strtol(label_text.c_str(), &end, 10);
    MOKA_CHECK(end != label_text.c_str() && *end == '\0', IoError,
               "line " << number << " of image list '" << source << "' has label '" << label_text
                       << "', which is not an integer");
    lines_.emplace_back(line.substr(0, space), static_cast<int>(label));
  }
  MOKA_CHECK(!lines_.empty(), IoError, "image list '" << source << "' lists no images");
}

template <typename Dtype>
void ImageDataLayer<Dtype>::Shuffle() {
  // Fisher-Yates, drawing from the layer's stream so that a seed fixes the order.
  for (size_t i = lines_.size() - 1; i > 0; --i) {
    std::swap(lines_[i], lines_[rng_() % (i + 1)]);
  }
}

template <typename Dtype>
void ImageDataLayer<Dtype>::ReadLine(size_t index) {
  const ImageDataParameter& param = this->layer_param_.image_data_param();
  const std::string path = param.root_folder() + lines_[index].first;
  const cv::Mat image = ReadImage(path, static_cast<int>(param.new_height()),
                                  static_cast<int>(param.new_width()), param.is_color());
  MatToDatum(image, lines_[index].second, &datum_);
}

template <typename Dtype>
void ImageDataLayer<Dtype>::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  this->prefetcher_.Stop();
  const ImageDataParameter& param = this->layer_param_.image_data_param();
  MOKA_CHECK(param.has_source() && !param.source().empty(), ConfigError,
             "image_data_param needs a source");
  MOKA_CHECK((param.new_height() == 0) == (param.new_width() == 0), ConfigError,
             "image_data_param: set new_height and new_width together (got "
                 << param.new_height() << " and " << param.new_width() << ")");
  MOKA_CHECK(param.batch_size() > 0, ConfigError,
             "image_data_param.batch_size must be positive, got " << param.batch_size());
  const uint32_t prefetch = this->layer_param_.data_param().prefetch();
  MOKA_CHECK(prefetch > 0, ConfigError, "data_param.prefetch must be positive, got " << prefetch);

  transformer_ =
      std::make_unique<DataTransformer<Dtype>>(this->layer_param_.transform_param(), this->phase());
  rng_.seed(this->context().NextSeed());
  ReadList(param.source());
  if (param.shuffle()) Shuffle();
  line_id_ = 0;
  if (param.rand_skip() > 0) {
    const size_t skip = rng_() % param.rand_skip();
    MOKA_CHECK(skip < lines_.size(), ConfigError,
               "rand_skip drew " << skip << ", but image list '" << param.source() << "' has only "
                                 << lines_.size() << " images");
    line_id_ = skip;
  }

  ReadLine(line_id_);
  std::vector<int> shape;
  try {
    shape = transformer_->InferBlobShape(datum_);
  } catch (Error& error) {
    error.AddContext("image '" + param.root_folder() + lines_[line_id_].first + "'");
    throw;
  }
  const int batch_size = static_cast<int>(param.batch_size());
  shape[0] = batch_size;
  top[0]->Reshape(shape);
  top[1]->Reshape(std::vector<int>{batch_size});
  this->prefetcher_.Start(prefetch, shape, {batch_size},
                    [this](DataBatch<Dtype>* batch) { LoadBatch(batch); });
}

template <typename Dtype>
void ImageDataLayer<Dtype>::LoadBatch(DataBatch<Dtype>* batch) {
  const ImageDataParameter& param = this->layer_param_.image_data_param();
  const int batch_size = static_cast<int>(param.batch_size());
  std::vector<int> item_shape;
  for (int item = 0; item < batch_size && !this->prefetcher_.stopping(); ++item) {
    ReadLine(line_id_);  // its errors name the file
    try {
      std::vector<int> shape = transformer_->InferBlobShape(datum_);
      if (item == 0) {
        item_shape = shape;
        shape[0] = batch_size;
        batch->data.Reshape(shape);
      } else {
        MOKA_CHECK(shape == item_shape, ShapeError,
                   "transformed image has shape "
                       << ShapeString(shape) << ", but the batch's first image has "
                       << ShapeString(item_shape) << " (set new_height/new_width or crop_size)");
      }
      transformer_->Transform(datum_, &rng_,
                              batch->data.mutable_cpu_data() + batch->data.offset(item));
    } catch (Error& error) {
      error.AddContext("image '" + param.root_folder() + lines_[line_id_].first + "'");
      throw;
    }
    batch->label.mutable_cpu_data()[item] = static_cast<Dtype>(lines_[line_id_].second);
    if (++line_id_ == lines_.size()) {
      line_id_ = 0;
      if (param.shuffle()) Shuffle();
    }
  }
}

MOKA_INSTANTIATE_CLASS(ImageDataLayer);
MOKA_REGISTER_LAYER(ImageData);

}  // namespace moka
