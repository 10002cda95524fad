#include "data_transformer.hpp"

#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include <random>
#include <set>
#include <string>
#include <vector>

#include "proto_io.hpp"
#include "temp_dir.hpp"
#include "test_util.hpp"

namespace moka {
namespace {

/// A raw uint8 datum whose pixel (c, h, w) is c * 100 + h * 10 + w.
Datum MakeDatum(int channels, int height, int width, int label = 0) {
  Datum datum;
  datum.set_channels(channels);
  datum.set_height(height);
  datum.set_width(width);
  datum.set_label(label);
  std::string bytes;
  for (int c = 0; c < channels; ++c)
    for (int h = 0; h < height; ++h)
      for (int w = 0; w < width; ++w) bytes.push_back(static_cast<char>(c * 100 + h * 10 + w));
  datum.set_data(bytes);
  return datum;
}

TransformationParameter ParseTransform(const std::string& text) {
  TransformationParameter param;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &param)) << text;
  return param;
}

template <typename Dtype>
class DataTransformerTest : public ::testing::Test {
 protected:
  std::vector<Dtype> Run(const std::string& text, Phase phase, const Datum& datum,
                         uint64_t seed = 1) {
    DataTransformer<Dtype> transformer(ParseTransform(text), phase);
    const std::vector<int> shape = transformer.InferBlobShape(datum);
    std::vector<Dtype> out(shape[1] * shape[2] * shape[3]);
    std::mt19937_64 rng(seed);
    transformer.Transform(datum, &rng, out.data());
    return out;
  }
};

TYPED_TEST_SUITE(DataTransformerTest, test::TestDtypes);

TYPED_TEST(DataTransformerTest, NoParametersCopiesPixels) {
  const Datum datum = MakeDatum(2, 3, 4);
  DataTransformer<TypeParam> transformer(TransformationParameter(), TRAIN);
  EXPECT_EQ(transformer.InferBlobShape(datum), (std::vector<int>{1, 2, 3, 4}));
  const auto out = this->Run("", TRAIN, datum);
  ASSERT_EQ(out.size(), 24u);
  for (int i = 0; i < 24; ++i) EXPECT_EQ(out[i], TypeParam(static_cast<uint8_t>(datum.data()[i])));
}

/// The PNG encoding of a raw 1- or 3-channel datum (what convert_imageset --encoded stores).
Datum EncodeDatum(const Datum& raw) {
  const int channels = raw.channels();
  cv::Mat image(raw.height(), raw.width(), channels == 3 ? CV_8UC3 : CV_8UC1);
  for (int h = 0; h < raw.height(); ++h)
    for (int w = 0; w < raw.width(); ++w)
      for (int c = 0; c < channels; ++c)
        image.ptr<uint8_t>(h)[w * channels + c] =
            static_cast<uint8_t>(raw.data()[(c * raw.height() + h) * raw.width() + w]);
  std::vector<uchar> bytes;
  EXPECT_TRUE(cv::imencode(".png", image, bytes));
  Datum encoded;
  encoded.set_encoded(true);
  encoded.set_label(raw.label());
  encoded.set_data(std::string(bytes.begin(), bytes.end()));
  return encoded;
}

TYPED_TEST(DataTransformerTest, EncodedRecordsDecodeToTheRawPixels) {
  for (int channels : {1, 3}) {
    const Datum raw = MakeDatum(channels, 5, 7);
    const Datum encoded = EncodeDatum(raw);
    DataTransformer<TypeParam> transformer(TransformationParameter(), TEST);
    EXPECT_EQ(transformer.InferBlobShape(encoded), (std::vector<int>{1, channels, 5, 7}));
    EXPECT_EQ(this->Run("crop_size: 3 scale: 0.5", TEST, encoded),
              this->Run("crop_size: 3 scale: 0.5", TEST, raw));
  }
  // force_gray turns a colour record into one channel.
  const Datum colour = EncodeDatum(MakeDatum(3, 4, 4));
  DataTransformer<TypeParam> gray(ParseTransform("force_gray: true"), TEST);
  EXPECT_EQ(gray.InferBlobShape(colour), (std::vector<int>{1, 1, 4, 4}));
  Datum garbage;
  garbage.set_encoded(true);
  garbage.set_data("not an image");
  EXPECT_THROW(gray.InferBlobShape(garbage), IoError);
}

TYPED_TEST(DataTransformerTest, CropIsCentredInTest) {
  // 6 x 5 with crop 3: offsets (6-3)/2 = 1 and (5-3)/2 = 1.
  const Datum datum = MakeDatum(2, 6, 5);
  DataTransformer<TypeParam> transformer(ParseTransform("crop_size: 3"), TEST);
  EXPECT_EQ(transformer.InferBlobShape(datum), (std::vector<int>{1, 2, 3, 3}));
  for (uint64_t seed : {1, 2, 3}) {
    const auto out = this->Run("crop_size: 3", TEST, datum, seed);
    for (int c = 0; c < 2; ++c)
      for (int h = 0; h < 3; ++h)
        for (int w = 0; w < 3; ++w)
          EXPECT_EQ(out[(c * 3 + h) * 3 + w], TypeParam(c * 100 + (h + 1) * 10 + (w + 1)));
  }
}

