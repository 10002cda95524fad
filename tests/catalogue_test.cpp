// The layer catalogue of BVLC Caffe 1.0 (§1.1 of ../shared/spec/caffe-compat.md): every type is
// built through moka's registry (Python is refused with a clear error), and every registered type
// either has a named finite-difference gradient test, in float and double, or is listed as having
// no backward pass. The tables are explicit so that a new layer must be entered here, and the
// named tests are looked up in this test binary, not by searching the sources.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "layer_registry.hpp"

namespace moka {
namespace {

/// §1.1's registry strings, in its order (Data, Vision, Recurrent, Common, Normalization, Neuron,
/// Utility, Loss).
// clang-format off
const std::vector<std::string> kCaffeTypes = {
    "Data", "ImageData", "HDF5Data", "HDF5Output", "Input", "MemoryData", "WindowData",
    "DummyData",
    "Convolution", "Deconvolution", "Pooling", "SPP", "Crop", "Im2col",
    "RNN", "LSTM", "LSTMUnit",
    "InnerProduct", "Dropout", "Embed",
    "LRN", "MVN", "BatchNorm",
    "ReLU", "Sigmoid", "TanH", "PReLU", "ELU", "AbsVal", "Power", "Exp", "Log", "BNLL",
    "Threshold", "Clip", "Swish", "Bias", "Scale",
    "Flatten", "Reshape", "Split", "Concat", "Slice", "Eltwise", "Filter", "BatchReindex",
    "Reduction", "Silence", "Tile", "Softmax", "Parameter", "ArgMax", "Python",
    "SoftmaxWithLoss", "SigmoidCrossEntropyLoss", "EuclideanLoss", "ContrastiveLoss",
    "MultinomialLogisticLoss", "InfogainLoss", "HingeLoss", "Accuracy",
};
// clang-format on

/// Types without a backward pass to check: data sources and sinks, the metrics, Threshold and
/// ArgMax (Caffe refuses their backward), and Parameter (its top shares the parameter's diff, so
/// the gradient arrives without computation).
const std::set<std::string> kNoBackward = {
    "Data",       "ImageData", "HDF5Data", "HDF5Output", "Input",     "MemoryData",
    "WindowData", "DummyData", "Accuracy", "ArgMax",     "Threshold", "Parameter",
};

/// Type -> a typed test (suite, test) that runs the finite-difference gradient check.
const std::map<std::string, std::pair<std::string, std::string>> kGradientTests = {
    {"AbsVal", {"AbsValTest", "Gradient"}},
    {"BatchNorm", {"BatchNormTest", "TrainGradient"}},
    {"BatchReindex", {"BatchReindexTest", "Gradient"}},
    {"Bias", {"BiasTest", "Gradient"}},
    {"BNLL", {"BnllTest", "Gradient"}},
    {"Clip", {"ClipTest", "Gradient"}},
    {"Concat", {"ConcatTest", "GradientAxisOne"}},
    {"ContrastiveLoss", {"ContrastiveLossTest", "Gradient"}},
    {"Convolution", {"ConvolutionTest", "GradientGroupDilationStride"}},
    {"Crop", {"CropTest", "Gradient"}},
    {"Deconvolution", {"DeconvolutionTest", "GradientGroupStridePadDilationBatch1"}},
    {"Dropout", {"DropoutTest", "GradientInTrainPhase"}},
    {"Eltwise", {"EltwiseTest", "GradientSumWithCoefficients"}},
    {"ELU", {"EluTest", "Gradient"}},
    {"Embed", {"EmbedTest", "GradientReachesParametersOnly"}},
    {"EuclideanLoss", {"EuclideanLossTest", "GradientBothBottoms"}},
    {"Exp", {"ExpTest", "BaseEScaleShift"}},
    {"Filter", {"FilterTest", "Gradient"}},
    {"Flatten", {"FlattenTest", "Gradient"}},
    {"HingeLoss", {"HingeLossTest", "L1Gradient"}},
    {"Im2col", {"Im2colLayerTest", "Gradient2D"}},
    {"InfogainLoss", {"InfogainLossTest", "Gradient"}},
    {"InnerProduct", {"InnerProductTest", "Gradient"}},
    {"Log", {"LogTest", "BaseEScaleShift"}},
    {"LRN", {"LrnTest", "GradientAcrossChannels"}},
    {"LSTM", {"LstmTest", "Gradient"}},
    {"LSTMUnit", {"LstmUnitTest", "Gradient"}},
    {"MultinomialLogisticLoss", {"MultinomialLogisticLossTest", "Gradient"}},
    {"MVN", {"MvnTest", "Gradient"}},
    {"Pooling", {"PoolingTest", "GradientMaxPadded"}},
    {"Power", {"PowerTest", "General"}},
    {"PReLU", {"PReluTest", "Gradient"}},
    {"Reduction", {"ReductionTest", "SumAxisOneWithCoeff"}},
    {"ReLU", {"ReluTest", "Gradient"}},
    {"Reshape", {"ReshapeTest", "Gradient"}},
    {"RNN", {"RnnTest", "Gradient"}},
    {"Scale", {"ScaleTest", "Gradient"}},
    {"Sigmoid", {"SigmoidTest", "Gradient"}},
    {"SigmoidCrossEntropyLoss", {"SigmoidCrossEntropyLossTest", "Gradient"}},
    {"Silence", {"SilenceTest", "Gradient"}},
    {"Slice", {"SliceTest", "Gradient"}},
    {"Softmax", {"SoftmaxTest", "Gradient"}},
    {"SoftmaxWithLoss", {"SoftmaxWithLossTest", "Gradient"}},
    {"Split", {"SplitTest", "Gradient"}},
    {"SPP", {"SppTest", "GradientMax"}},
    {"Swish", {"SwishTest", "Gradient"}},
    {"TanH", {"TanhTest", "Gradient"}},
    {"Tile", {"TileTest", "Gradient"}},
};

/// How many instances of suite.test this binary holds (a typed test has one per type: suites
/// "Suite/0", "Suite/1", ...).
int TestInstances(const std::string& suite, const std::string& test) {
  const ::testing::UnitTest& unit = *::testing::UnitTest::GetInstance();
  int found = 0;
  for (int s = 0; s < unit.total_test_suite_count(); ++s) {
    const ::testing::TestSuite& test_suite = *unit.GetTestSuite(s);
    std::string name = test_suite.name();
    const size_t slash = name.rfind('/');
    if (slash != std::string::npos) name = name.substr(0, slash);
    if (name != suite) continue;
    for (int t = 0; t < test_suite.total_test_count(); ++t) {
      if (test == test_suite.GetTestInfo(t)->name()) ++found;
    }
  }
  return found;
}

template <typename Dtype>
void ExpectBuilds(const std::string& type) {
  ASSERT_TRUE(LayerRegistry<Dtype>::Has(type)) << type << " is not registered";
  LayerParameter param;
  param.set_name("probe");
  param.set_type(type);
  std::shared_ptr<Layer<Dtype>> layer;
  try {
    layer = LayerRegistry<Dtype>::Create(param);
  } catch (const std::exception& error) {
    FAIL() << type << ": the registry could not create it: " << error.what();
  }
  ASSERT_NE(layer, nullptr) << type;
  EXPECT_EQ(std::string(layer->type()), type);
}

TEST(CatalogueTest, EveryCaffeTypeIsBuiltThroughTheRegistry) {
  for (const std::string& type : kCaffeTypes) {
    SCOPED_TRACE(type);
    if (type == "Python") continue;
    ExpectBuilds<float>(type);
    ExpectBuilds<double>(type);
  }
}

TEST(CatalogueTest, PythonIsRefusedClearly) {
  LayerParameter param;
  param.set_name("py");
  param.set_type("Python");
  try {
    LayerRegistry<float>::Create(param);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("Python"), std::string::npos) << message;
    EXPECT_NE(message.find("py"), std::string::npos) << message;
  }
}

TEST(CatalogueTest, TablesCoverTheCatalogue) {
  for (const std::string& type : kCaffeTypes) {
    if (type == "Python") continue;
    const bool graded = kGradientTests.count(type) > 0;
    const bool exempt = kNoBackward.count(type) > 0;
    EXPECT_TRUE(graded != exempt) << type
                                  << " must be in exactly one of kGradientTests and kNoBackward";
  }
  for (const auto& [type, test] : kGradientTests) {
    EXPECT_NE(std::find(kCaffeTypes.begin(), kCaffeTypes.end(), type), kCaffeTypes.end())
        << type << " is not a Caffe type of §1.1";
  }
}

TEST(CatalogueTest, EveryRegisteredTypeWithABackwardHasAGradientTest) {
  for (const std::string& type : LayerRegistry<float>::Types()) {
    SCOPED_TRACE(type);
    if (kNoBackward.count(type)) continue;
    const auto it = kGradientTests.find(type);
    if (it == kGradientTests.end()) {
      ADD_FAILURE() << type << " is registered but has no entry in kGradientTests (name its "
                    << "gradient test) or kNoBackward";
      continue;
    }
    const auto& [suite, test] = it->second;
    // One instance per element type: float and double.
    EXPECT_GE(TestInstances(suite, test), 2)
        << "the gradient test " << suite << "." << test << " of " << type
        << " is not in this binary for both float and double";
  }
}

}  // namespace
}  // namespace moka
