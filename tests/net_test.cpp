// Net construction: state filtering, split insertion, in-place layers, parameter sharing,
// backward planning and weight copying.
#include <gtest/gtest.h>

#include <cstdio>

#include "insert_splits.hpp"
#include "net.hpp"
#include "proto_io.hpp"
#include "test_util.hpp"

namespace moka {
namespace {

NetParameter ParseNet(const std::string& text, Phase phase = TRAIN) {
  NetParameter param;
  ReadProtoFromTextString(text, "test-net", &param);
  param.mutable_state()->set_phase(phase);
  return param;
}

const char* kTinyNet = R"(
name: "tiny"
layer { name: "data" type: "DummyData" top: "data" top: "target"
  dummy_data_param { shape { dim: 4 dim: 3 } shape { dim: 4 dim: 2 }
    data_filler { type: "gaussian" std: 1 } data_filler { type: "gaussian" std: 1 } } }
layer { name: "ip1" type: "InnerProduct" bottom: "data" top: "ip1"
  inner_product_param { num_output: 5 weight_filler { type: "xavier" } } }
layer { name: "relu1" type: "ReLU" bottom: "ip1" top: "ip1" }
layer { name: "ip2" type: "InnerProduct" bottom: "ip1" top: "ip2"
  inner_product_param { num_output: 2 weight_filler { type: "xavier" } } }
layer { name: "loss" type: "EuclideanLoss" bottom: "ip2" bottom: "target" top: "loss" }
)";

TEST(NetTest, BuildsLayersAndBlobs) {
  auto context = std::make_shared<Context>(Device::kCpu, 0, 1);
  Net<float> net(ParseNet(kTinyNet), context);
  EXPECT_EQ(net.num_layers(), 5);
  EXPECT_TRUE(net.has_blob("ip1"));
  EXPECT_EQ(net.blob_by_name("ip2")->shape(), (std::vector<int>{4, 2}));
  EXPECT_EQ(net.learnable_params().size(), 4u);
  ASSERT_EQ(net.output_blobs().size(), 1u);
  EXPECT_EQ(net.blob_names()[net.output_blob_indices()[0]], "loss");
  const float loss = net.ForwardBackward();
  EXPECT_GT(loss, 0);
  // ReLU runs in place: its top is the ip1 blob itself.
  const int relu = net.layer_index("relu1");
  EXPECT_EQ(net.top_vecs()[relu][0], net.bottom_vecs()[relu][0]);
  EXPECT_THROW(net.blob_by_name("nope"), ConfigError);
}

TEST(NetTest, FiltersByPhaseLevelAndStage) {
  const char* text = R"(
layer { name: "a" type: "DummyData" top: "a" dummy_data_param { shape { dim: 1 } } }
layer { name: "train_only" type: "ReLU" bottom: "a" top: "b" include { phase: TRAIN } }
layer { name: "test_only" type: "ReLU" bottom: "a" top: "c" include { phase: TEST } }
layer { name: "staged" type: "ReLU" bottom: "a" top: "d" include { stage: "deploy" } }
layer { name: "leveled" type: "ReLU" bottom: "a" top: "e" include { min_level: 2 } }
layer { name: "excluded" type: "ReLU" bottom: "a" top: "f" exclude { not_stage: "keep" } }
)";
  NetParameter param = ParseNet(text, TRAIN);
  NetParameter filtered = Net<float>::FilterNet(param);
  std::vector<std::string> names;
  for (const auto& layer : filtered.layer()) names.push_back(layer.name());
  EXPECT_EQ(names, (std::vector<std::string>{"a", "train_only"}));

  param.mutable_state()->set_phase(TEST);
  param.mutable_state()->set_level(3);
  param.mutable_state()->add_stage("deploy");
  param.mutable_state()->add_stage("keep");
  filtered = Net<float>::FilterNet(param);
  names.clear();
  for (const auto& layer : filtered.layer()) names.push_back(layer.name());
  EXPECT_EQ(names, (std::vector<std::string>{"a", "test_only", "staged", "leveled", "excluded"}));
}

TEST(NetTest, InsertsSplitsWithCaffeNames) {
  const char* text = R"(
layer { name: "data" type: "DummyData" top: "data" dummy_data_param { shape { dim: 2 dim: 3 } } }
layer { name: "r1" type: "ReLU" bottom: "data" top: "r1" }
layer { name: "r2" type: "ReLU" bottom: "data" top: "r2" }
)";
  NetParameter split = InsertSplits(ParseNet(text));
  ASSERT_EQ(split.layer_size(), 4);
  EXPECT_EQ(split.layer(1).type(), "Split");
  EXPECT_EQ(split.layer(1).name(), "data_data_0_split");
  EXPECT_EQ(split.layer(1).top(1), "data_data_0_split_1");
  EXPECT_EQ(split.layer(2).bottom(0), "data_data_0_split_0");
  EXPECT_EQ(split.layer(3).bottom(0), "data_data_0_split_1");
}

