// Winograd's F(4x4, 3x3) and F(2x2, 5x5) against the im2col + GEMM path, which a layer runs with
// set_winograd(WinogradUse::kNever), on awkward shapes (kWherePossible, so that small channel
// counts take the path too): forward, the bottom gradient (the adjoint convolution),
// the weight and bias gradients, groups, pads 0 to 2, sizes that leave partial tiles, chunks of
// images, and the thread count's (non-)effect; plus the finite-difference check and the rules for
// when the path is taken.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "gradient_checker.hpp"
#include "layers/base_convolution.hpp"
#include "layers/conv_path_test_util.hpp"
#include "layers/winograd_conv.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

std::string ConvText(const std::string& conv_param, const char* type = "Convolution") {
  return std::string("name: 'wino' type: '") + type + "' convolution_param { " + conv_param +
         " weight_filler { type: 'gaussian' std: 0.3 } bias_filler { type: 'gaussian' std: 0.5 }"
         " }";
}

template <typename Dtype>
class WinogradConvTest : public ::testing::Test {
 protected:
  /// Winograd's rounding differs from the direct sum's: the transforms scale values by up to 8
  /// on the way in and 1/24 on the way out.
  void Compare(const std::string& conv_param, const std::vector<int>& shape,
               bool propagate_down = true) {
    PathComparison c;
    c.layer_text = ConvText(conv_param);
    c.shape = shape;
    c.propagate_down = propagate_down;
    c.float_tolerance = 5e-5;
    CompareWithGeneralPath<Dtype>(
        c, [](BaseConvolutionLayer<Dtype>* layer) { layer->set_winograd(WinogradUse::kNever); },
        [](BaseConvolutionLayer<Dtype>* layer, int threads) {
          layer->set_winograd(WinogradUse::kWherePossible);
          layer->set_threads(threads);
        },
        "winograd");
  }
};
TYPED_TEST_SUITE(WinogradConvTest, TestDtypes);

TYPED_TEST(WinogradConvTest, PadOneWholeTiles) {
  this->Compare("num_output: 8 kernel_size: 3 pad: 1", {2, 8, 8, 12});
}

TYPED_TEST(WinogradConvTest, PartialTilesOddSizes) {
  // 13x13 (AlexNet's conv3 to conv5) and 7x9 leave partial last tiles in both directions.
  this->Compare("num_output: 9 kernel_size: 3 pad: 1", {2, 10, 13, 13});
  this->Compare("num_output: 8 kernel_size: 3 pad: 1", {1, 8, 7, 9});
}

TYPED_TEST(WinogradConvTest, PadZeroAndTwo) {
  // Pad 0: the input gradient pads by 2; pad 2: it pads by 0.
  this->Compare("num_output: 8 kernel_size: 3", {2, 8, 10, 9});
  this->Compare("num_output: 8 kernel_size: 3 pad: 2", {2, 8, 6, 7});
  this->Compare("num_output: 8 kernel_size: 3 pad_h: 0 pad_w: 2", {2, 8, 9, 6});
}

TYPED_TEST(WinogradConvTest, GroupsAndNoBias) {
  this->Compare("num_output: 16 group: 2 kernel_size: 3 pad: 1 bias_term: false", {3, 16, 9, 11});
  this->Compare("num_output: 24 group: 3 kernel_size: 3 pad: 1", {2, 24, 8, 8});
}

TYPED_TEST(WinogradConvTest, OneImageAndMoreChannelsOut) {
  this->Compare("num_output: 20 kernel_size: 3 pad: 1", {1, 8, 12, 5});
}

TYPED_TEST(WinogradConvTest, ManyImagesInSeveralChunks) {
  // 64 x 64 planes of 32 + 32 channels take 256 tiles x 64 x 36 points per image: the budget
  // holds a few images, so the batch goes through in chunks.
  using Dtype = TypeParam;
  const size_t image_bytes = sizeof(Dtype) * WinogradConvolution<Dtype>::kPoints * 64 * 256;
  ASSERT_LT(WinogradConvolution<Dtype>::kBudget / image_bytes, 9u);
  this->Compare("num_output: 32 kernel_size: 3 pad: 1", {9, 32, 64, 64});
}

TYPED_TEST(WinogradConvTest, FiveByFive) {
  // CIFAR-10's 5x5 layers (pad 2), odd sizes with partial 2x2 tiles, AlexNet's grouped conv2,
  // pads 0 and 4 (the input gradient's pads 4 and 0).
  this->Compare("num_output: 8 kernel_size: 5 pad: 2", {2, 8, 8, 8});
  this->Compare("num_output: 12 kernel_size: 5 pad: 2", {3, 9, 7, 11});
  this->Compare("num_output: 16 group: 2 kernel_size: 5 pad: 2", {2, 16, 9, 9});
  this->Compare("num_output: 8 kernel_size: 5", {2, 8, 10, 9});
  this->Compare("num_output: 8 kernel_size: 5 pad: 4 bias_term: false", {1, 8, 5, 6});
}

TYPED_TEST(WinogradConvTest, WithoutBottomGradient) {
  this->Compare("num_output: 8 kernel_size: 3 pad: 1", {2, 8, 8, 9}, /*propagate_down=*/false);
}

