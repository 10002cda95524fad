// moka compute_image_mean against means worked out by hand, for raw, float and encoded records.
#include <glog/logging.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>

#include "db.hpp"
#include "moka.pb.h"
#include "proto_io.hpp"
#include "temp_dir.hpp"
#include "tools/verbs.hpp"
#include "tools_test_util.hpp"

namespace moka {
namespace {

using test::Contains;

void WriteRecords(const std::string& path, db::Backend backend, const std::vector<Datum>& data) {
  std::unique_ptr<db::Writer> writer = db::OpenWriter(backend, path);
  for (size_t i = 0; i < data.size(); ++i) {
    std::string value;
    ASSERT_TRUE(data[i].SerializeToString(&value));
    writer->Put("key" + std::to_string(i), value);
  }
  writer->Commit();
}

Datum RawDatum(const std::vector<uint8_t>& pixels) {
  Datum datum;
  datum.set_channels(2);
  datum.set_height(1);
  datum.set_width(3);
  datum.set_data(std::string(pixels.begin(), pixels.end()));
  return datum;
}

BlobProto ReadMean(const std::string& path) {
  BlobProto mean;
  ReadProtoFromBinaryFile(path, &mean);
  return mean;
}

TEST(ToolsComputeImageMeanTest, RawRecordsByHand) {
  // The per-channel means are log lines, as in Caffe; `moka` sends logs to stderr, and so does this.
  FLAGS_logtostderr = true;
  test::TempDir dir;
  // Three 2 x 1 x 3 images; channel 0 then channel 1.
  WriteRecords(dir / "db", db::Backend::kLmdb,
               {RawDatum({0, 10, 20, 255, 1, 2}), RawDatum({3, 10, 40, 255, 2, 2}),
                RawDatum({6, 10, 61, 0, 3, 2})});
  const test::VerbResult result = test::RunVerb(ComputeImageMeanMain, "compute_image_mean",
                                                {dir / "db", dir / "mean.binaryproto"});
  ASSERT_EQ(result.status, 0) << result.error << result.err;
  const BlobProto mean = ReadMean(dir / "mean.binaryproto");
  // Caffe's legacy 4-d fields, no BlobShape.
  EXPECT_FALSE(mean.has_shape());
  EXPECT_EQ(mean.num(), 1);
  EXPECT_EQ(mean.channels(), 2);
  EXPECT_EQ(mean.height(), 1);
  EXPECT_EQ(mean.width(), 3);
  const std::vector<float> expected = {3, 10, 121.0f / 3, 170, 2, 2};
  ASSERT_EQ(mean.data_size(), 6);
  for (int i = 0; i < 6; ++i) EXPECT_FLOAT_EQ(mean.data(i), expected[i]) << i;
  // Per-channel means: (3 + 10 + 40.333) / 3 and (170 + 2 + 2) / 3, as Caffe logs them.
  EXPECT_TRUE(Contains(result.err, "mean_value channel [0]: 17.7778")) << result.err;
  EXPECT_TRUE(Contains(result.err, "mean_value channel [1]: 58")) << result.err;
}

TEST(ToolsComputeImageMeanTest, FloatAndEncodedRecords) {
  test::TempDir dir;
  Datum floats;
  floats.set_channels(1);
  floats.set_height(2);
  floats.set_width(2);
  for (float v : {0.5f, 1.5f, -2.0f, 4.0f}) floats.add_float_data(v);
  Datum more = floats;
  for (int i = 0; i < 4; ++i) more.set_float_data(i, 1.0f);
  WriteRecords(dir / "float_db", db::Backend::kLmdb, {floats, more});
  test::VerbResult result = test::RunVerb(ComputeImageMeanMain, "compute_image_mean",
                                          {dir / "float_db", dir / "float_mean"});
  ASSERT_EQ(result.status, 0) << result.error << result.err;
  BlobProto mean = ReadMean(dir / "float_mean");
  const std::vector<float> expected = {0.75f, 1.25f, -0.5f, 2.5f};
  for (int i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(mean.data(i), expected[i]);

  // PNG-encoded 3-channel 1 x 2 images in a LevelDB: decoded with their own channels (BGR).
  std::vector<Datum> encoded;
  const std::vector<std::vector<uint8_t>> bgr = {{10, 20, 30, 40, 50, 60}, {12, 22, 32, 0, 0, 0}};
  for (const auto& pixels : bgr) {
    cv::Mat image(1, 2, CV_8UC3, const_cast<uint8_t*>(pixels.data()));
    std::vector<unsigned char> bytes;
    ASSERT_TRUE(cv::imencode(".png", image, bytes));
    Datum datum;
    datum.set_data(std::string(bytes.begin(), bytes.end()));
    datum.set_encoded(true);
    encoded.push_back(datum);
  }
  WriteRecords(dir / "png_db", db::Backend::kLevelDb, encoded);
  result = test::RunVerb(ComputeImageMeanMain, "compute_image_mean",
                         {"--backend=leveldb", dir / "png_db", dir / "png_mean"});
  ASSERT_EQ(result.status, 0) << result.error << result.err;
  mean = ReadMean(dir / "png_mean");
  EXPECT_EQ(mean.channels(), 3);
  EXPECT_EQ(mean.height(), 1);
  EXPECT_EQ(mean.width(), 2);
  // CHW: B of both pixels, then G, then R.
  const std::vector<float> expected_png = {11, 20, 21, 25, 31, 30};
  ASSERT_EQ(mean.data_size(), 6);
  for (int i = 0; i < 6; ++i) EXPECT_FLOAT_EQ(mean.data(i), expected_png[i]) << i;
}

TEST(ToolsComputeImageMeanTest, Errors) {
  test::TempDir dir;
  test::VerbResult result =
      test::RunVerb(ComputeImageMeanMain, "compute_image_mean", {dir / "nothing_here"});
  EXPECT_EQ(result.status, 1);
  EXPECT_TRUE(Contains(result.error, "nothing_here")) << result.error;

  Datum small = RawDatum({1, 2, 3, 4, 5, 6});
  Datum other = small;
  other.set_width(2);
  other.set_data("abcd");
  WriteRecords(dir / "mixed", db::Backend::kLmdb, {small, other});
  result = test::RunVerb(ComputeImageMeanMain, "compute_image_mean", {dir / "mixed"});
  EXPECT_EQ(result.status, 1);
  EXPECT_TRUE(Contains(result.error, "record 'key1'")) << result.error;
}

}  // namespace
}  // namespace moka