TEST(NetTest, MissingBottomNamesLayerAndBlob) {
  const char* text = R"(
layer { name: "data" type: "DummyData" top: "data" dummy_data_param { shape { dim: 2 } } }
layer { name: "relu" type: "ReLU" bottom: "dta" top: "out" }
)";
  auto context = std::make_shared<Context>();
  try {
    Net<float> net(ParseNet(text), context);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("'relu'"), std::string::npos) << message;
    EXPECT_NE(message.find("'dta'"), std::string::npos) << message;
  }
}

TEST(NetTest, DuplicateTopIsRefused) {
  const char* text = R"(
layer { name: "a" type: "DummyData" top: "x" dummy_data_param { shape { dim: 2 } } }
layer { name: "b" type: "DummyData" top: "x" dummy_data_param { shape { dim: 2 } } }
)";
  auto context = std::make_shared<Context>();
  EXPECT_THROW(Net<float>(ParseNet(text), context), ConfigError);
}

TEST(NetTest, SharedParametersUseOwnerMemory) {
  const char* text = R"(
layer { name: "data" type: "DummyData" top: "data" top: "target"
  dummy_data_param { shape { dim: 2 dim: 3 } shape { dim: 2 dim: 3 }
    data_filler { type: "gaussian" } data_filler { type: "gaussian" } } }
layer { name: "ip1" type: "InnerProduct" bottom: "data" top: "ip1"
  param { name: "w" } param { name: "b" }
  inner_product_param { num_output: 3 weight_filler { type: "gaussian" } } }
layer { name: "ip2" type: "InnerProduct" bottom: "ip1" top: "ip2"
  param { name: "w" } param { name: "b" }
  inner_product_param { num_output: 3 weight_filler { type: "gaussian" } } }
layer { name: "loss" type: "EuclideanLoss" bottom: "ip2" bottom: "target" top: "loss" }
)";
  auto context = std::make_shared<Context>(Device::kCpu, 0, 3);
  Net<float> net(ParseNet(text), context);
  EXPECT_EQ(net.params().size(), 4u);
  EXPECT_EQ(net.learnable_params().size(), 2u);
  EXPECT_EQ(net.param_owners()[2], 0);
  auto& w1 = net.layer_by_name("ip1")->blobs()[0];
  auto& w2 = net.layer_by_name("ip2")->blobs()[0];
  EXPECT_EQ(w1->cpu_data(), w2->cpu_data());
  EXPECT_EQ(w1->cpu_diff(), w2->cpu_diff());
}

TEST(NetTest, SharedParameterShapeMismatchIsAnError) {
  const char* text = R"(
layer { name: "data" type: "DummyData" top: "data" dummy_data_param { shape { dim: 2 dim: 3 } } }
layer { name: "ip1" type: "InnerProduct" bottom: "data" top: "ip1" param { name: "w" }
  inner_product_param { num_output: 3 } }
layer { name: "ip2" type: "InnerProduct" bottom: "ip1" top: "ip2" param { name: "w" }
  inner_product_param { num_output: 4 } }
)";
  auto context = std::make_shared<Context>();
  EXPECT_THROW(Net<float>(ParseNet(text), context), ShapeError);
}

TEST(NetTest, FrozenLayersSkipBackward) {
  const char* text = R"(
layer { name: "data" type: "DummyData" top: "data" top: "target"
  dummy_data_param { shape { dim: 2 dim: 3 } shape { dim: 2 dim: 2 } } }
layer { name: "frozen" type: "InnerProduct" bottom: "data" top: "f"
  param { lr_mult: 0 } param { lr_mult: 0 } inner_product_param { num_output: 3 } }
layer { name: "ip" type: "InnerProduct" bottom: "f" top: "ip" inner_product_param { num_output: 2 } }
layer { name: "loss" type: "EuclideanLoss" bottom: "ip" bottom: "target" top: "loss" }
layer { name: "side" type: "InnerProduct" bottom: "data" top: "side" inner_product_param { num_output: 2 } }
)";
  // "data" feeds two layers, so a Split is inserted after it.
  auto context = std::make_shared<Context>();
  Net<float> net(ParseNet(text), context);
  EXPECT_FALSE(net.layer_need_backward()[net.layer_index("frozen")]);
  EXPECT_TRUE(net.layer_need_backward()[net.layer_index("ip")]);
  EXPECT_FALSE(net.layer_need_backward()[net.layer_index("side")]) << "no loss depends on it";
  const int ip = net.layer_index("ip");
  EXPECT_FALSE(net.bottom_need_backward()[ip][0]) << "nothing below ip learns";

  NetParameter forced = ParseNet(text);
  forced.set_force_backward(true);
  Net<float> forced_net(forced, context);
  EXPECT_TRUE(forced_net.layer_need_backward()[forced_net.layer_index("frozen")]);
  EXPECT_TRUE(forced_net.bottom_need_backward()[forced_net.layer_index("loss")][0]);
  // EuclideanLoss has no labels: both its bottoms take a forced gradient, as in Caffe.
  EXPECT_TRUE(forced_net.bottom_need_backward()[forced_net.layer_index("loss")][1]);
}

