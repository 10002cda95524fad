// The registry holds every layer type moka implements (a statically linked registry can silently
// lose layers; this catches that), and unknown types are clear errors.
#include <gtest/gtest.h>

#include <algorithm>

#include "layer_registry.hpp"

namespace moka {
namespace {

// Every layer type implemented so far. Adding a layer adds its name here.
const std::vector<std::string> kImplementedTypes = {
    "AbsVal", "Accuracy", "ArgMax", "BatchNorm", "BatchReindex", "Bias", "BNLL", "Clip", "Concat",
    "ContrastiveLoss", "Convolution", "Crop", "Data", "Deconvolution", "Dropout", "DummyData",
    "Eltwise", "ELU", "Embed", "EuclideanLoss", "Exp", "Filter", "Flatten", "HDF5Data",
    "HDF5Output", "HingeLoss", "Im2col", "ImageData", "InfogainLoss", "InnerProduct", "Input",
    "Log", "LRN", "LSTM", "LSTMUnit", "MemoryData", "MultinomialLogisticLoss", "MVN",
    "Parameter", "Pooling", "Power",
    "PReLU", "Reduction", "ReLU", "Reshape", "RNN", "Scale", "Sigmoid", "SigmoidCrossEntropyLoss",
    "Silence", "Slice", "Softmax", "SoftmaxWithLoss", "Split", "SPP", "Swish", "TanH", "Threshold",
    "Tile", "WindowData"
};

TEST(RegistryTest, HoldsEveryImplementedType) {
  for (const auto& type : kImplementedTypes) {
    EXPECT_TRUE(LayerRegistry<float>::Has(type)) << type << " (float) is not registered";
    EXPECT_TRUE(LayerRegistry<double>::Has(type)) << type << " (double) is not registered";
  }
  // And nothing is registered that the list above does not name (keeps the list honest).
  for (const auto& type : LayerRegistry<float>::Types()) {
    EXPECT_NE(std::find(kImplementedTypes.begin(), kImplementedTypes.end(), type),
              kImplementedTypes.end())
        << type << " is registered but missing from kImplementedTypes";
  }
}

TEST(RegistryTest, UnknownTypeListsKnownTypes) {
  LayerParameter param;
  param.set_name("mystery");
  param.set_type("NoSuchLayer");
  try {
    LayerRegistry<float>::Create(param);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("unknown layer type 'NoSuchLayer'"), std::string::npos) << message;
    EXPECT_NE(message.find("(known: "), std::string::npos) << message;
    EXPECT_NE(message.find("Convolution"), std::string::npos) << message;
  }
}

TEST(RegistryTest, PythonLayersAreRefusedClearly) {
  LayerParameter param;
  param.set_name("py");
  param.set_type("Python");
  try {
    LayerRegistry<float>::Create(param);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("Python"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace moka