TYPED_TEST(DataTransformerTest, CropIsRandomInTrain) {
  const Datum datum = MakeDatum(1, 5, 5);
  std::set<std::pair<int, int>> offsets;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    const auto out = this->Run("crop_size: 3", TRAIN, datum, seed);
    const int h_off = static_cast<int>(out[0]) / 10;
    const int w_off = static_cast<int>(out[0]) % 10;
    ASSERT_LE(h_off, 2);
    ASSERT_LE(w_off, 2);
    for (int h = 0; h < 3; ++h)
      for (int w = 0; w < 3; ++w)
        ASSERT_EQ(out[h * 3 + w], TypeParam((h + h_off) * 10 + w + w_off));
    offsets.insert({h_off, w_off});
  }
  EXPECT_GT(offsets.size(), 4u);
}

TYPED_TEST(DataTransformerTest, MeanValueOneForAllChannels) {
  const Datum datum = MakeDatum(3, 2, 2);
  const auto out = this->Run("mean_value: 10", TEST, datum);
  for (int i = 0; i < 12; ++i)
    EXPECT_EQ(out[i], TypeParam(static_cast<uint8_t>(datum.data()[i])) - TypeParam(10));
}

TYPED_TEST(DataTransformerTest, MeanValuePerChannel) {
  const Datum datum = MakeDatum(3, 2, 2);
  const auto out = this->Run("mean_value: 1 mean_value: 2.5 mean_value: 3", TEST, datum);
  const TypeParam means[3] = {1, 2.5, 3};
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 4; ++i)
      EXPECT_EQ(out[c * 4 + i],
                TypeParam(static_cast<uint8_t>(datum.data()[c * 4 + i])) - means[c]);
}

TYPED_TEST(DataTransformerTest, MeanValueCountMustMatchChannels) {
  const Datum datum = MakeDatum(3, 2, 2);
  EXPECT_THROW(this->Run("mean_value: 1 mean_value: 2", TEST, datum), ConfigError);
}

TYPED_TEST(DataTransformerTest, ScaleAppliesAfterMean) {
  Datum datum = MakeDatum(1, 1, 3);
  datum.set_data(std::string("\x00\x80\xff", 3));
  const auto scaled = this->Run("scale: 0.00390625", TEST, datum);
  EXPECT_EQ(scaled[0], TypeParam(0));
  EXPECT_EQ(scaled[1], TypeParam(0.5));
  EXPECT_EQ(scaled[2], TypeParam(0.99609375));
  const auto both = this->Run("scale: 0.5 mean_value: 127", TEST, datum);
  EXPECT_EQ(both[0], TypeParam(-63.5));
  EXPECT_EQ(both[1], TypeParam(0.5));
  EXPECT_EQ(both[2], TypeParam(64));
}

TYPED_TEST(DataTransformerTest, FloatDataIsUsedWhenDataIsEmpty) {
  Datum datum;
  datum.set_channels(1);
  datum.set_height(1);
  datum.set_width(3);
  for (float v : {-1.5f, 0.25f, 300.0f}) datum.add_float_data(v);
  const auto out = this->Run("scale: 2 mean_value: 0.5", TEST, datum);
  EXPECT_EQ(out, (std::vector<TypeParam>{-4, -0.5, 599}));
}

TYPED_TEST(DataTransformerTest, MirrorIsACoinFlipInBothPhasesAndRepeatable) {
  const Datum datum = MakeDatum(2, 2, 3);
  for (Phase phase : {TRAIN, TEST}) {
    int flipped = 0, kept = 0;
    for (uint64_t seed = 0; seed < 32; ++seed) {
      const auto out = this->Run("mirror: true", phase, datum, seed);
      EXPECT_EQ(out, this->Run("mirror: true", phase, datum, seed)) << "seed " << seed;
      bool is_flipped = true, is_kept = true;
      for (int c = 0; c < 2; ++c)
        for (int h = 0; h < 2; ++h)
          for (int w = 0; w < 3; ++w) {
            const TypeParam v = out[(c * 2 + h) * 3 + w];
            is_kept &= v == TypeParam(c * 100 + h * 10 + w);
            is_flipped &= v == TypeParam(c * 100 + h * 10 + (2 - w));
          }
      ASSERT_TRUE(is_flipped || is_kept) << "seed " << seed;
      flipped += is_flipped;
      kept += is_kept;
    }
    EXPECT_GT(flipped, 0);
    EXPECT_GT(kept, 0);
  }
}

TYPED_TEST(DataTransformerTest, MirrorUsesTheStreamInOrder) {
  // One generator across several records gives the same flips as replaying its draws.
  const Datum datum = MakeDatum(1, 1, 4);
  DataTransformer<TypeParam> transformer(ParseTransform("mirror: true"), TRAIN);
  std::mt19937_64 rng(99), replay(99);
  for (int i = 0; i < 10; ++i) {
    std::vector<TypeParam> out(4);
    transformer.Transform(datum, &rng, out.data());
    const bool flip = replay() % 2 != 0;
    EXPECT_EQ(out[0], TypeParam(flip ? 3 : 0)) << "record " << i;
  }
}

