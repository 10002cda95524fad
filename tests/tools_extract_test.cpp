// moka extract / extract_features on a tiny net (Data -> InnerProduct -> in-place ReLU -> loss)
// with weights written by the test: the three output formats hold the hand-computed features.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "db.hpp"
#include "moka.pb.h"
#include "proto_io.hpp"
#include "temp_dir.hpp"
#include "tools/verbs.hpp"
#include "tools_test_util.hpp"

namespace moka {
namespace {

using test::Contains;

constexpr int kImages = 6;

/// Record i holds x = (i, 2, 10 * (i % 2), 5) as a 1 x 2 x 2 image, label i % 2.
std::vector<float> Input(int i) { return {float(i), 2.0f, float(10 * (i % 2)), 5.0f}; }

/// ip = W x + b with W = [[1, 0, 0, 0], [0, 0, 1, -1]], b = [0.5, 0], then ReLU in place.
std::vector<float> Features(int i) {
  const std::vector<float> x = Input(i);
  return {std::max(0.0f, x[0] + 0.5f), std::max(0.0f, x[2] - x[3])};
}

struct TinyNet {
  test::TempDir dir;
  std::string model = dir / "net.prototxt";
  std::string weights = dir / "net.caffemodel";

  TinyNet() {
    std::unique_ptr<db::Writer> writer = db::OpenWriter(db::Backend::kLmdb, dir / "input_lmdb");
    for (int i = 0; i < kImages; ++i) {
      Datum datum;
      datum.set_channels(1);
      datum.set_height(2);
      datum.set_width(2);
      datum.set_label(i % 2);
      std::string pixels;
      for (float v : Input(i)) pixels.push_back(static_cast<char>(v));
      datum.set_data(pixels);
      std::string value;
      datum.SerializeToString(&value);
      char key[16];
      std::snprintf(key, sizeof(key), "%08d", i);
      writer->Put(key, value);
    }
    writer->Commit();
    writer.reset();

    std::ofstream(model) << R"(name: "tiny"
layer { name: "data" type: "Data" top: "data" top: "label"
  data_param { source: ")" << dir / "input_lmdb" << R"(" batch_size: 3 backend: LMDB } }
layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip"
  inner_product_param { num_output: 2 } }
layer { name: "relu" type: "ReLU" bottom: "ip" top: "ip" }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
)";

    NetParameter trained;
    LayerParameter* ip = trained.add_layer();
    ip->set_name("ip");
    ip->set_type("InnerProduct");
    BlobProto* w = ip->add_blobs();
    w->mutable_shape()->add_dim(2);
    w->mutable_shape()->add_dim(4);
    for (float v : {1, 0, 0, 0, 0, 0, 1, -1}) w->add_data(v);
    BlobProto* b = ip->add_blobs();
    b->mutable_shape()->add_dim(2);
    b->add_data(0.5f);
    b->add_data(0.0f);
    WriteProtoToBinaryFile(trained, weights);
  }

  test::VerbResult Extract(const std::string& format, const std::string& blobs,
                           const std::string& out) {
    return test::RunVerb(ExtractMain, "extract",
                         {"--model=" + model, "--weights=" + weights, "--blobs=" + blobs,
                          "--output=" + out, "--format=" + format, "--iterations=2"});
  }
};

std::vector<Datum> ReadRecords(const std::string& path, std::vector<std::string>* keys) {
  std::unique_ptr<db::Reader> reader = db::OpenReader(db::Backend::kLmdb, path);
  std::vector<Datum> records(reader->size());
  std::unique_ptr<db::Cursor> cursor = reader->NewCursor();
  for (Datum& datum : records) {
    keys->push_back(cursor->key());
    EXPECT_TRUE(datum.ParseFromString(cursor->value()));
    cursor->Next();
  }
  return records;
}

TEST(ToolsExtractTest, LmdbInCaffesLayout) {
  TinyNet net;
  const test::VerbResult result = net.Extract("lmdb", "ip,data", net.dir / "out");
  ASSERT_EQ(result.status, 0) << result.error << result.err;
  EXPECT_TRUE(Contains(result.out, "images/s")) << result.out;

  std::vector<std::string> keys;
  const std::vector<Datum> ip = ReadRecords(net.dir / "out/ip_lmdb", &keys);
  ASSERT_EQ(ip.size(), static_cast<size_t>(kImages));
  for (int i = 0; i < kImages; ++i) {
    char key[16];
    std::snprintf(key, sizeof(key), "%010d", i);
    EXPECT_EQ(keys[i], key);
    EXPECT_EQ(ip[i].channels(), 2);
    EXPECT_EQ(ip[i].height(), 1);
    EXPECT_EQ(ip[i].width(), 1);
    EXPECT_TRUE(ip[i].data().empty());
    ASSERT_EQ(ip[i].float_data_size(), 2);
    // The value after the in-place ReLU, as a full forward pass leaves the blob.
    EXPECT_FLOAT_EQ(ip[i].float_data(0), Features(i)[0]) << i;
    EXPECT_FLOAT_EQ(ip[i].float_data(1), Features(i)[1]) << i;
  }
  keys.clear();
  const std::vector<Datum> data = ReadRecords(net.dir / "out/data_lmdb", &keys);
  ASSERT_EQ(data.size(), static_cast<size_t>(kImages));
  EXPECT_EQ(data[4].channels(), 1);
  EXPECT_EQ(data[4].height(), 2);
  EXPECT_EQ(data[4].width(), 2);
  ASSERT_EQ(data[4].float_data_size(), 4);
  for (int j = 0; j < 4; ++j) EXPECT_FLOAT_EQ(data[4].float_data(j), Input(4)[j]);
}

