#include "layers/window_data.hpp"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <fstream>
#include <string>
#include <vector>

#include "temp_dir.hpp"
#include "test_util.hpp"

namespace moka {
namespace {

constexpr int kRows = 8, kCols = 10;

cv::Mat MakeImage() {
  cv::Mat mat(kRows, kCols, CV_8UC3);
  for (int h = 0; h < kRows; ++h)
    for (int w = 0; w < kCols; ++w)
      for (int c = 0; c < 3; ++c) mat.at<cv::Vec3b>(h, w)[c] = (h * 29 + w * 11 + c * 70) % 256;
  return mat;
}

/// `region` of the image warped bilinearly to width x height.
cv::Mat Warp(const cv::Rect& region, int width, int height) {
  cv::Mat out;
  cv::resize(MakeImage()(region), out, cv::Size(width, height), 0, 0, cv::INTER_LINEAR);
  return out;
}

template <typename Dtype>
class WindowDataLayerTest : public ::testing::Test {
 protected:
  WindowDataLayerTest() {
    cv::imwrite(dir_ / "photo.png", MakeImage());
    WriteWindows(
        "1 0.9 1 1 4 3\n"    // foreground, class 1
        "2 0.7 5 2 8 6\n"    // foreground, class 2
        "3 0.4 0 0 2 2\n"    // between the thresholds: dropped
        "4 0.1 0 0 9 7\n");  // background (class becomes 0)
  }

  void WriteWindows(const std::string& windows, int count = 4) {
    std::ofstream(dir_ / "windows.txt") << "# 0\nphoto.png\n3\n"
                                        << kRows << "\n"
                                        << kCols << "\n"
                                        << count << "\n"
                                        << windows;
  }

  std::string LayerText(const std::string& window_param, const std::string& transform) const {
    return "name: 'win' type: 'WindowData' top: 'data' top: 'label' window_data_param { source: '" +
           (dir_ / "windows.txt") + "' root_folder: '" + dir_.path() + "/' bg_threshold: 0.3 " +
           window_param + " } transform_param { " + transform + " }";
  }

