// Reading and writing protobuf files: clear parse errors, atomic writes, format upgrades.
#include <gtest/gtest.h>

#include <fstream>

#include "proto_io.hpp"
#include "upgrade.hpp"

namespace moka {
namespace {

std::string WriteTemp(const std::string& name, const std::string& contents) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << contents;
  return path;
}

TEST(ProtoIoTest, MalformedPrototxtGivesFileLineColumn) {
  const std::string path = WriteTemp("bad.prototxt",
                                     "name: \"x\"\nlayer {\n  name: \"a\"\n  type: ReLU\"\n}\n");
  NetParameter param;
  try {
    ReadProtoFromTextFile(path, &param);
    FAIL() << "expected ParseError";
  } catch (const ParseError& error) {
    const std::string message = error.what();
    EXPECT_EQ(message.rfind(path + ":4:", 0), 0u) << message;
  }
}

TEST(ProtoIoTest, UnknownFieldIsAParseErrorWithPosition) {
  const std::string path = WriteTemp("unknown.prototxt", "layer {\n  nmae: \"a\"\n}\n");
  NetParameter param;
  try {
    ReadProtoFromTextFile(path, &param);
    FAIL();
  } catch (const ParseError& error) {
    EXPECT_NE(std::string(error.what()).find(":2:"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("nmae"), std::string::npos) << error.what();
  }
}

TEST(ProtoIoTest, MissingFileIsIoError) {
  NetParameter param;
  EXPECT_THROW(ReadProtoFromTextFile("/nonexistent/net.prototxt", &param), IoError);
  EXPECT_THROW(ReadProtoFromBinaryFile("/nonexistent/net.caffemodel", &param), IoError);
}

TEST(ProtoIoTest, BinaryRoundTripAndAtomicWrite) {
  NetParameter param;
  param.set_name("round");
  param.add_layer()->set_name("l");
  const std::string path = ::testing::TempDir() + "/round.caffemodel";
  WriteProtoToBinaryFile(param, path);
  NetParameter read;
  ReadProtoFromBinaryFile(path, &read);
  EXPECT_EQ(read.name(), "round");
  EXPECT_FALSE(FileExists(path + ".tmp." + std::to_string(::getpid())));
}

TEST(ProtoIoTest, UnknownBinaryFieldsAreSkipped) {
  // Field 149 of LayerParameter is unknown to BVLC's numbering (a fork's norm_param).
  std::string bytes;
  NetParameter param;
  param.set_name("n");
  param.SerializeToString(&bytes);
  std::string layer;  // LayerParameter{name="a", field 149 = bytes "zz"}
  layer += '\x0a'; layer += '\x01'; layer += 'a';
  layer += '\xaa'; layer += '\x09'; layer += '\x02'; layer += "zz";  // tag (149<<3)|2 as varint
  bytes += '\xa2'; bytes += '\x06';  // NetParameter field 100, wire type 2
  bytes += static_cast<char>(layer.size());
  bytes += layer;
  const std::string path = WriteTemp("unknown.caffemodel", "");
  std::ofstream(path, std::ios::binary) << bytes;
  NetParameter read;
  ReadProtoFromBinaryFile(path, &read);
  ASSERT_EQ(read.layer_size(), 1);
  EXPECT_EQ(read.layer(0).name(), "a");
}

TEST(UpgradeTest, InputFieldsBecomeAnInputLayer) {
  const std::string path = WriteTemp("input.prototxt", R"(
input: "data" input_dim: 1 input_dim: 3 input_dim: 8 input_dim: 8
layer { name: "relu" type: "ReLU" bottom: "data" top: "out" }
)");
  NetParameter param = ReadNetParamFromTextFile(path);
  ASSERT_EQ(param.layer_size(), 2);
  EXPECT_EQ(param.layer(0).type(), "Input");
  EXPECT_EQ(param.layer(0).top(0), "data");
  EXPECT_EQ(param.layer(0).input_param().shape(0).dim(2), 8);
  EXPECT_EQ(param.input_size(), 0);
}

TEST(UpgradeTest, SolverTypeEnumBecomesString) {
  const std::string path = WriteTemp("solver.prototxt", "base_lr: 0.1\nsolver_type: NESTEROV\n");
  SolverParameter param = ReadSolverParamFromTextFile(path);
  EXPECT_EQ(param.type(), "Nesterov");
  EXPECT_FALSE(param.has_solver_type());
}

}  // namespace
}  // namespace moka

namespace moka {
namespace {

TEST(UpgradeTest, V1LayersBecomeV2Layers) {
  const std::string path = WriteTemp("v1.prototxt", R"(
name: "old"
layers { name: "data" type: DATA top: "data" top: "label"
  data_param { source: "db" batch_size: 4 scale: 0.5 crop_size: 3 }
  include { phase: TRAIN } }
layers { name: "ip" type: INNER_PRODUCT bottom: "data" top: "ip"
  blobs_lr: 1 blobs_lr: 2 weight_decay: 1 weight_decay: 0 param: "shared_w"
  inner_product_param { num_output: 10 } }
layers { name: "loss" type: SOFTMAX_LOSS bottom: "ip" bottom: "label" loss_weight: 2 }
)");
  NetParameter param = ReadNetParamFromTextFile(path);
  ASSERT_EQ(param.layer_size(), 3);
  EXPECT_EQ(param.layers_size(), 0);
  EXPECT_EQ(param.layer(0).type(), "Data");
  EXPECT_EQ(param.layer(0).include(0).phase(), TRAIN);
  EXPECT_FLOAT_EQ(param.layer(0).transform_param().scale(), 0.5f);
  EXPECT_EQ(param.layer(0).transform_param().crop_size(), 3u);
  EXPECT_FALSE(param.layer(0).data_param().has_scale());
  EXPECT_EQ(param.layer(1).type(), "InnerProduct");
  ASSERT_EQ(param.layer(1).param_size(), 2);
  EXPECT_EQ(param.layer(1).param(0).name(), "shared_w");
  EXPECT_FLOAT_EQ(param.layer(1).param(1).lr_mult(), 2.f);
  EXPECT_FLOAT_EQ(param.layer(1).param(1).decay_mult(), 0.f);
  EXPECT_EQ(param.layer(1).inner_product_param().num_output(), 10u);
  EXPECT_EQ(param.layer(2).type(), "SoftmaxWithLoss");
  EXPECT_FLOAT_EQ(param.layer(2).loss_weight(0), 2.f);
}

TEST(UpgradeTest, MixedV1AndV2IsRefused) {
  const std::string path = WriteTemp("mixed.prototxt", R"(
layers { name: "a" type: RELU }
layer { name: "b" type: "ReLU" }
)");
  EXPECT_THROW(ReadNetParamFromTextFile(path), ConfigError);
}

TEST(UpgradeTest, SolverEmbeddedV1NetIsUpgraded) {
  const std::string path = WriteTemp("embedded_solver.prototxt", R"(
base_lr: 0.1
net_param { layers { name: "r" type: RELU bottom: "x" top: "x" } }
)");
  SolverParameter solver = ReadSolverParamFromTextFile(path);
  ASSERT_EQ(solver.net_param().layer_size(), 1);
  EXPECT_EQ(solver.net_param().layer(0).type(), "ReLU");
}

}  // namespace
}  // namespace moka
