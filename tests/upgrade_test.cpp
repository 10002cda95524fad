// Legacy Caffe formats: V0 nets (nested `layer` blocks, padding layers, lower-case types) and V1
// nets (`layers` with enum types) in text and binary form, legacy 4-D weight blobs, the
// upgrade_* verbs, and the acceptance check that a model in V1 form gives the outputs of its V2
// form.
#include <glog/logging.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "net.hpp"
#include "proto_io.hpp"
#include "solver_test_util.hpp"
#include "temp_dir.hpp"
#include "test_util.hpp"
#include "tools/verbs.hpp"
#include "upgrade.hpp"

namespace moka {
namespace {

using google::protobuf::util::MessageDifferencer;
using test::TempDir;

NetParameter Parse(const std::string& text) { return test::ParseNet(text); }

void ExpectSameProto(const google::protobuf::Message& expected,
                     const google::protobuf::Message& actual) {
  std::string report;
  MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&report);
  EXPECT_TRUE(differencer.Compare(expected, actual)) << report << "\nactual:\n"
                                                     << actual.DebugString();
}

// A LeNet-style net in the V0 format of 2014, with a separate padding layer in front of conv1.
const char kV0Net[] = R"(
  name: "LeNetV0"
  input: "data"
  input_dim: 2 input_dim: 1 input_dim: 8 input_dim: 8
  layers { layer { name: "pad1" type: "padding" pad: 1 } bottom: "data" top: "pad1" }
  layers {
    layer { name: "conv1" type: "conv" num_output: 3 kernelsize: 3 stride: 1
            weight_filler { type: "gaussian" std: 0.1 }
            bias_filler { type: "constant" value: 0.1 }
            blobs_lr: 1 blobs_lr: 2 weight_decay: 1 weight_decay: 0 }
    bottom: "pad1" top: "conv1"
  }
  layers { layer { name: "relu1" type: "relu" } bottom: "conv1" top: "conv1" }
  layers { layer { name: "pool1" type: "pool" pool: AVE kernelsize: 2 stride: 2 }
           bottom: "conv1" top: "pool1" }
  layers { layer { name: "norm1" type: "lrn" local_size: 3 alpha: 0.001 beta: 0.5 k: 2 }
           bottom: "pool1" top: "norm1" }
  layers { layer { name: "ip1" type: "innerproduct" num_output: 5 biasterm: true
                   weight_filler { type: "xavier" } }
           bottom: "norm1" top: "ip1" }
  layers { layer { name: "drop1" type: "dropout" dropout_ratio: 0.3 } bottom: "ip1" top: "ip1" }
  layers { layer { name: "prob" type: "softmax" } bottom: "ip1" top: "prob" }
)";

// What Caffe's upgrade makes of kV0Net.
const char kV0NetUpgraded[] = R"(
  name: "LeNetV0"
  layer { name: "input" type: "Input" top: "data"
          input_param { shape { dim: 2 dim: 1 dim: 8 dim: 8 } } }
  layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
          param { lr_mult: 1 decay_mult: 1 } param { lr_mult: 2 decay_mult: 0 }
          convolution_param { num_output: 3 pad: 1 kernel_size: 3 stride: 1
                              weight_filler { type: "gaussian" std: 0.1 }
                              bias_filler { type: "constant" value: 0.1 } } }
  layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
  layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1"
          pooling_param { pool: AVE kernel_size: 2 stride: 2 } }
  layer { name: "norm1" type: "LRN" bottom: "pool1" top: "norm1"
          lrn_param { local_size: 3 alpha: 0.001 beta: 0.5 k: 2 } }
  layer { name: "ip1" type: "InnerProduct" bottom: "norm1" top: "ip1"
          inner_product_param { num_output: 5 bias_term: true weight_filler { type: "xavier" } } }
  layer { name: "drop1" type: "Dropout" bottom: "ip1" top: "ip1"
          dropout_param { dropout_ratio: 0.3 } }
  layer { name: "prob" type: "Softmax" bottom: "ip1" top: "prob" }
)";

TEST(UpgradeV0Test, LeNetStyleNetUpgradesAsCaffeDoes) {
  NetParameter net = Parse(kV0Net);
  EXPECT_TRUE(NetNeedsV0ToV1Upgrade(net));
  EXPECT_TRUE(NetNeedsUpgrade(net));
  EXPECT_TRUE(UpgradeNetAsNeeded("v0", &net));
  ExpectSameProto(Parse(kV0NetUpgraded), net);
  EXPECT_FALSE(NetNeedsUpgrade(net));
}