  test::TempDir dir_;
  Blob<Dtype> data_;
  Blob<Dtype> label_;
  std::vector<Blob<Dtype>*> tops_{&data_, &label_};
};

TYPED_TEST_SUITE(WindowDataLayerTest, test::TestDtypes);

TYPED_TEST(WindowDataLayerTest, SamplesBackgroundThenForegroundAndWarps) {
  Context context;
  auto layer = test::MakeLayer<TypeParam>(
      this->LayerText("batch_size: 6 fg_fraction: 0.5 scale: 0.5",
                      "crop_size: 4 mean_value: 1 mean_value: 2 mean_value: 3"),
      &context);
  layer->SetUp({}, this->tops_);
  EXPECT_EQ(this->data_.shape(), (std::vector<int>{6, 3, 4, 4}));
  EXPECT_EQ(this->label_.shape(), (std::vector<int>{6}));
  for (int forward = 0; forward < 2; ++forward) {
    layer->Forward({}, this->tops_);
    for (int n = 0; n < 6; ++n) {
      const int label = static_cast<int>(this->label_.cpu_data()[n]);
      cv::Rect region;
      if (n < 3) {
        ASSERT_EQ(label, 0);
        region = cv::Rect(0, 0, 10, 8);
      } else {
        ASSERT_TRUE(label == 1 || label == 2) << label;
        region = label == 1 ? cv::Rect(1, 1, 4, 3) : cv::Rect(5, 2, 4, 5);
      }
      const cv::Mat expected = Warp(region, 4, 4);
      for (int c = 0; c < 3; ++c)
        for (int h = 0; h < 4; ++h)
          for (int w = 0; w < 4; ++w)
            ASSERT_EQ(
                this->data_.data_at(n, c, h, w),
                (TypeParam(expected.at<cv::Vec3b>(h, w)[c]) - TypeParam(c + 1)) * TypeParam(0.5))
                << "item " << n << " c " << c << " h " << h << " w " << w;
    }
  }
}

TYPED_TEST(WindowDataLayerTest, ContextPadClipsAtTheBorderAndMirrorsThePadding) {
  // Window (0,0)-(3,1) grown by context_pad 1 of crop 6 becomes (-1,-1)-(5,3): clipped to
  // (0,0)-(5,3), warped to 5 x 5 and placed one pixel in from the top and the left (the right,
  // once mirrored).
  this->WriteWindows("1 0.9 0 0 3 1\n", 1);
  Context context(Device::kCpu, 0, 11);
  auto layer = test::MakeLayer<TypeParam>(
      this->LayerText("batch_size: 8 fg_fraction: 1 context_pad: 1", "crop_size: 6 mirror: true"),
      &context);
  layer->SetUp({}, this->tops_);
  layer->Forward({}, this->tops_);
  const cv::Mat warped = Warp(cv::Rect(0, 0, 6, 4), 5, 5);
  int mirrored = 0;
  for (int n = 0; n < 8; ++n) {
    EXPECT_EQ(this->label_.cpu_data()[n], TypeParam(1));
    const bool flip = this->data_.data_at(n, 0, 1, 0) != TypeParam(0);
    mirrored += flip;
    for (int c = 0; c < 3; ++c)
      for (int h = 0; h < 6; ++h)
        for (int w = 0; w < 6; ++w) {
          TypeParam expected = 0;
          if (h >= 1 && !flip && w >= 1) expected = warped.at<cv::Vec3b>(h - 1, w - 1)[c];
          if (h >= 1 && flip && w <= 4) expected = warped.at<cv::Vec3b>(h - 1, 4 - w)[c];
          ASSERT_EQ(this->data_.data_at(n, c, h, w), expected)
              << "item " << n << " flip " << flip << " c " << c << " h " << h << " w " << w;
        }
  }
  EXPECT_GT(mirrored, 0);
  EXPECT_LT(mirrored, 8);
}

TYPED_TEST(WindowDataLayerTest, SquareModeAndCachedImagesMatch) {
  // Window (2,2)-(3,5) made square around its centre (3, 4): (1,2)-(5,6).
  this->WriteWindows("1 0.9 2 2 3 5\n", 1);
  const cv::Mat expected = Warp(cv::Rect(1, 2, 5, 5), 4, 4);
  for (const std::string cache : {"false", "true"}) {
    Context context;
    auto layer = test::MakeLayer<TypeParam>(
        this->LayerText("batch_size: 2 fg_fraction: 1 crop_mode: 'square' cache_images: " + cache,
                        "crop_size: 4"),
        &context);
    layer->SetUp({}, this->tops_);
    layer->Forward({}, this->tops_);
    for (int n = 0; n < 2; ++n)
      for (int c = 0; c < 3; ++c)
        for (int h = 0; h < 4; ++h)
          for (int w = 0; w < 4; ++w)
            ASSERT_EQ(this->data_.data_at(n, c, h, w), TypeParam(expected.at<cv::Vec3b>(h, w)[c]))
                << cache << " " << n << " " << c << " " << h << " " << w;
  }
}

TYPED_TEST(WindowDataLayerTest, SeedFixesTheSamples) {
  const std::string text =
      this->LayerText("batch_size: 8 fg_fraction: 0.75", "crop_size: 3 mirror: true");
  std::vector<std::vector<TypeParam>> runs;
  for (uint64_t seed : {2, 2, 3}) {
    Context context(Device::kCpu, 0, seed);
    auto layer = test::MakeLayer<TypeParam>(text, &context);
    layer->SetUp({}, this->tops_);
    layer->Forward({}, this->tops_);
    runs.emplace_back(this->data_.cpu_data(), this->data_.cpu_data() + this->data_.count());
    runs.back().insert(runs.back().end(), this->label_.cpu_data(), this->label_.cpu_data() + 8);
  }
  EXPECT_EQ(runs[0], runs[1]);
  EXPECT_NE(runs[0], runs[2]);
}

TYPED_TEST(WindowDataLayerTest, BadInputsGiveClearErrors) {
  auto expect_setup_error = [&](const std::string& text, const std::string& needle) {
    Context context;
    auto layer = test::MakeLayer<TypeParam>(text, &context);
    try {
      layer->SetUp({}, this->tops_);
      ADD_FAILURE() << "expected an error mentioning " << needle;
    } catch (const Error& error) {
      EXPECT_NE(std::string(error.what()).find(needle), std::string::npos) << error.what();
    }
  };
  expect_setup_error(this->LayerText("batch_size: 2", ""), "crop_size");
  expect_setup_error(this->LayerText("batch_size: 2 crop_mode: 'zoom'", "crop_size: 4"), "zoom");
  expect_setup_error(this->LayerText("batch_size: 2 context_pad: 2", "crop_size: 4"),
                     "context_pad");
  this->WriteWindows("4 0.1 0 0 9 7\n", 1);
  expect_setup_error(this->LayerText("batch_size: 4", "crop_size: 4"), "no foreground windows");
  this->WriteWindows("0 0.9 0 0 9 7\n", 1);
  expect_setup_error(this->LayerText("batch_size: 4", "crop_size: 4"), "class 0");
  std::ofstream(this->dir_ / "windows.txt") << "# 1\nphoto.png\n3 8 10 0\n";
  expect_setup_error(this->LayerText("batch_size: 4", "crop_size: 4"), "numbered 1");
  std::ofstream(this->dir_ / "windows.txt") << "";
  expect_setup_error(this->LayerText("batch_size: 4", "crop_size: 4"), "lists no images");
  std::filesystem::remove(this->dir_ / "windows.txt");
  expect_setup_error(this->LayerText("batch_size: 4", "crop_size: 4"), "windows.txt");

  // A missing image fails at SetUp when cached, else at the Forward that samples it.
  std::ofstream(this->dir_ / "windows.txt") << "# 0\ngone.png\n3 8 10 1\n1 0.9 0 0 3 3\n";
  expect_setup_error(
      this->LayerText("batch_size: 1 fg_fraction: 1 cache_images: true", "crop_size: 4"),
      "gone.png");
  Context context;
  auto layer = test::MakeLayer<TypeParam>(
      this->LayerText("batch_size: 1 fg_fraction: 1", "crop_size: 4"), &context);
  layer->SetUp({}, this->tops_);
  try {
    layer->Forward({}, this->tops_);
    FAIL() << "expected IoError";
  } catch (const IoError& error) {
    EXPECT_NE(std::string(error.what()).find("gone.png"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace moka
