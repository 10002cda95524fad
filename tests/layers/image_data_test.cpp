#include "layers/image_data.hpp"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "temp_dir.hpp"
#include "test_util.hpp"

namespace moka {
namespace {

constexpr int kImages = 5;
constexpr int kHeight = 3, kWidth = 4;

/// Channel c of pixel (h, w) of image i, in OpenCV's BGR order.
int Pixel(int image, int c, int h, int w) {
  return (image * 40 + c * 13 + h * 5 + w * 3) % 256;
}

cv::Mat MakeImage(int image, int channels, int height = kHeight, int width = kWidth) {
  cv::Mat mat(height, width, channels == 3 ? CV_8UC3 : CV_8UC1);
  for (int h = 0; h < height; ++h)
    for (int w = 0; w < width; ++w)
      for (int c = 0; c < channels; ++c)
        mat.ptr<uint8_t>(h)[w * channels + c] = Pixel(image, c, h, w);
  return mat;
}

int Label(int image) {
  return 10 + image;
}

template <typename Dtype>
class ImageDataLayerTest : public ::testing::Test {
 protected:
  ImageDataLayerTest() {
    std::filesystem::create_directories(dir_ / "images");
    std::ofstream list(dir_ / "list.txt");
    for (int i = 0; i < kImages; ++i) {
      // One name with a space: the label follows the last space.
      const std::string name = i == 3 ? "img three.png" : "img" + std::to_string(i) + ".png";
      cv::imwrite(dir_ / ("images/" + name), MakeImage(i, 3));
      list << name << " " << Label(i) << "\n";
    }
  }

  std::string LayerText(const std::string& image_param, const std::string& extra = "",
                        const std::string& phase = "TRAIN") const {
    return "name: 'images' type: 'ImageData' top: 'data' top: 'label' phase: " + phase +
           " image_data_param { source: '" + (dir_ / "list.txt") + "' root_folder: '" +
           (dir_ / "images/") + "' " + image_param + " } " + extra;
  }

  /// Labels of `batches` batches of the layer built from `text` with a seeded context.
  std::vector<int> Labels(const std::string& text, uint64_t seed, int batches) {
    Context context(Device::kCpu, 0, seed);
    auto layer = test::MakeLayer<Dtype>(text, &context);
    layer->SetUp({}, tops_);
    std::vector<int> labels;
    for (int b = 0; b < batches; ++b) {
      layer->Forward({}, tops_);
      for (int n = 0; n < label_.count(); ++n)
        labels.push_back(static_cast<int>(label_.cpu_data()[n]));
    }
    return labels;
  }