TEST(UpgradeV0Test, PaddingLayerFoldsIntoTheConvOrPoolItFeeds) {
  NetParameter net = Parse(R"(
    input: "data"
    layers { layer { name: "pad" type: "padding" pad: 2 } bottom: "data" top: "padded" }
    layers { layer { name: "pool" type: "pool" kernelsize: 3 } bottom: "padded" top: "pooled" }
  )");
  UpgradeV0PaddingLayers("v0", &net);
  ASSERT_EQ(1, net.layers_size());
  EXPECT_EQ("pool", net.layers(0).layer().name());
  EXPECT_EQ(2u, net.layers(0).layer().pad());
  ASSERT_EQ(1, net.layers(0).bottom_size());
  EXPECT_EQ("data", net.layers(0).bottom(0));
  V1LayerParameter v1;
  EXPECT_TRUE(UpgradeV0Layer("v0", net.layers(0), &v1));
  EXPECT_EQ(V1LayerParameter::POOLING, v1.type());
  EXPECT_EQ(2u, v1.pooling_param().pad());
  EXPECT_EQ(3u, v1.pooling_param().kernel_size());
}

TEST(UpgradeV0Test, PaddingIntoOtherLayersAndUnknownBlobsAreRefused) {
  NetParameter into_relu = Parse(R"(
    input: "data"
    layers { layer { name: "pad" type: "padding" pad: 1 } bottom: "data" top: "padded" }
    layers { layer { name: "relu" type: "relu" } bottom: "padded" top: "out" }
  )");
  try {
    UpgradeNetAsNeeded("net.prototxt", &into_relu);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    const std::string what = error.what();
    EXPECT_NE(what.find("net.prototxt"), std::string::npos) << what;
    EXPECT_NE(what.find("'pad'"), std::string::npos) << what;
    EXPECT_NE(what.find("'relu'"), std::string::npos) << what;
  }
  NetParameter unknown_blob = Parse(R"(
    layers { layer { name: "relu" type: "relu" } bottom: "nowhere" top: "out" }
  )");
  EXPECT_THROW(UpgradeNetAsNeeded("net.prototxt", &unknown_blob), ConfigError);
  NetParameter unknown_type = Parse(R"(
    input: "data"
    layers { layer { name: "x" type: "warp_drive" } bottom: "data" top: "out" }
  )");
  try {
    UpgradeNetAsNeeded("net.prototxt", &unknown_type);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("warp_drive"), std::string::npos) << error.what();
  }
  NetParameter mixed = Parse(R"(
    input: "data"
    layers { layer { name: "relu" type: "relu" } bottom: "data" top: "a" }
    layers { name: "relu2" type: RELU bottom: "a" top: "b" }
  )");
  EXPECT_THROW(UpgradeNetAsNeeded("net.prototxt", &mixed), ConfigError);
}

TEST(UpgradeV0Test, TypeStringsMapToV1Enums) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"accuracy", "Accuracy"}, {"bnll", "BNLL"}, {"concat", "Concat"},
      {"conv", "Convolution"}, {"data", "Data"}, {"dropout", "Dropout"},
      {"euclidean_loss", "EuclideanLoss"}, {"flatten", "Flatten"}, {"hdf5_data", "HDF5Data"},
      {"hdf5_output", "HDF5Output"}, {"im2col", "Im2col"}, {"images", "ImageData"},
      {"infogain_loss", "InfogainLoss"}, {"innerproduct", "InnerProduct"}, {"lrn", "LRN"},
      {"multinomial_logistic_loss", "MultinomialLogisticLoss"}, {"pool", "Pooling"},
      {"relu", "ReLU"}, {"sigmoid", "Sigmoid"}, {"softmax", "Softmax"},
      {"softmax_loss", "SoftmaxWithLoss"}, {"split", "Split"}, {"tanh", "TanH"},
      {"window_data", "WindowData"}};
  for (const auto& entry : cases) {
    EXPECT_EQ(entry.second, V1LayerTypeName(UpgradeV0LayerType("v0", entry.first))) << entry.first;
  }
  EXPECT_THROW(UpgradeV0LayerType("v0", "padding"), ConfigError);
  EXPECT_THROW(UpgradeV0LayerType("v0", "CONVOLUTION"), ConfigError);
}

