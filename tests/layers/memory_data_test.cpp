#include "layers/memory_data.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_util.hpp"

namespace moka {
namespace {

template <typename Dtype>
class MemoryDataLayerTest : public ::testing::Test {
 protected:
  std::shared_ptr<MemoryDataLayer<Dtype>> Make(const std::string& extra = "",
                                               const std::string& phase = "TRAIN") {
    auto layer = std::dynamic_pointer_cast<MemoryDataLayer<Dtype>>(test::MakeLayer<Dtype>(
        "name: 'mem' type: 'MemoryData' top: 'data' top: 'label' phase: " + phase +
            " memory_data_param { batch_size: 2 channels: 2 height: 1 width: 3 } " + extra,
        &context_));
    EXPECT_NE(layer, nullptr);
    return layer;
  }

  Context context_;
  Blob<Dtype> data_;
  Blob<Dtype> label_;
  std::vector<Blob<Dtype>*> tops_{&data_, &label_};
};

TYPED_TEST_SUITE(MemoryDataLayerTest, test::TestDtypes);

TYPED_TEST(MemoryDataLayerTest, ServesResetArraysInBatchesAndWraps) {
  auto layer = this->Make();
  layer->SetUp({}, this->tops_);
  EXPECT_EQ(this->data_.shape(), (std::vector<int>{2, 2, 1, 3}));
  EXPECT_EQ(this->label_.shape(), (std::vector<int>{2}));
  std::vector<TypeParam> data(4 * 6), labels(4);
  for (size_t i = 0; i < data.size(); ++i) data[i] = TypeParam(i) * TypeParam(0.5);
  for (int i = 0; i < 4; ++i) labels[i] = TypeParam(100 + i);
  layer->Reset(data.data(), labels.data(), 4);
  for (int forward = 0; forward < 3; ++forward) {
    layer->Forward({}, this->tops_);
    const int row = (forward * 2) % 4;
    EXPECT_EQ(this->data_.shape(), (std::vector<int>{2, 2, 1, 3}));
    EXPECT_EQ(this->label_.shape(), (std::vector<int>{2, 1, 1, 1}));  // as Caffe's Forward
    for (int j = 0; j < 12; ++j) EXPECT_EQ(this->data_.cpu_data()[j], data[row * 6 + j]);
    EXPECT_EQ(this->label_.cpu_data()[0], TypeParam(100 + row));
    EXPECT_EQ(this->label_.cpu_data()[1], TypeParam(101 + row));
  }
}

TYPED_TEST(MemoryDataLayerTest, AddDatumVectorTransformsAndAddMatVectorConverts) {
  auto layer = this->Make("transform_param { scale: 2 mean_value: 1 mean_value: 3 }");
  layer->SetUp({}, this->tops_);
  std::vector<Datum> datums(2);
  for (int i = 0; i < 2; ++i) {
    datums[i].set_channels(2);
    datums[i].set_height(1);
    datums[i].set_width(3);
    datums[i].set_label(7 + i);
    std::string bytes;
    for (int j = 0; j < 6; ++j) bytes.push_back(static_cast<char>(10 * i + j));
    datums[i].set_data(bytes);
  }
  layer->AddDatumVector(datums);
  // Still serving the added records: no more may be added yet.
  EXPECT_THROW(layer->AddDatumVector(datums), ConfigError);
  EXPECT_THROW(layer->set_batch_size(1), ConfigError);
  layer->Forward({}, this->tops_);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(this->label_.cpu_data()[i], TypeParam(7 + i));
    for (int j = 0; j < 6; ++j)
      EXPECT_EQ(this->data_.cpu_data()[i * 6 + j], (TypeParam(10 * i + j) - (j < 3 ? 1 : 3)) * 2);
  }

  // Served in full: images may come now (2-channel ones, as the layer serves 2 channels).
  cv::Mat image(1, 3, CV_8UC2);
  for (int w = 0; w < 3; ++w) {
    image.at<cv::Vec2b>(0, w)[0] = static_cast<uint8_t>(w);
    image.at<cv::Vec2b>(0, w)[1] = static_cast<uint8_t>(50 + w);
  }
  layer->AddMatVector({image, image}, {3, 4});
  layer->Forward({}, this->tops_);
  EXPECT_EQ(this->label_.cpu_data()[1], TypeParam(4));
  EXPECT_EQ(this->data_.cpu_data()[1], (TypeParam(1) - 1) * 2);
  EXPECT_EQ(this->data_.cpu_data()[4], (TypeParam(51) - 3) * 2);
  cv::Mat colour(1, 3, CV_8UC3, cv::Scalar(1, 2, 3));
  EXPECT_THROW(layer->AddMatVector({colour, colour}, {1, 2}), Error);
  EXPECT_THROW(layer->AddMatVector({image}, {1, 2}), ConfigError);
}

TYPED_TEST(MemoryDataLayerTest, MisuseGivesConfigErrors) {
  auto layer = this->Make();
  layer->SetUp({}, this->tops_);
  try {
    layer->Forward({}, this->tops_);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("Reset"), std::string::npos) << error.what();
  }
  std::vector<TypeParam> data(3 * 6), labels(3);
  EXPECT_THROW(layer->Reset(data.data(), labels.data(), 3), ConfigError);
  EXPECT_THROW(layer->Reset(nullptr, labels.data(), 2), ConfigError);
  EXPECT_THROW(layer->AddDatumVector({}), ConfigError);
  layer->set_batch_size(3);
  layer->Reset(data.data(), labels.data(), 3);
  layer->Forward({}, this->tops_);
  EXPECT_EQ(this->data_.shape(0), 3);

  Context context;
  auto bad = test::MakeLayer<TypeParam>(
      "type: 'MemoryData' top: 'd' top: 'l' memory_data_param { batch_size: 2 channels: 1 "
      "height: 0 width: 3 }",
      &context);
  EXPECT_THROW(bad->SetUp({}, this->tops_), ConfigError);
}

}  // namespace
}  // namespace moka