TYPED_TEST(DataTransformerTest, MeanFileIsPerPixelOfTheUncroppedImage) {
  test::TempDir dir;
  const std::string mean_path = dir / "mean.binaryproto";
  BlobProto mean;
  mean.set_num(1);
  mean.set_channels(2);
  mean.set_height(3);
  mean.set_width(3);
  for (int i = 0; i < 18; ++i) mean.add_data(0.5f * i);
  WriteProtoToBinaryFile(mean, mean_path);

  const Datum datum = MakeDatum(2, 3, 3);
  const auto out =
      this->Run("crop_size: 2 scale: 0.25 mean_file: '" + mean_path + "'", TEST, datum);
  // Crop 2 of 3 in TEST: offsets (3-2)/2 = 0.
  for (int c = 0; c < 2; ++c)
    for (int h = 0; h < 2; ++h)
      for (int w = 0; w < 2; ++w) {
        const int in_index = (c * 3 + h) * 3 + w;
        const TypeParam x = TypeParam(c * 100 + h * 10 + w);
        EXPECT_EQ(out[(c * 2 + h) * 2 + w], (x - TypeParam(0.5f * in_index)) * TypeParam(0.25f));
      }

  // With a centre offset of 1 the mean must follow the crop window.
  const Datum big = MakeDatum(2, 3, 3);
  const auto one = this->Run("crop_size: 1 mean_file: '" + mean_path + "'", TEST, big);
  EXPECT_EQ(one[0], TypeParam(11) - TypeParam(0.5f * 4));
  EXPECT_EQ(one[1], TypeParam(111) - TypeParam(0.5f * 13));
}

TYPED_TEST(DataTransformerTest, MeanFileShapeMustMatch) {
  test::TempDir dir;
  const std::string mean_path = dir / "mean.binaryproto";
  BlobProto mean;
  mean.mutable_shape()->add_dim(1);
  mean.mutable_shape()->add_dim(1);
  mean.mutable_shape()->add_dim(2);
  mean.mutable_shape()->add_dim(2);
  for (int i = 0; i < 4; ++i) mean.add_data(1);
  WriteProtoToBinaryFile(mean, mean_path);
  EXPECT_THROW(this->Run("mean_file: '" + mean_path + "'", TEST, MakeDatum(1, 3, 3)), ShapeError);
  EXPECT_EQ(this->Run("mean_file: '" + mean_path + "'", TEST, MakeDatum(1, 2, 2))[3],
            TypeParam(10));
}

TYPED_TEST(DataTransformerTest, MeanFileAndMeanValueTogetherIsConfigError) {
  EXPECT_THROW(
      DataTransformer<TypeParam>(ParseTransform("mean_file: 'x.binaryproto' mean_value: 1"), TRAIN),
      ConfigError);
}

TYPED_TEST(DataTransformerTest, MissingMeanFileIsIoError) {
  EXPECT_THROW(DataTransformer<TypeParam>(ParseTransform("mean_file: '/no/such/mean'"), TRAIN),
               IoError);
}

TYPED_TEST(DataTransformerTest, BadRecordsAreRefused) {
  Datum encoded = MakeDatum(1, 2, 2);
  encoded.set_encoded(true);
  try {
    this->Run("", TRAIN, encoded);
    FAIL() << "expected IoError";
  } catch (const IoError& error) {
    EXPECT_NE(std::string(error.what()).find("OpenCV"), std::string::npos) << error.what();
  }
  Datum short_data = MakeDatum(1, 2, 2);
  short_data.set_data("abc");
  EXPECT_THROW(this->Run("", TRAIN, short_data), IoError);
  EXPECT_THROW(this->Run("crop_size: 3", TRAIN, MakeDatum(1, 2, 5)), ShapeError);
}

TEST(EffectiveTransformParamTest, OldDataParamFieldsApplyWithoutTransformParam) {
  LayerParameter layer = test::ParseLayer(
      "type: 'Data' data_param { scale: 0.5 crop_size: 3 mirror: true mean_file: 'm' }");
  TransformationParameter transform = EffectiveTransformParam(layer);
  EXPECT_FLOAT_EQ(transform.scale(), 0.5f);
  EXPECT_EQ(transform.crop_size(), 3u);
  EXPECT_TRUE(transform.mirror());
  EXPECT_EQ(transform.mean_file(), "m");

  layer = test::ParseLayer(
      "type: 'Data' transform_param { scale: 2 } data_param { scale: 0.5 crop_size: 3 }");
  transform = EffectiveTransformParam(layer);
  EXPECT_FLOAT_EQ(transform.scale(), 2.0f);
  EXPECT_EQ(transform.crop_size(), 0u);
}

}  // namespace
}  // namespace moka