TEST(UpgradeV0Test, DataLayerFieldsGoToTheirParamsAndTransformParam) {
  NetParameter net = Parse(R"(
    layers { layer { name: "mnist" type: "data" source: "mnist-train-leveldb" batchsize: 64
                     scale: 0.00390625 meanfile: "mean.binaryproto" cropsize: 24 mirror: true
                     rand_skip: 7 }
             top: "data" top: "label" }
    layers { layer { name: "img" type: "images" source: "list.txt" batchsize: 4
                     shuffle_images: true new_height: 32 new_width: 48 rand_skip: 2 }
             top: "img" top: "img_label" }
    layers { layer { name: "win" type: "window_data" source: "windows.txt" batchsize: 8
                     det_fg_threshold: 0.6 det_bg_threshold: 0.4 det_fg_fraction: 0.3
                     det_context_pad: 16 det_crop_mode: "square" }
             top: "win" top: "win_label" }
    layers { layer { name: "h5" type: "hdf5_data" source: "files.txt" batchsize: 10 }
             top: "h5data" }
    layers { layer { name: "cat" type: "concat" concat_dim: 0 }
             bottom: "data" bottom: "img" top: "cat" }
    layers { layer { name: "gain" type: "infogain_loss" source: "H.binaryproto" }
             bottom: "cat" bottom: "label" }
    layers { layer { name: "out" type: "hdf5_output" hdf5_output_param { file_name: "o.h5" } }
             bottom: "cat" bottom: "label" }
  )");
  EXPECT_TRUE(UpgradeNetAsNeeded("v0", &net));
  ExpectSameProto(Parse(R"(
    layer { name: "mnist" type: "Data" top: "data" top: "label"
            transform_param { scale: 0.00390625 mean_file: "mean.binaryproto" crop_size: 24
                              mirror: true }
            data_param { source: "mnist-train-leveldb" batch_size: 64 rand_skip: 7 } }
    layer { name: "img" type: "ImageData" top: "img" top: "img_label"
            image_data_param { source: "list.txt" batch_size: 4 shuffle: true new_height: 32
                               new_width: 48 rand_skip: 2 } }
    layer { name: "win" type: "WindowData" top: "win" top: "win_label"
            window_data_param { source: "windows.txt" batch_size: 8 fg_threshold: 0.6
                                bg_threshold: 0.4 fg_fraction: 0.3 context_pad: 16
                                crop_mode: "square" } }
    layer { name: "h5" type: "HDF5Data" top: "h5data"
            hdf5_data_param { source: "files.txt" batch_size: 10 } }
    layer { name: "cat" type: "Concat" bottom: "data" bottom: "img" top: "cat"
            concat_param { concat_dim: 0 } }
    layer { name: "gain" type: "InfogainLoss" bottom: "cat" bottom: "label"
            infogain_loss_param { source: "H.binaryproto" } }
    layer { name: "out" type: "HDF5Output" bottom: "cat" bottom: "label"
            hdf5_output_param { file_name: "o.h5" } }
  )"),
                  net);
}

TEST(UpgradeV0Test, FieldsThatDoNotApplyAreDroppedAndReported) {
  NetParameter net = Parse(R"(
    input: "data"
    layers { layer { name: "relu" type: "relu" num_output: 4 kernelsize: 3 } bottom: "data"
             top: "out" }
  )");
  test::LogCapture logs;
  EXPECT_FALSE(UpgradeNetAsNeeded("v0", &net));
  ASSERT_EQ(2, net.layer_size());
  EXPECT_EQ("ReLU", net.layer(1).type());
  EXPECT_FALSE(net.layer(1).has_convolution_param());
  EXPECT_TRUE(logs.Contains("num_output"));
  EXPECT_TRUE(logs.Contains("kernelsize"));
}

// Writes a parameter blob in the legacy 4-D form (num, channels, height, width; no shape).
void SetLegacyBlob(BlobProto* blob, int num, int channels, int height, int width,
                   float first = 0) {
  blob->Clear();
  blob->set_num(num);
  blob->set_channels(channels);
  blob->set_height(height);
  blob->set_width(width);
  for (int i = 0; i < num * channels * height * width; ++i) blob->add_data(first + 0.01f * i);
}

TEST(UpgradeV0Test, BinaryV0CaffemodelLoadsThroughCopyTrainedLayers) {
  test::QuietLogs quiet;
  TempDir dir;
  NetParameter v0 = Parse(kV0Net);
  // Weights as a 2014 caffemodel holds them: inside the V0 layer, with legacy 4-D shapes.
  V0LayerParameter* conv = v0.mutable_layers(1)->mutable_layer();
  SetLegacyBlob(conv->add_blobs(), 3, 1, 3, 3, 0.5f);
  SetLegacyBlob(conv->add_blobs(), 1, 1, 1, 3, -0.2f);
  V0LayerParameter* ip = v0.mutable_layers(5)->mutable_layer();
  SetLegacyBlob(ip->add_blobs(), 1, 1, 5, 48, 0.1f);
  SetLegacyBlob(ip->add_blobs(), 1, 1, 1, 5, 0.3f);
  const std::string weights = dir / "v0.caffemodel";
  WriteProtoToBinaryFile(v0, weights);
  const std::string model = dir / "v0.prototxt";
  WriteProtoToTextFile(Parse(kV0Net), model);

  Net<float> net(model, TEST, std::make_shared<Context>());
  net.CopyTrainedLayersFrom(weights);
  const auto& conv_blobs = net.layer_by_name("conv1")->blobs();
  EXPECT_EQ((std::vector<int>{3, 1, 3, 3}), conv_blobs[0]->shape());
  EXPECT_FLOAT_EQ(0.5f + 0.01f * 26, conv_blobs[0]->cpu_data()[26]);
  EXPECT_EQ((std::vector<int>{3}), conv_blobs[1]->shape());
  EXPECT_FLOAT_EQ(-0.2f + 0.02f, conv_blobs[1]->cpu_data()[2]);
  const auto& ip_blobs = net.layer_by_name("ip1")->blobs();
  EXPECT_EQ((std::vector<int>{5, 48}), ip_blobs[0]->shape());
  EXPECT_FLOAT_EQ(0.1f + 0.01f * 239, ip_blobs[0]->cpu_data()[239]);
  EXPECT_FLOAT_EQ(0.3f + 0.04f, ip_blobs[1]->cpu_data()[4]);
}

