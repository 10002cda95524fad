// moka classify: the top-k classes of each image under a trained classifier, with the
// preprocessing and output of Caffe's cpp_classification example: the image is converted to the
// net's channel count (BGR order, as OpenCV reads it), resized to the input size (bilinear), the
// per-channel mean subtracted, and the net's single output read as class scores.
#include <glog/logging.h>

#include <algorithm>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <numeric>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "blob.hpp"
#include "error.hpp"
#include "moka.pb.h"
#include "net.hpp"
#include "proto_io.hpp"
#include "tools/cli.hpp"
#include "tools/verb_args.hpp"
#include "tools/verbs.hpp"

namespace moka {

namespace {

const char kUsage[] =
    "usage: moka classify --model=DEPLOY.prototxt --weights=W.caffemodel [--labels=LABELS.txt]\n"
    "                     [--mean=MEAN.binaryproto | --mean_value=B,G,R] [--scale=S] [--top_k=5]\n"
    "                     [--gpu=N] IMAGE...";

std::vector<std::string> ReadLabels(const std::string& path) {
  std::ifstream file(path);
  MOKA_CHECK(file, IoError, "cannot open labels file '" << path << "'");
  std::vector<std::string> labels;
  std::string line;
  while (std::getline(file, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    labels.push_back(line);
  }
  // A final newline is not an extra, empty label.
  while (!labels.empty() && labels.back().empty()) labels.pop_back();
  return labels;
}

/// One mean per input channel. A mean file is reduced to the mean of each of its channels, as
/// cpp_classification does, so that it applies to an image of any size.
std::vector<float> ChannelMeans(const std::string& mean_file, const std::string& mean_values,
                                int channels) {
  MOKA_CHECK(mean_file.empty() || mean_values.empty(), ConfigError,
             "give --mean or --mean_value, not both");
  std::vector<float> means(channels, 0.0f);
  if (!mean_file.empty()) {
    BlobProto proto;
    ReadProtoFromBinaryFile(mean_file, &proto);
    Blob<float> mean;
    mean.FromProto(proto, true);
    MOKA_CHECK(mean.num_axes() >= 2 && mean.channels() == channels, ShapeError,
               "mean file '" << mean_file << "' has shape " << mean.shape_string()
                             << "; the net's input has " << channels << " channels");
    const int plane = mean.count() / mean.num() / channels;
    for (int c = 0; c < channels; ++c) {
      const float* values = mean.cpu_data() + static_cast<size_t>(c) * plane;
      double sum = 0;
      for (int i = 0; i < plane; ++i) sum += values[i];
      means[c] = static_cast<float>(sum / plane);
    }
  } else if (!mean_values.empty()) {
    const std::vector<std::string> items = SplitList(mean_values);
    MOKA_CHECK(items.size() == 1 || static_cast<int>(items.size()) == channels, ConfigError,
               "--mean_value needs 1 or " << channels << " values, got " << items.size());
    for (int c = 0; c < channels; ++c) {
      const std::string& item = items[items.size() == 1 ? 0 : c];
      char* end = nullptr;
      means[c] = std::strtof(item.c_str(), &end);
      MOKA_CHECK(*end == '\0', ConfigError, "--mean_value: '" << item << "' is not a number");
    }
  }
  return means;
}

/// The image as `channels` float planes of the net's input size, mean subtracted and scaled.
void Preprocess(const cv::Mat& image, int channels, int height, int width,
                const std::vector<float>& means, float scale, float* out) {
  cv::Mat sample;
  if (image.channels() == 3 && channels == 1) {
    cv::cvtColor(image, sample, cv::COLOR_BGR2GRAY);
  } else if (image.channels() == 4 && channels == 1) {
    cv::cvtColor(image, sample, cv::COLOR_BGRA2GRAY);
  } else if (image.channels() == 4 && channels == 3) {
    cv::cvtColor(image, sample, cv::COLOR_BGRA2BGR);
  } else if (image.channels() == 1 && channels == 3) {
    cv::cvtColor(image, sample, cv::COLOR_GRAY2BGR);
  } else {
    sample = image;
  }
  MOKA_CHECK(sample.channels() == channels, ShapeError,
             "the image has " << image.channels() << " channels; the net wants " << channels);
  if (sample.rows != height || sample.cols != width) {
    cv::Mat resized;
    cv::resize(sample, resized, cv::Size(width, height));
    sample = resized;
  }
  cv::Mat floats;
  sample.convertTo(floats, CV_32FC(channels));
  for (int h = 0; h < height; ++h) {
    const float* row = floats.ptr<float>(h);
    for (int w = 0; w < width; ++w) {
      for (int c = 0; c < channels; ++c) {
        out[(static_cast<size_t>(c) * height + h) * width + w] =
            (row[w * channels + c] - means[c]) * scale;
      }
    }
  }
}

int Run(const VerbArgs& args) {
  MOKA_CHECK(!args.GetString("model").empty(), ConfigError,
             "give the deploy net: --model=DEPLOY.prototxt\n" << kUsage);
  MOKA_CHECK(!args.positional().empty(), ConfigError, "give at least one image\n" << kUsage);
  const int top_k = args.GetInt("top_k");
  MOKA_CHECK(top_k > 0, ConfigError, "--top_k must be positive, got " << top_k);
  FLAGS_gpu = args.GetString("gpu");
  std::vector<int> gpus = GpusFromFlags();
  if (gpus.size() > 1) gpus = {gpus[0]};

  Net<float> net(args.GetString("model"), TEST, MakeContext(gpus));
  if (args.GetString("weights").empty()) {
    LOG(WARNING) << "No --weights given: classifying with the net's initial (filler) weights.";
  }
  for (const std::string& weights : SplitList(args.GetString("weights"))) {
    net.CopyTrainedLayersFrom(weights);
  }
  MOKA_CHECK(net.input_blobs().size() == 1, ConfigError,
             "classify needs a net with exactly one input (an Input layer); '"
                 << args.GetString("model") << "' has " << net.input_blobs().size());
  MOKA_CHECK(net.output_blobs().size() == 1, ConfigError,
             "classify needs a net with exactly one output; '" << args.GetString("model")
                                                               << "' has "
                                                               << net.output_blobs().size());
  Blob<float>* input = net.input_blobs()[0];
  MOKA_CHECK(input->num_axes() == 4, ShapeError,
             "the net's input must be N x C x H x W, not " << input->shape_string());
  const int channels = input->shape(1), height = input->shape(2), width = input->shape(3);
  MOKA_CHECK(channels == 1 || channels == 3, ShapeError,
             "the net's input must have 1 or 3 channels, not " << channels);
  const std::vector<float> means =
      ChannelMeans(args.GetString("mean"), args.GetString("mean_value"), channels);
  const float scale = static_cast<float>(args.GetDouble("scale"));

  input->Reshape({1, channels, height, width});
  net.Reshape();
  Blob<float>* output = net.output_blobs()[0];
  const int classes = output->count() / std::max(1, output->num_axes() > 0 ? output->shape(0) : 1);
  std::vector<std::string> labels;
  if (!args.GetString("labels").empty()) {
    labels = ReadLabels(args.GetString("labels"));
    MOKA_CHECK(static_cast<int>(labels.size()) == classes, ConfigError,
               "labels file '" << args.GetString("labels") << "' has " << labels.size()
                               << " labels, but the net's output has " << classes << " classes");
  } else {
    for (int i = 0; i < classes; ++i) labels.push_back(std::to_string(i));
  }

  int failures = 0;
  for (const std::string& file : args.positional()) {
    cv::Mat image;
    try {
      image = cv::imread(file, cv::IMREAD_UNCHANGED);
    } catch (const cv::Exception&) {
      image = cv::Mat();
    }
    if (image.empty()) {
      std::cerr << "classify: cannot read '" << file << "' as an image" << std::endl;
      ++failures;
      continue;
    }
    try {
      Preprocess(image, channels, height, width, means, scale, input->mutable_cpu_data());
    } catch (const Error& error) {
      std::cerr << "classify: '" << file << "': " << error.what() << std::endl;
      ++failures;
      continue;
    }
    net.Forward();
    const float* scores = output->cpu_data();
    std::vector<int> order(classes);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [scores](int a, int b) { return scores[a] > scores[b]; });
    std::cout << "---------- Prediction for " << file << " ----------" << std::endl;
    for (int i = 0; i < std::min(top_k, classes); ++i) {
      std::cout << std::fixed << std::setprecision(4) << scores[order[i]] << " - \""
                << labels[order[i]] << "\"" << std::endl;
    }
  }
  MOKA_CHECK(failures == 0, IoError,
             failures << " of " << args.positional().size() << " images could not be classified");
  return 0;
}

}  // namespace

int ClassifyMain(int argc, char** argv) {
  const VerbArgs args("classify", argc, argv,
                      {{"model", VerbArgs::Kind::kString, ""},
                       {"weights", VerbArgs::Kind::kString, ""},
                       {"labels", VerbArgs::Kind::kString, ""},
                       {"mean", VerbArgs::Kind::kString, ""},
                       {"mean_value", VerbArgs::Kind::kString, ""},
                       {"scale", VerbArgs::Kind::kDouble, "1"},
                       {"top_k", VerbArgs::Kind::kInt, "5"},
                       {"gpu", VerbArgs::Kind::kString, ""}});
  if (args.help()) {
    std::cout << kUsage << "\n";
    return 0;
  }
  return Run(args);
}

}  // namespace moka
