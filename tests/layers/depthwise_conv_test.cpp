// The direct depthwise kernel (group == channels == num_output) against the general im2col path,
// which a layer runs when set_depthwise(false), on awkward shapes: forward, the bottom, weight and
// bias gradients, and the thread count's (non-)effect; plus the finite-difference check.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "gradient_checker.hpp"
#include "layers/base_convolution.hpp"
#include "layers/conv_path_test_util.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

std::string DepthwiseText(const std::string& conv_param, const char* type = "Convolution") {
  return std::string("name: 'dw' type: '") + type + "' convolution_param { " + conv_param +
         " weight_filler { type: 'gaussian' std: 0.5 } bias_filler { type: 'gaussian' std: 0.5 }"
         " }";
}

template <typename Dtype>
class DepthwiseConvTest : public ::testing::Test {
 protected:
  void Compare(const std::string& conv_param, const std::vector<int>& shape,
               bool propagate_down = true, bool weight_grad = true) {
    PathComparison c;
    c.layer_text = DepthwiseText(conv_param);
    c.shape = shape;
    c.propagate_down = propagate_down;
    c.weight_grad = weight_grad;
    CompareWithGeneralPath<Dtype>(
        c, [](BaseConvolutionLayer<Dtype>* layer) { layer->set_depthwise(false); },
        [](BaseConvolutionLayer<Dtype>* layer, int threads) { layer->set_threads(threads); },
        "depthwise(");
  }
};
TYPED_TEST_SUITE(DepthwiseConvTest, TestDtypes);

TYPED_TEST(DepthwiseConvTest, ThreeByThreePadOneOddSizes) {
  this->Compare("num_output: 3 group: 3 kernel_size: 3 pad: 1", {2, 3, 7, 5});
}

TYPED_TEST(DepthwiseConvTest, StrideTwoBatchOfOne) {
  this->Compare("num_output: 4 group: 4 kernel_size: 3 pad: 1 stride: 2", {1, 4, 9, 8});
  this->Compare("num_output: 4 group: 4 kernel_size: 3 pad: 1 stride: 2", {1, 4, 8, 9});
}

TYPED_TEST(DepthwiseConvTest, FiveByFiveStrideTwoWithoutBias) {
  this->Compare("num_output: 5 group: 5 kernel_size: 5 pad: 2 stride: 2 bias_term: false",
                {3, 5, 11, 9});
}

TYPED_TEST(DepthwiseConvTest, DilationTwoPadZero) {
  this->Compare("num_output: 3 group: 3 kernel_size: 3 dilation: 2", {2, 3, 9, 10});
  this->Compare("num_output: 3 group: 3 kernel_size: 3 pad: 1 dilation: 2 stride: 2",
                {2, 3, 9, 10});
}

TYPED_TEST(DepthwiseConvTest, RectangularKernelMixedStridesPadOverHalf) {
  this->Compare(
      "num_output: 2 group: 2 kernel_h: 3 kernel_w: 5 pad_h: 2 pad_w: 3 stride_h: 1 stride_w: 3 "
      "dilation: 2",
      {2, 2, 8, 7});
}

TYPED_TEST(DepthwiseConvTest, KernelOverhangingInput) {
  // Height 2 under a kernel of 3 with stride 2: one output row, whose last kernel row reads
  // nothing.
  this->Compare("num_output: 3 group: 3 kernel_size: 3 stride: 2", {1, 3, 2, 4});
  this->Compare("num_output: 3 group: 3 kernel_size: 5 pad: 4 stride: 3", {2, 3, 1, 2});
}

TYPED_TEST(DepthwiseConvTest, WideRows) {
  // Output rows of 32 or more take the weight gradient's other loop.
  this->Compare("num_output: 2 group: 2 kernel_size: 3 pad: 1", {2, 2, 3, 37});
  this->Compare("num_output: 2 group: 2 kernel_size: 3 pad: 1 stride: 2", {1, 2, 5, 70});
  this->Compare("num_output: 2 group: 2 kernel_size: 5 pad: 2 dilation: 2 bias_term: false",
                {2, 2, 6, 41});
}

TYPED_TEST(DepthwiseConvTest, PartialGradients) {
  const std::string param = "num_output: 4 group: 4 kernel_size: 3 pad: 1";
  this->Compare(param, {3, 4, 6, 5}, /*propagate_down=*/false);
  this->Compare(param, {3, 4, 6, 5}, /*propagate_down=*/true, /*weight_grad=*/false);
}

TYPED_TEST(DepthwiseConvTest, ChannelAxisTwo) {
  // Images are the product of the axes before the channel axis: 2 x 3.
  this->Compare("num_output: 4 group: 4 kernel_size: 3 pad: 1 stride: 2 axis: 2", {2, 3, 4, 5, 6});
}

TYPED_TEST(DepthwiseConvTest, OnlyWhereTheShapeQualifies) {
  using Dtype = TypeParam;
  Context context;
  struct Case {
    const char* type;
    std::string param;
    std::vector<int> shape;
    bool depthwise;
  };
  const std::vector<Case> cases = {
      {"Convolution", "num_output: 4 group: 4 kernel_size: 3", {2, 4, 5, 5}, true},
      // A channel multiplier of 2, groups of 2 channels, 3 spatial axes, the transposed direction,
      // a single channel.
      {"Convolution", "num_output: 8 group: 4 kernel_size: 3", {2, 4, 5, 5}, false},
      {"Convolution", "num_output: 2 group: 2 kernel_size: 3", {2, 4, 5, 5}, false},
      {"Convolution", "num_output: 2 group: 2 kernel_size: 2", {2, 2, 3, 3, 3}, false},
      {"Deconvolution", "num_output: 4 group: 4 kernel_size: 3", {2, 4, 5, 5}, false},
      {"Convolution", "num_output: 1 kernel_size: 3", {2, 1, 5, 5}, false},
  };
  for (const Case& c : cases) {
    auto layer = std::dynamic_pointer_cast<BaseConvolutionLayer<Dtype>>(
        MakeLayer<Dtype>(DepthwiseText(c.param, c.type), &context));
    ASSERT_TRUE(layer != nullptr);
    Blob<Dtype> bottom(c.shape), top;
    layer->SetUp({&bottom}, {&top});
    EXPECT_EQ(layer->depthwise(), c.depthwise) << c.type << " " << c.param;
    EXPECT_EQ(layer->engine().rfind("depthwise", 0) == 0, c.depthwise) << layer->engine();
  }
}

TYPED_TEST(DepthwiseConvTest, GradientCheck) {
  using Dtype = TypeParam;
  Context context;
  Blob<Dtype> bottom(2, 3, 6, 5), top;
  FillUniform<Dtype>(&bottom, -1, 1);
  auto layer = MakeLayer<Dtype>(
      DepthwiseText("num_output: 3 group: 3 kernel_size: 3 pad: 1 stride: 2"), &context);
  GradientChecker<Dtype> checker;
  checker.Check(layer.get(), {&bottom}, {&top});
  EXPECT_EQ(layer->engine().rfind("depthwise", 0), 0u) << layer->engine();

  Blob<Dtype> dilated(1, 2, 7, 6), dilated_top;
  FillUniform<Dtype>(&dilated, -1, 1, 3);
  auto five = MakeLayer<Dtype>(
      DepthwiseText("num_output: 2 group: 2 kernel_size: 5 pad: 3 dilation: 2 bias_term: false"),
      &context);
  checker.Check(five.get(), {&dilated}, {&dilated_top});
  EXPECT_EQ(five->engine().rfind("depthwise", 0), 0u) << five->engine();
}

}  // namespace
}  // namespace moka::test