TEST(LegacyBlobShapeTest, FourDimShapesMatchTrailingAxes) {
  Blob<float> bias({7});
  BlobProto proto;
  SetLegacyBlob(&proto, 1, 1, 1, 7);
  EXPECT_TRUE(bias.ShapeEquals(proto));
  Blob<float> weights({7, 12});
  SetLegacyBlob(&proto, 1, 1, 7, 12);
  EXPECT_TRUE(weights.ShapeEquals(proto));
  SetLegacyBlob(&proto, 1, 7, 1, 12);
  EXPECT_FALSE(weights.ShapeEquals(proto));
  SetLegacyBlob(&proto, 2, 1, 7, 12);
  EXPECT_FALSE(weights.ShapeEquals(proto));
  Blob<float> conv({4, 3, 2, 2});
  SetLegacyBlob(&proto, 4, 3, 2, 2);
  EXPECT_TRUE(conv.ShapeEquals(proto));
  Blob<float> five({1, 4, 3, 2, 2});
  EXPECT_FALSE(five.ShapeEquals(proto));
  // Only width set: num, channels and height read as 0, which no axis equals.
  BlobProto only_width;
  only_width.set_width(7);
  EXPECT_FALSE(bias.ShapeEquals(only_width));
}

TEST(LegacyBlobShapeTest, MismatchNamesLayerAndBothShapes) {
  test::QuietLogs quiet;
  TempDir dir;
  NetParameter v1 = Parse(R"(
    input: "data" input_dim: 1 input_dim: 1 input_dim: 1 input_dim: 6
    layers { name: "ip" type: INNER_PRODUCT bottom: "data" top: "out"
             inner_product_param { num_output: 4 } }
  )");
  SetLegacyBlob(v1.mutable_layers(0)->add_blobs(), 1, 1, 4, 5);
  SetLegacyBlob(v1.mutable_layers(0)->add_blobs(), 1, 1, 1, 4);
  const std::string weights = dir / "v1.caffemodel";
  WriteProtoToBinaryFile(v1, weights);
  v1.mutable_layers(0)->clear_blobs();
  const std::string model = dir / "v1.prototxt";
  WriteProtoToTextFile(v1, model);
  Net<float> net(model, TEST, std::make_shared<Context>());
  try {
    net.CopyTrainedLayersFrom(weights);
    FAIL() << "expected ShapeError";
  } catch (const ShapeError& error) {
    const std::string what = error.what();
    EXPECT_NE(what.find("'ip'"), std::string::npos) << what;
    EXPECT_NE(what.find("1 1 4 5 (20)"), std::string::npos) << what;
    EXPECT_NE(what.find("4 6 (24)"), std::string::npos) << what;
    EXPECT_NE(what.find(weights), std::string::npos) << what;
  }
}

// --- V1 acceptance: a model in V1 form gives the outputs of its V2 form. ---

const char kLeNetV2[] = R"(
  name: "LeNetSmall"
  layer { name: "data" type: "Input" top: "data"
          input_param { shape { dim: 2 dim: 1 dim: 12 dim: 12 } } }
  layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
          param { lr_mult: 1 } param { lr_mult: 2 decay_mult: 0 }
          convolution_param { num_output: 4 kernel_size: 3 stride: 1
                              weight_filler { type: "xavier" }
                              bias_filler { type: "gaussian" std: 0.1 } } }
  layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1"
          pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
  layer { name: "ip1" type: "InnerProduct" bottom: "pool1" top: "ip1"
          inner_product_param { num_output: 10 weight_filler { type: "xavier" }
                                bias_filler { type: "gaussian" std: 0.1 } } }
  layer { name: "relu1" type: "ReLU" bottom: "ip1" top: "ip1" }
  layer { name: "ip2" type: "InnerProduct" bottom: "ip1" top: "ip2"
          inner_product_param { num_output: 5 weight_filler { type: "xavier" }
                                bias_filler { type: "gaussian" std: 0.1 } } }
  layer { name: "prob" type: "Softmax" bottom: "ip2" top: "prob" }
)";

V1LayerParameter::LayerType V1TypeOf(const std::string& type) {
  const auto* descriptor = V1LayerParameter::LayerType_descriptor();
  for (int i = 0; i < descriptor->value_count(); ++i) {
    const auto value = static_cast<V1LayerParameter::LayerType>(descriptor->value(i)->number());
    if (V1LayerTypeName(value) == type) return value;
  }
  ADD_FAILURE() << "no V1 enum for " << type;
  return V1LayerParameter::NONE;
}

