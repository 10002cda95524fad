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
