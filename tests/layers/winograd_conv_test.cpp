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
struct Result {
  std::vector<Dtype> top, bottom_diff;
  std::vector<std::vector<Dtype>> param_diffs;
  std::string engine;
  bool winograd = false;
};

/// Forward and Backward of one layer on a copy of `bottom`, with the parameters of `reference`.
/// Parameter diffs start at 0.5 (they must accumulate), the bottom diff at 9 (it must be
/// overwritten, or left alone without propagate_down). Forward runs twice, the second time after
/// the weights changed, so that a stale transform of the kernels would show.
template <typename Dtype>
Result<Dtype> RunLayer(const std::string& conv_param, bool allow_winograd, int threads,
                       const Blob<Dtype>& bottom_in, Layer<Dtype>* reference, bool propagate_down) {
  Context context;
  auto layer = std::dynamic_pointer_cast<BaseConvolutionLayer<Dtype>>(
      MakeLayer<Dtype>(ConvText(conv_param), &context));
  EXPECT_TRUE(layer != nullptr);
  layer->set_winograd(allow_winograd ? WinogradUse::kWherePossible : WinogradUse::kNever);
  layer->set_threads(threads);
  Blob<Dtype> bottom(bottom_in.shape()), top;
  bottom.CopyFrom(bottom_in);
  layer->SetUp({&bottom}, {&top});
  for (size_t i = 0; i < layer->blobs().size(); ++i) {
    layer->blobs()[i]->CopyFrom(*reference->blobs()[i]);
  }
  layer->Forward({&bottom}, {&top});
  Dtype* weights = layer->blobs()[0]->mutable_cpu_data();
  for (int i = 0; i < layer->blobs()[0]->count(); i += 3) weights[i] = -weights[i];
  layer->Forward({&bottom}, {&top});
  for (auto& blob : layer->blobs()) blob->set_diff(Dtype(0.5));
  Result<Dtype> result;
  result.top.assign(top.cpu_data(), top.cpu_data() + top.count());
  FillUniform<Dtype>(&top, -1, 1, 11);
  cpu_copy(top.count(), top.cpu_data(), top.mutable_cpu_diff());
  bottom.set_diff(Dtype(9));
  layer->Backward({&top}, {propagate_down}, {&bottom});
  result.bottom_diff.assign(bottom.cpu_diff(), bottom.cpu_diff() + bottom.count());
  for (auto& blob : layer->blobs()) {
    result.param_diffs.emplace_back(blob->cpu_diff(), blob->cpu_diff() + blob->count());
  }
  result.engine = layer->engine();
  result.winograd = layer->winograd();
  return result;
}

/// Winograd's rounding differs from the direct sum's: the transforms scale values by up to 8 in
/// and 1/24 out. The bound is relative to the largest value, as the error is.
template <typename Dtype>
void ExpectClose(const std::vector<Dtype>& actual, const std::vector<Dtype>& expected,
                 const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  double scale = 1;
  for (Dtype v : expected) scale = std::max(scale, std::fabs(double(v)));
  const double tol = (std::is_same<Dtype, float>::value ? 5e-5 : 1e-12) * scale;
  for (size_t i = 0; i < actual.size(); ++i) {
    ASSERT_NEAR(actual[i], expected[i], tol) << what << " element " << i;
  }
}

template <typename Dtype>
class WinogradConvTest : public ::testing::Test {
 protected:
  void Compare(const std::string& conv_param, const std::vector<int>& shape,
               bool propagate_down = true) {
    SCOPED_TRACE(conv_param + " on " + ShapeString(shape));
    Blob<Dtype> bottom(shape);
    FillUniform<Dtype>(&bottom, -1, 1, 5);
    Context context;
    auto reference = MakeLayer<Dtype>(ConvText(conv_param), &context);
    Blob<Dtype> top;
    reference->SetUp({&bottom}, {&top});
    const Result<Dtype> general =
        RunLayer<Dtype>(conv_param, false, 0, bottom, reference.get(), propagate_down);
    EXPECT_FALSE(general.winograd);
    EXPECT_EQ(general.engine.find("winograd"), std::string::npos) << general.engine;
    std::vector<Result<Dtype>> fast;
    for (int threads : {1, 3}) {
      fast.push_back(
          RunLayer<Dtype>(conv_param, true, threads, bottom, reference.get(), propagate_down));
      const Result<Dtype>& run = fast.back();
      ASSERT_TRUE(run.winograd) << run.engine;
      EXPECT_EQ(run.engine.rfind("winograd", 0), 0u) << run.engine;
      ExpectClose(run.top, general.top, run.engine + " top");
      ExpectClose(run.bottom_diff, general.bottom_diff, run.engine + " bottom diff");
      ASSERT_EQ(run.param_diffs.size(), general.param_diffs.size());
      for (size_t i = 0; i < run.param_diffs.size(); ++i) {
        ExpectClose(run.param_diffs[i], general.param_diffs[i],
                    run.engine + " param diff " + std::to_string(i));
      }
    }
    // Every output, and every sum over images and tiles, is computed in a fixed order.
    EXPECT_EQ(fast[0].top, fast[1].top);
    EXPECT_EQ(fast[0].bottom_diff, fast[1].bottom_diff);
    EXPECT_EQ(fast[0].param_diffs, fast[1].param_diffs);
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