// Writes a V2 net (weights included) the way 2014 Caffe did: net-level input fields, `layers`
// with enum types, blobs_lr/weight_decay, and weight blobs in the legacy 4-D form.
NetParameter ToV1(const NetParameter& v2) {
  NetParameter v1;
  v1.set_name(v2.name());
  for (const auto& layer : v2.layer()) {
    if (layer.type() == "Input") {
      for (int i = 0; i < layer.top_size(); ++i) {
        v1.add_input(layer.top(i));
        for (auto dim : layer.input_param().shape(i).dim()) v1.add_input_dim(static_cast<int>(dim));
      }
      continue;
    }
    V1LayerParameter* old = v1.add_layers();
    old->set_name(layer.name());
    old->set_type(V1TypeOf(layer.type()));
    for (const auto& bottom : layer.bottom()) old->add_bottom(bottom);
    for (const auto& top : layer.top()) old->add_top(top);
    for (const auto& spec : layer.param()) {
      old->add_blobs_lr(spec.lr_mult());
      old->add_weight_decay(spec.decay_mult());
    }
    for (const auto& blob : layer.blobs()) {
      std::vector<int> shape(blob.shape().dim().begin(), blob.shape().dim().end());
      EXPECT_LE(shape.size(), 4u);
      shape.insert(shape.begin(), 4 - shape.size(), 1);
      BlobProto* legacy = old->add_blobs();
      legacy->set_num(shape[0]);
      legacy->set_channels(shape[1]);
      legacy->set_height(shape[2]);
      legacy->set_width(shape[3]);
      for (float value : blob.data()) legacy->add_data(value);
      for (double value : blob.double_data()) legacy->add_double_data(value);
    }
    // The per-type messages have the same names in V1 and V2.
    const auto* reflection = layer.GetReflection();
    std::vector<const google::protobuf::FieldDescriptor*> fields;
    reflection->ListFields(layer, &fields);
    for (const auto* field : fields) {
      if (field->is_repeated() || field->message_type() == nullptr) continue;
      const auto* target = old->GetDescriptor()->FindFieldByName(field->name());
      if (target == nullptr || target->message_type() != field->message_type()) continue;
      old->GetReflection()->MutableMessage(old, target)->CopyFrom(reflection->GetMessage(layer, field));
    }
  }
  return v1;
}

template <typename Dtype>
std::vector<Dtype> ForwardOnFixedInput(Net<Dtype>* net) {
  Blob<Dtype>* data = net->input_blobs()[0];
  for (int i = 0; i < data->count(); ++i) data->mutable_cpu_data()[i] = Dtype(std::sin(0.37 * i));
  net->Forward();
  const Blob<Dtype>* out = net->output_blobs()[0];
  return std::vector<Dtype>(out->cpu_data(), out->cpu_data() + out->count());
}

// argv entries for calling verb functions; kept alive for the whole test program.
char* Arg(const std::string& text) {
  static std::deque<std::string> kept;
  kept.push_back(text);
  return &kept.back()[0];
}

template <typename Dtype>
class V1AcceptanceTest : public ::testing::Test {};
TYPED_TEST_SUITE(V1AcceptanceTest, test::TestDtypes);