TEST(NetTest, ForwardFromToRunsARange) {
  auto context = std::make_shared<Context>(Device::kCpu, 0, 5);
  Net<double> net(ParseNet(kTinyNet), context);
  net.Forward();
  std::vector<double> ip2(net.blob_by_name("ip2")->cpu_data(), net.blob_by_name("ip2")->cpu_data() + 8);
  net.blob_by_name("ip2")->set_data(0);
  net.ForwardFromTo(net.layer_index("ip2"), net.layer_index("ip2"));
  for (int i = 0; i < 8; ++i) EXPECT_DOUBLE_EQ(net.blob_by_name("ip2")->cpu_data()[i], ip2[i]);
  EXPECT_THROW(net.ForwardFromTo(0, 99), ConfigError);
}

TEST(NetTest, CopiesWeightsByNameAndRefusesShapeMismatch) {
  auto context = std::make_shared<Context>(Device::kCpu, 0, 7);
  Net<float> source(ParseNet(kTinyNet), context);
  NetParameter trained;
  source.ToProto(&trained);
  Net<float> target(ParseNet(kTinyNet), context);
  target.CopyTrainedLayersFrom(trained);
  const auto& a = *source.layer_by_name("ip1")->blobs()[0];
  const auto& b = *target.layer_by_name("ip1")->blobs()[0];
  for (int i = 0; i < a.count(); ++i) EXPECT_EQ(a.cpu_data()[i], b.cpu_data()[i]);

  // A layer renamed in the source is simply ignored.
  NetParameter renamed = trained;
  renamed.mutable_layer(1)->set_name("ip1_old");
  target.CopyTrainedLayersFrom(renamed);

  std::string wider = kTinyNet;
  wider.replace(wider.find("num_output: 5"), 13, "num_output: 6");
  Net<float> mismatched(ParseNet(wider), context);
  try {
    mismatched.CopyTrainedLayersFrom(trained);
    FAIL() << "expected ShapeError";
  } catch (const ShapeError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("'ip1'"), std::string::npos) << message;
    EXPECT_NE(message.find("5 3 (15)"), std::string::npos) << message;
    EXPECT_NE(message.find("6 3 (18)"), std::string::npos) << message;
  }
}

TEST(NetTest, CorruptCaffemodelIsAClearError) {
  const std::string path = ::testing::TempDir() + "/corrupt.caffemodel";
  FILE* file = std::fopen(path.c_str(), "wb");
  std::fputs("\xff\xff\xff garbage", file);
  std::fclose(file);
  auto context = std::make_shared<Context>();
  Net<float> net(ParseNet(kTinyNet), context);
  try {
    net.CopyTrainedLayersFrom(path);
    FAIL() << "expected IoError";
  } catch (const IoError& error) {
    EXPECT_NE(std::string(error.what()).find(path), std::string::npos) << error.what();
  }
  EXPECT_THROW(net.CopyTrainedLayersFrom(path + ".missing"), IoError);
}

TEST(NetTest, SnapshotRoundTripKeepsSplitLayersAndBlobs) {
  const char* text = R"(
layer { name: "data" type: "DummyData" top: "data" top: "target"
  dummy_data_param { shape { dim: 2 dim: 3 } shape { dim: 2 dim: 3 } } }
layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 3 } }
layer { name: "loss" type: "EuclideanLoss" bottom: "ip" bottom: "target" top: "loss" }
layer { name: "loss2" type: "EuclideanLoss" bottom: "ip" bottom: "target" top: "loss2" }
)";
  auto context = std::make_shared<Context>();
  Net<float> net(ParseNet(text), context);
  NetParameter written;
  net.ToProto(&written);
  int splits = 0;
  for (const auto& layer : written.layer()) splits += layer.type() == "Split";
  EXPECT_EQ(splits, 2);
  for (const auto& layer : written.layer()) {
    EXPECT_EQ(layer.blobs_size(), layer.name() == "ip" ? 2 : 0) << layer.name();
  }
}

}  // namespace
}  // namespace moka