TEST(ToolsExtractTest, NpyHeaderShapeAndValues) {
  TinyNet net;
  const test::VerbResult result = net.Extract("npy", "ip,data", net.dir / "npy");
  ASSERT_EQ(result.status, 0) << result.error << result.err;

  std::ifstream file(net.dir / "npy/ip.npy", std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 10u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  const size_t header_length =
      static_cast<uint8_t>(bytes[8]) | (static_cast<size_t>(static_cast<uint8_t>(bytes[9])) << 8);
  const std::string header = bytes.substr(10, header_length);
  EXPECT_EQ((10 + header_length) % 64, 0u);
  EXPECT_EQ(header.back(), '\n');
  EXPECT_TRUE(Contains(header, "'descr': '<f4'")) << header;
  EXPECT_TRUE(Contains(header, "'fortran_order': False")) << header;
  EXPECT_TRUE(Contains(header, "'shape': (6, 2)")) << header;
  ASSERT_EQ(bytes.size(), 10 + header_length + kImages * 2 * sizeof(float));
  std::vector<float> values(kImages * 2);
  std::memcpy(values.data(), bytes.data() + 10 + header_length, values.size() * sizeof(float));
  for (int i = 0; i < kImages; ++i) {
    EXPECT_FLOAT_EQ(values[2 * i], Features(i)[0]);
    EXPECT_FLOAT_EQ(values[2 * i + 1], Features(i)[1]);
  }

  std::ifstream data_file(net.dir / "npy/data.npy", std::ios::binary);
  const std::string data_bytes((std::istreambuf_iterator<char>(data_file)),
                               std::istreambuf_iterator<char>());
  EXPECT_TRUE(Contains(data_bytes.substr(0, 128), "'shape': (6, 1, 2, 2)"));
}

TEST(ToolsExtractTest, CsvRowPerImage) {
  TinyNet net;
  const test::VerbResult result = net.Extract("csv", "ip", net.dir / "csv");
  ASSERT_EQ(result.status, 0) << result.error << result.err;
  std::ifstream file(net.dir / "csv/ip.csv");
  std::string line;
  int row = 0;
  while (std::getline(file, line)) {
    std::ostringstream expected;
    expected << Features(row)[0] << "," << Features(row)[1];
    EXPECT_EQ(line, expected.str()) << "row " << row;
    ++row;
  }
  EXPECT_EQ(row, kImages);
}

TEST(ToolsExtractTest, CaffePositionalForm) {
  TinyNet net;
  const std::string ip_db = net.dir / "ip_features";
  const std::string data_db = net.dir / "data_features";
  const test::VerbResult result =
      test::RunVerb(ExtractFeaturesMain, "extract_features",
                    {net.weights, net.model, "ip,data", ip_db + "," + data_db, "2", "lmdb", "CPU"});
  ASSERT_EQ(result.status, 0) << result.error << result.err;
  std::vector<std::string> keys;
  const std::vector<Datum> ip = ReadRecords(ip_db, &keys);
  ASSERT_EQ(ip.size(), static_cast<size_t>(kImages));
  EXPECT_EQ(keys[5], "0000000005");
  EXPECT_FLOAT_EQ(ip[5].float_data(1), Features(5)[1]);
}

TEST(ToolsExtractTest, RefusesUnknownBlobAndInputNets) {
  TinyNet net;
  test::VerbResult result = net.Extract("npy", "ip,fc7", net.dir / "bad");
  EXPECT_EQ(result.status, 1);
  EXPECT_TRUE(Contains(result.error, "unknown blob 'fc7'")) << result.error;
  EXPECT_TRUE(Contains(result.error, "data, label, ip, loss")) << result.error;
  EXPECT_FALSE(std::filesystem::exists(net.dir / "bad/ip.npy"));

  result = net.Extract("parquet", "ip", net.dir / "bad");
  EXPECT_EQ(result.status, 1);
  EXPECT_TRUE(Contains(result.error, "parquet")) << result.error;

  std::ofstream(net.dir / "deploy.prototxt") << R"(
layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 4 } } }
layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 2 } }
)";
  result = test::RunVerb(ExtractMain, "extract",
                         {"--model=" + (net.dir / "deploy.prototxt"), "--blobs=ip",
                          "--output=" + (net.dir / "bad"), "--format=npy"});
  EXPECT_EQ(result.status, 1);
  EXPECT_TRUE(Contains(result.error, "Input layer 'data'")) << result.error;
}

}  // namespace
}  // namespace moka