TYPED_TEST(V1AcceptanceTest, V1TextAndBinaryGiveTheV2Outputs) {
  test::QuietLogs quiet;
  TempDir dir;
  auto context = std::make_shared<Context>();
  context->rng().seed(11);
  const std::string v2_model = dir / "lenet.v2.prototxt";
  WriteProtoToTextFile(Parse(kLeNetV2), v2_model);
  Net<TypeParam> reference(v2_model, TEST, context);
  const std::vector<TypeParam> expected = ForwardOnFixedInput(&reference);
  NetParameter trained;
  reference.ToProto(&trained);
  const std::string v2_weights = dir / "lenet.v2.caffemodel";
  WriteProtoToBinaryFile(trained, v2_weights);

  const NetParameter v1_trained = ToV1(trained);
  ASSERT_EQ(0, v1_trained.layer_size());
  const std::string v1_weights = dir / "lenet.v1.caffemodel";
  WriteProtoToBinaryFile(v1_trained, v1_weights);
  NetParameter v1_definition = ToV1(Parse(kLeNetV2));
  const std::string v1_model = dir / "lenet.v1.prototxt";
  WriteProtoToTextFile(v1_definition, v1_model);

  // V1 text + V1 weights.
  Net<TypeParam> from_v1(v1_model, TEST, std::make_shared<Context>());
  from_v1.CopyTrainedLayersFrom(v1_weights);
  EXPECT_EQ(expected, ForwardOnFixedInput(&from_v1));
  // V2 text + V1 weights, and V1 text + V2 weights.
  Net<TypeParam> mixed(v2_model, TEST, std::make_shared<Context>());
  mixed.CopyTrainedLayersFrom(v1_weights);
  EXPECT_EQ(expected, ForwardOnFixedInput(&mixed));
  Net<TypeParam> mixed2(v1_model, TEST, std::make_shared<Context>());
  mixed2.CopyTrainedLayersFrom(v2_weights);
  EXPECT_EQ(expected, ForwardOnFixedInput(&mixed2));

  // Through the upgrade verbs: the files they write are V2 and give the same outputs.
  const std::string up_model = dir / "lenet.up.prototxt";
  const std::string up_weights = dir / "lenet.up.caffemodel";
  const std::string verb_text = "upgrade_net_proto_text";
  const std::string verb_binary = "upgrade_net_proto_binary";
  char* text_argv[] = {Arg(verb_text), Arg(v1_model), Arg(up_model), nullptr};
  EXPECT_EQ(0, UpgradeNetProtoTextMain(3, text_argv));
  char* binary_argv[] = {Arg(verb_binary), Arg(v1_weights), Arg(up_weights), nullptr};
  EXPECT_EQ(0, UpgradeNetProtoBinaryMain(3, binary_argv));
  NetParameter upgraded;
  ReadProtoFromTextFile(up_model, &upgraded);
  EXPECT_FALSE(NetNeedsUpgrade(upgraded));
  EXPECT_EQ(0, upgraded.layers_size());
  Net<TypeParam> from_upgraded(up_model, TEST, std::make_shared<Context>());
  from_upgraded.CopyTrainedLayersFrom(up_weights);
  EXPECT_EQ(expected, ForwardOnFixedInput(&from_upgraded));
}

// Layers of the upgraded V1 net against the V2 file, with defaults counted as set; the Input
// layer may differ in name and batch size (deploy files for other batch sizes).
void ExpectEquivalentNets(const NetParameter& v2, NetParameter upgraded) {
  ASSERT_EQ(v2.layer_size(), upgraded.layer_size());
  MessageDifferencer differencer;
  differencer.set_message_field_comparison(MessageDifferencer::EQUIVALENT);
  std::string report;
  differencer.ReportDifferencesToString(&report);
  for (int i = 0; i < v2.layer_size(); ++i) {
    LayerParameter* layer = upgraded.mutable_layer(i);
    if (layer->type() == "Input" && v2.layer(i).type() == "Input") {
      layer->set_name(v2.layer(i).name());
      auto* shapes = layer->mutable_input_param()->mutable_shape();
      for (int s = 0; s < shapes->size(); ++s) {
        shapes->Mutable(s)->set_dim(0, v2.layer(i).input_param().shape(s).dim(0));
      }
    }
    EXPECT_TRUE(differencer.Compare(v2.layer(i), *layer)) << "layer " << i << ": " << report;
    report.clear();
  }
}

TEST(V1SharedModelsTest, DeployV1FilesUpgradeToTheirV2Siblings) {
  MOKA_REQUIRE_SHARED(shared);
  const std::string root = shared + "/caffe-derived";
  struct Case {
    std::string v1;
    std::string v2;
  };
  const std::vector<Case> cases = {
      {root + "/caffe-v1-alexnet/deploy.v1.prototxt",
       root + "/caffe-v1-alexnet/deploy_b1.v2.prototxt"},
      {root + "/caffe-v1-reference_caffenet/deploy.v1.prototxt",
       root + "/caffe-v1-reference_caffenet/deploy_b1.v2.prototxt"},
      {root + "/caffe-v1-lenet-fmnist/deploy.v1.prototxt",
       root + "/caffe-lenet-fmnist/lenet_deploy_b100.prototxt"}};
  test::QuietLogs quiet;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.v1);
    ASSERT_TRUE(FileExists(c.v1));
    ASSERT_TRUE(FileExists(c.v2));
    NetParameter raw;
    ReadProtoFromTextFile(c.v1, &raw);
    EXPECT_TRUE(NetNeedsV1ToV2Upgrade(raw));
    const NetParameter upgraded = ReadNetParamFromTextFile(c.v1);
    const NetParameter v2 = ReadNetParamFromTextFile(c.v2);
    EXPECT_EQ(v2.name(), upgraded.name());
    ExpectEquivalentNets(v2, upgraded);
  }
  // LeNet is small enough to build: both forms give nets of the same blobs and parameters.
  Net<float> a(cases[2].v1, TEST, std::make_shared<Context>());
  Net<float> b(cases[2].v2, TEST, std::make_shared<Context>());
  EXPECT_EQ(a.blob_names(), b.blob_names());
  ASSERT_EQ(a.params().size(), b.params().size());
  for (size_t i = 0; i < a.params().size(); ++i) {
    EXPECT_EQ(a.params()[i]->shape(), b.params()[i]->shape());
    EXPECT_EQ(a.params_lr()[i], b.params_lr()[i]);
    EXPECT_EQ(a.params_weight_decay()[i], b.params_weight_decay()[i]);
  }
}