TYPED_TEST(WinogradConvTest, GradientCheck) {
  using Dtype = TypeParam;
  Context context;
  auto layer = std::dynamic_pointer_cast<BaseConvolutionLayer<Dtype>>(
      MakeLayer<Dtype>(ConvText("num_output: 8 kernel_size: 3 pad: 1"), &context));
  layer->set_winograd(WinogradUse::kWherePossible);
  Blob<Dtype> bottom({2, 8, 8, 6}), top;
  FillUniform<Dtype>(&bottom, -1, 1, 3);
  GradientCheckOptions<Dtype> options;
  // In float the transforms' rounding (about ten times the direct sum's) reaches the objective's
  // finite differences; Caffe's own convolution checks allow 1e-2.
  if (std::is_same<Dtype, float>::value) options.threshold = Dtype(3e-3);
  GradientChecker<Dtype> checker(options);
  checker.Check(layer.get(), {&bottom}, {&top});
  EXPECT_TRUE(layer->winograd()) << layer->engine();
  auto five = std::dynamic_pointer_cast<BaseConvolutionLayer<Dtype>>(
      MakeLayer<Dtype>(ConvText("num_output: 8 kernel_size: 5 pad: 2"), &context));
  five->set_winograd(WinogradUse::kWherePossible);
  Blob<Dtype> bottom5({2, 8, 6, 4}), top5;
  FillUniform<Dtype>(&bottom5, -1, 1, 4);
  checker.Check(five.get(), {&bottom5}, {&top5});
  EXPECT_TRUE(five->winograd()) << five->engine();
}

TYPED_TEST(WinogradConvTest, OnlyWhereTheShapeQualifies) {
  using Dtype = TypeParam;
  Context context;
  struct Case {
    const char* type;
    std::string param;
    std::vector<int> shape;
    bool winograd;
  };
  const std::vector<Case> cases = {
      {"Convolution", "num_output: 32 kernel_size: 3 pad: 1", {2, 32, 8, 8}, true},
      {"Convolution", "num_output: 32 kernel_size: 3 pad: 1", {1, 16, 13, 13}, true},
      {"Convolution", "num_output: 32 kernel_size: 5 pad: 2", {2, 32, 16, 16}, true},
      {"Convolution", "num_output: 256 group: 2 kernel_size: 5 pad: 2", {1, 96, 27, 27}, true},
      // Stride 2, dilation 2, 7x7 and 3x5 kernels, pads past kernel - 1, depthwise, 3 spatial
      // axes, the transposed direction, 2x2 outputs (mostly wasted tiles).
      {"Convolution", "num_output: 32 kernel_size: 3 pad: 1 stride: 2", {2, 32, 8, 8}, false},
      {"Convolution", "num_output: 32 kernel_size: 3 pad: 2 dilation: 2", {2, 32, 8, 8}, false},
      {"Convolution", "num_output: 32 kernel_size: 7 pad: 3", {2, 32, 8, 8}, false},
      {"Convolution", "num_output: 32 kernel_h: 3 kernel_w: 5 pad: 1", {2, 32, 8, 8}, false},
      {"Convolution", "num_output: 32 kernel_size: 3 pad: 3", {2, 32, 8, 8}, false},
      {"Convolution", "num_output: 32 kernel_size: 5 pad: 5", {2, 32, 8, 8}, false},
      {"Convolution", "num_output: 32 group: 32 kernel_size: 3 pad: 1", {2, 32, 8, 8}, false},
      {"Convolution", "num_output: 32 kernel_size: 3 pad: 1", {2, 32, 4, 4, 4}, false},
      {"Convolution", "num_output: 32 kernel_size: 3", {2, 32, 4, 4}, false},
      {"Deconvolution", "num_output: 32 kernel_size: 3 pad: 1", {2, 32, 8, 8}, false},
      // Too few channels on either side for the products and transforms to pay: 3 in (a first
      // layer), 8 out, LeNet's conv2 (20 -> 50 at 5x5).
      {"Convolution", "num_output: 32 kernel_size: 3 pad: 1", {2, 3, 8, 8}, false},
      {"Convolution", "num_output: 8 kernel_size: 3 pad: 1", {2, 32, 8, 8}, false},
      {"Convolution", "num_output: 50 kernel_size: 5", {64, 20, 12, 12}, false},
      // Caffe's own engine asked for by name.
      {"Convolution", "num_output: 32 kernel_size: 3 pad: 1 engine: CAFFE", {2, 32, 8, 8}, false},
  };
  for (const Case& c : cases) {
    auto layer = std::dynamic_pointer_cast<BaseConvolutionLayer<Dtype>>(
        MakeLayer<Dtype>(ConvText(c.param, c.type), &context));
    ASSERT_TRUE(layer != nullptr);
    Blob<Dtype> bottom(c.shape), top;
    layer->SetUp({&bottom}, {&top});
    EXPECT_EQ(layer->winograd(), c.winograd)
        << c.type << " " << c.param << " " << ShapeString(c.shape) << ": " << layer->engine();
  }
}

}  // namespace
}  // namespace moka::test