  test::TempDir dir_;
  Blob<Dtype> data_;
  Blob<Dtype> label_;
  std::vector<Blob<Dtype>*> tops_{&data_, &label_};
};

TYPED_TEST_SUITE(ImageDataLayerTest, test::TestDtypes);

TYPED_TEST(ImageDataLayerTest, ReadsListInOrderAndWrapsAround) {
  Context context;
  auto layer = test::MakeLayer<TypeParam>(this->LayerText("batch_size: 3"), &context);
  layer->SetUp({}, this->tops_);
  EXPECT_EQ(this->data_.shape(), (std::vector<int>{3, 3, kHeight, kWidth}));
  EXPECT_EQ(this->label_.shape(), (std::vector<int>{3}));
  int image = 0;
  for (int batch = 0; batch < 3; ++batch) {
    layer->Forward({}, this->tops_);
    for (int n = 0; n < 3; ++n, image = (image + 1) % kImages) {
      EXPECT_EQ(this->label_.cpu_data()[n], TypeParam(Label(image)));
      for (int c = 0; c < 3; ++c)
        for (int h = 0; h < kHeight; ++h)
          for (int w = 0; w < kWidth; ++w)
            ASSERT_EQ(this->data_.data_at(n, c, h, w), TypeParam(Pixel(image, c, h, w)))
                << "image " << image << " c " << c << " h " << h << " w " << w;
    }
  }
}

TYPED_TEST(ImageDataLayerTest, GrayResizeAndTransform) {
  // Gray read of a colour file, then resize, then TEST-phase centre crop, mean and scale.
  Context context;
  auto layer = test::MakeLayer<TypeParam>(
      this->LayerText("batch_size: 2 is_color: false new_height: 5 new_width: 6",
                      "transform_param { crop_size: 3 mean_value: 7 scale: 0.5 }", "TEST"),
      &context);
  layer->SetUp({}, this->tops_);
  EXPECT_EQ(this->data_.shape(), (std::vector<int>{2, 1, 3, 3}));
  layer->Forward({}, this->tops_);
  for (int n = 0; n < 2; ++n) {
    // Caffe decodes with imread's own gray conversion, so the expectation does too.
    const cv::Mat gray =
        cv::imread(this->dir_ / ("images/img" + std::to_string(n) + ".png"), cv::IMREAD_GRAYSCALE);
    ASSERT_EQ(gray.channels(), 1);
    cv::Mat resized;
    cv::resize(gray, resized, cv::Size(6, 5), 0, 0, cv::INTER_LINEAR);
    // Centre-crop offsets (5-3)/2 = 1 and (6-3)/2 = 1.
    for (int h = 0; h < 3; ++h)
      for (int w = 0; w < 3; ++w)
        EXPECT_EQ(this->data_.data_at(n, 0, h, w),
                  (TypeParam(resized.at<uint8_t>(h + 1, w + 1)) - TypeParam(7)) * TypeParam(0.5))
            << n << " " << h << " " << w;
  }
}

TYPED_TEST(ImageDataLayerTest, GrayFileReadAsColourRepeatsItsChannel) {
  cv::imwrite(this->dir_ / "images/gray.png", MakeImage(2, 1));
  { std::ofstream(this->dir_ / "list.txt") << "gray.png 4\n"; }
  Context context;
  auto layer = test::MakeLayer<TypeParam>(this->LayerText("batch_size: 1"), &context);
  layer->SetUp({}, this->tops_);
  layer->Forward({}, this->tops_);
  ASSERT_EQ(this->data_.shape(), (std::vector<int>{1, 3, kHeight, kWidth}));
  for (int c = 0; c < 3; ++c)
    EXPECT_EQ(this->data_.data_at(0, c, 2, 3), TypeParam(Pixel(2, 0, 2, 3)));
  EXPECT_EQ(this->label_.cpu_data()[0], TypeParam(4));
}

TYPED_TEST(ImageDataLayerTest, ShuffleIsSeededAndEachPassIsAPermutation) {
  const std::string text = this->LayerText("batch_size: 5 shuffle: true");
  const std::vector<int> a = this->Labels(text, 3, 3);
  EXPECT_EQ(a, this->Labels(text, 3, 3));
  bool some_differ = false;
  for (uint64_t seed = 4; seed < 8 && !some_differ; ++seed)
    some_differ = a != this->Labels(text, seed, 3);
  EXPECT_TRUE(some_differ);
  for (int pass = 0; pass < 3; ++pass) {
    const std::set<int> seen(a.begin() + pass * 5, a.begin() + pass * 5 + 5);
    EXPECT_EQ(seen.size(), 5u) << "pass " << pass;
    EXPECT_EQ(*seen.begin(), Label(0));
  }
  // Unshuffled order is the list's, whatever the seed.
  EXPECT_EQ(this->Labels(this->LayerText("batch_size: 5"), 9, 1),
            (std::vector<int>{10, 11, 12, 13, 14}));
}

TYPED_TEST(ImageDataLayerTest, RandSkipStartsAtARandomLine) {
  std::set<int> starts;
  for (uint64_t seed = 0; seed < 10; ++seed) {
    const std::vector<int> labels =
        this->Labels(this->LayerText("batch_size: 2 rand_skip: 4"), seed, 1);
    ASSERT_LT(labels[0] - 10, 4);
    EXPECT_EQ(labels[1], 10 + (labels[0] - 10 + 1) % kImages);
    starts.insert(labels[0]);
  }
  EXPECT_GT(starts.size(), 1u);
}

TYPED_TEST(ImageDataLayerTest, BadInputsGiveClearErrors) {
  Context context;
  auto expect_error = [&](const std::string& text, const std::string& needle, auto error_type) {
    auto layer = test::MakeLayer<TypeParam>(text, &context);
    try {
      layer->SetUp({}, this->tops_);
      ADD_FAILURE() << "expected an error mentioning " << needle;
    } catch (const decltype(error_type)& error) {
      EXPECT_NE(std::string(error.what()).find(needle), std::string::npos) << error.what();
    }
  };
  expect_error(this->LayerText("batch_size: 2 new_height: 4"), "new_width", ConfigError("", "", 0));
  expect_error(this->LayerText("batch_size: 0"), "batch_size", ConfigError("", "", 0));
  const std::string missing_list = this->dir_ / "nope.txt";
  expect_error("type: 'ImageData' top: 'd' top: 'l' image_data_param { source: '" + missing_list +
                   "' batch_size: 1 }",
               missing_list, IoError("", "", 0));

  { std::ofstream(this->dir_ / "list.txt") << "missing.png 1\n"; }
  expect_error(this->LayerText("batch_size: 1"), "missing.png", IoError("", "", 0));
  { std::ofstream(this->dir_ / "images/text.png") << "not an image"; }
  { std::ofstream(this->dir_ / "list.txt") << "text.png 1\n"; }
  expect_error(this->LayerText("batch_size: 1"), "text.png", IoError("", "", 0));
  { std::ofstream(this->dir_ / "list.txt") << "img0.png\n"; }
  expect_error(this->LayerText("batch_size: 1"), "line 1", IoError("", "", 0));
  { std::ofstream(this->dir_ / "list.txt") << "img0.png one\n"; }
  expect_error(this->LayerText("batch_size: 1"), "'one'", IoError("", "", 0));
  { std::ofstream(this->dir_ / "list.txt") << "\n"; }
  expect_error(this->LayerText("batch_size: 1"), "lists no images", IoError("", "", 0));
}

TYPED_TEST(ImageDataLayerTest, LaterBadImagesFailForwardNamingThem) {
  cv::imwrite(this->dir_ / "images/big.png", MakeImage(0, 3, 6, 6));
  {
    std::ofstream list(this->dir_ / "list.txt");
    list << "img0.png 0\nimg1.png 1\nimg2.png 2\nbroken.png 3\nimg0.png 4\nbig.png 5\n";
  }
  Context context;
  auto layer = test::MakeLayer<TypeParam>(this->LayerText("batch_size: 2 "), &context);
  layer->SetUp({}, this->tops_);
  layer->Forward({}, this->tops_);
  try {
    layer->Forward({}, this->tops_);
    FAIL() << "expected IoError";
  } catch (const IoError& error) {
    EXPECT_NE(std::string(error.what()).find("broken.png"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("layer 'images'"), std::string::npos) << error.what();
  }

  { std::ofstream(this->dir_ / "list.txt") << "img0.png 0\nbig.png 1\n"; }
  auto mixed = test::MakeLayer<TypeParam>(this->LayerText("batch_size: 2 "), &context);
  mixed->SetUp({}, this->tops_);
  try {
    mixed->Forward({}, this->tops_);
    FAIL() << "expected ShapeError";
  } catch (const ShapeError& error) {
    EXPECT_NE(std::string(error.what()).find("big.png"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace moka