// --- The upgrade verbs, called as functions and through the CLI. ---

TEST(UpgradeVerbTest, TextVerbReportsAndWrites) {
  TempDir dir;
  const std::string v0 = dir / "v0.prototxt";
  WriteProtoToTextFile(Parse(kV0Net), v0);
  const std::string out = dir / "out.prototxt";
  const std::string verb = "upgrade_net_proto_text";
  {
    test::LogCapture logs;
    char* argv[] = {Arg(verb), Arg(v0), Arg(out), nullptr};
    EXPECT_EQ(0, UpgradeNetProtoTextMain(3, argv));
    EXPECT_TRUE(logs.Contains("Upgraded " + v0));
  }
  NetParameter written;
  ReadProtoFromTextFile(out, &written);
  ExpectSameProto(Parse(kV0NetUpgraded), written);
  {
    // Already current: reported, and the file is written unchanged.
    test::LogCapture logs;
    const std::string again = dir / "again.prototxt";
    char* argv[] = {Arg(verb), Arg(out), Arg(again), nullptr};
    EXPECT_EQ(0, UpgradeNetProtoTextMain(3, argv));
    EXPECT_TRUE(logs.Contains("File already in latest proto format: " + out));
    NetParameter same;
    ReadProtoFromTextFile(again, &same);
    ExpectSameProto(written, same);
  }
  test::QuietLogs quiet;
  char* usage[] = {Arg(verb), Arg(v0), nullptr};
  EXPECT_EQ(1, UpgradeNetProtoTextMain(2, usage));
  const std::string garbage = dir / "garbage.prototxt";
  {
    std::FILE* file = std::fopen(garbage.c_str(), "w");
    std::fputs("layers { this is not a net", file);
    std::fclose(file);
  }
  char* bad[] = {Arg(verb), Arg(garbage), Arg(dir / "x.prototxt"), nullptr};
  EXPECT_EQ(2, UpgradeNetProtoTextMain(3, bad));
  EXPECT_FALSE(FileExists(dir / "x.prototxt"));
  const std::string missing = dir / "missing.prototxt";
  char* absent[] = {Arg(verb), Arg(missing), Arg(dir / "x.prototxt"), nullptr};
  EXPECT_EQ(2, UpgradeNetProtoTextMain(3, absent));
  // A field that did not apply: written anyway, exit 1 as in Caffe.
  const std::string lossy = dir / "lossy.prototxt";
  WriteProtoToTextFile(Parse(R"(input: "d"
      layers { layer { name: "r" type: "relu" group: 2 } bottom: "d" top: "o" })"),
                       lossy);
  char* lossy_argv[] = {Arg(verb), Arg(lossy), Arg(dir / "lossy.out"), nullptr};
  EXPECT_EQ(1, UpgradeNetProtoTextMain(3, lossy_argv));
  EXPECT_TRUE(FileExists(dir / "lossy.out"));
}

TEST(UpgradeVerbTest, BinaryVerbKeepsWeights) {
  test::QuietLogs quiet;
  TempDir dir;
  NetParameter v1 = Parse(R"(
    input: "data" input_dim: 1 input_dim: 1 input_dim: 1 input_dim: 6
    layers { name: "ip" type: INNER_PRODUCT bottom: "data" top: "out" blobs_lr: 1 blobs_lr: 2
             inner_product_param { num_output: 4 } }
  )");
  SetLegacyBlob(v1.mutable_layers(0)->add_blobs(), 1, 1, 4, 6, 0.5f);
  SetLegacyBlob(v1.mutable_layers(0)->add_blobs(), 1, 1, 1, 4, 1.5f);
  const std::string in = dir / "v1.caffemodel";
  WriteProtoToBinaryFile(v1, in);
  const std::string out = dir / "v2.caffemodel";
  const std::string verb = "upgrade_net_proto_binary";
  char* argv[] = {Arg(verb), Arg(in), Arg(out), nullptr};
  EXPECT_EQ(0, UpgradeNetProtoBinaryMain(3, argv));
  NetParameter v2;
  ReadProtoFromBinaryFile(out, &v2);
  ASSERT_EQ(2, v2.layer_size());
  EXPECT_EQ("Input", v2.layer(0).type());
  const LayerParameter& ip = v2.layer(1);
  EXPECT_EQ("InnerProduct", ip.type());
  ASSERT_EQ(2, ip.blobs_size());
  EXPECT_EQ(24, ip.blobs(0).data_size());
  EXPECT_FLOAT_EQ(0.5f + 0.01f * 23, ip.blobs(0).data(23));
  EXPECT_EQ(4, ip.blobs(1).height() == 1 ? ip.blobs(1).width() : 0);
  ASSERT_EQ(2, ip.param_size());
  EXPECT_EQ(2.0f, ip.param(1).lr_mult());

  const std::string text = dir / "text.prototxt";
  WriteProtoToTextFile(v1, text);
  char* not_binary[] = {Arg(verb), Arg(text), Arg(dir / "x.caffemodel"), nullptr};
  EXPECT_EQ(2, UpgradeNetProtoBinaryMain(3, not_binary));
}

TEST(UpgradeVerbTest, SolverVerbConvertsSolverType) {
  TempDir dir;
  const std::string in = dir / "solver.prototxt";
  const std::string out = dir / "solver.new.prototxt";
  SolverParameter old;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
      "net: 'train_val.prototxt' base_lr: 0.01 solver_type: NESTEROV momentum: 0.9", &old));
  WriteProtoToTextFile(old, in);
  const std::string verb = "upgrade_solver_proto_text";
  {
    test::LogCapture logs;
    char* argv[] = {Arg(verb), Arg(in), Arg(out), nullptr};
    EXPECT_EQ(0, UpgradeSolverProtoTextMain(3, argv));
    EXPECT_TRUE(logs.Contains("Upgraded " + in));
  }
  SolverParameter upgraded;
  ReadProtoFromTextFile(out, &upgraded);
  EXPECT_FALSE(upgraded.has_solver_type());
  EXPECT_EQ("Nesterov", upgraded.type());
  EXPECT_EQ("train_val.prototxt", upgraded.net());
  {
    test::LogCapture logs;
    char* argv[] = {Arg(verb), Arg(out), Arg(dir / "again.prototxt"), nullptr};
    EXPECT_EQ(0, UpgradeSolverProtoTextMain(3, argv));
    EXPECT_TRUE(logs.Contains("File already in latest proto format"));
  }
  test::QuietLogs quiet;
  // Both solver_type and type: refused with a clear error.
  SolverParameter both = old;
  both.set_type("SGD");
  WriteProtoToTextFile(both, dir / "both.prototxt");
  char* both_argv[] = {Arg(verb), Arg(dir / "both.prototxt"), Arg(dir / "x"), nullptr};
  EXPECT_THROW(UpgradeSolverProtoTextMain(3, both_argv), ConfigError);
  char* missing[] = {Arg(verb), Arg(dir / "absent"), Arg(dir / "x"), nullptr};
  EXPECT_EQ(2, UpgradeSolverProtoTextMain(3, missing));
}

struct CliResult {
  int status = -1;
  std::string output;
};

CliResult RunMoka(const std::string& args) {
  CliResult result;
  const char* from_env = std::getenv("MOKA_CLI");
  const std::string binary =
      from_env != nullptr && *from_env != '\0' ? from_env : MOKA_BINARY_DIR "/moka";
  FILE* pipe = popen(("'" + binary + "' " + args + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t got;
  while ((got = fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, got);
  const int status = pclose(pipe);
  if (WIFEXITED(status)) result.status = WEXITSTATUS(status);
  return result;
}

TEST(UpgradeVerbTest, CommandLine) {
  TempDir dir;
  const std::string v0 = dir / "v0.prototxt";
  WriteProtoToTextFile(Parse(kV0Net), v0);
  CliResult run = RunMoka("upgrade_net_proto_text " + v0 + " " + (dir / "out.prototxt"));
  EXPECT_EQ(0, run.status) << run.output;
  EXPECT_NE(run.output.find("Wrote upgraded NetParameter text proto"), std::string::npos)
      << run.output;
  NetParameter written;
  ReadProtoFromTextFile(dir / "out.prototxt", &written);
  ExpectSameProto(Parse(kV0NetUpgraded), written);

  run = RunMoka("upgrade_net_proto_binary " + (dir / "absent") + " " + (dir / "o"));
  EXPECT_EQ(2, run.status) << run.output;
  EXPECT_NE(run.output.find("moka: error: "), std::string::npos) << run.output;
  run = RunMoka("upgrade_solver_proto_text onlyone");
  EXPECT_EQ(1, run.status) << run.output;
  EXPECT_NE(run.output.find("usage: moka upgrade_solver_proto_text"), std::string::npos)
      << run.output;
  // An unknown V0 type is a ConfigError that main reports.
  const std::string bad = dir / "bad.prototxt";
  WriteProtoToTextFile(Parse(R"(input: "d"
      layers { layer { name: "x" type: "warp_drive" } bottom: "d" top: "o" })"),
                       bad);
  run = RunMoka("upgrade_net_proto_text " + bad + " " + (dir / "o"));
  EXPECT_EQ(1, run.status) << run.output;
  EXPECT_NE(run.output.find("moka: error: "), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("warp_drive"), std::string::npos) << run.output;
  EXPECT_EQ(std::string::npos, run.output.find("terminate")) << run.output;
}

}  // namespace
}  // namespace moka
