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
#include "test_util.hpp"

namespace moka::test {
namespace {

std::string DepthwiseText(const std::string& conv_param, const char* type = "Convolution") {
  return std::string("name: 'dw' type: '") + type + "' convolution_param { " + conv_param +
         " weight_filler { type: 'gaussian' std: 0.5 } bias_filler { type: 'gaussian' std: 0.5 }"
         " }";
}

template <typename Dtype>
struct Result {
  std::vector<Dtype> top, bottom_diff;
  std::vector<std::vector<Dtype>> param_diffs;
  std::string engine;
  bool depthwise = false;
};

/// Forward and Backward of one layer on a copy of `bottom`, with the parameters of `reference`.
/// Parameter diffs start at 0.5 (they must accumulate), the bottom diff at 9 (it must be
/// overwritten, or left alone without propagate_down).
template <typename Dtype>
Result<Dtype> RunLayer(const std::string& conv_param, bool allow_depthwise, int threads,
                       const Blob<Dtype>& bottom_in, Layer<Dtype>* reference, bool propagate_down,
                       bool weight_grad) {
  Context context;
  auto layer = std::dynamic_pointer_cast<BaseConvolutionLayer<Dtype>>(
      MakeLayer<Dtype>(DepthwiseText(conv_param), &context));
  EXPECT_TRUE(layer != nullptr);
  layer->set_depthwise(allow_depthwise);
  layer->set_threads(threads);
  Blob<Dtype> bottom(bottom_in.shape()), top;
  bottom.CopyFrom(bottom_in);
  layer->SetUp({&bottom}, {&top});
  if (reference != nullptr) {
    for (size_t i = 0; i < layer->blobs().size(); ++i) {
      layer->blobs()[i]->CopyFrom(*reference->blobs()[i]);
    }
  }
  for (auto& blob : layer->blobs()) blob->set_diff(Dtype(0.5));
  layer->set_param_propagate_down(0, weight_grad);
  layer->Forward({&bottom}, {&top});
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
  result.depthwise = layer->depthwise();
  return result;
}

template <typename Dtype>
void ExpectClose(const std::vector<Dtype>& actual, const std::vector<Dtype>& expected,
                 const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  const double tol = std::is_same<Dtype, float>::value ? 2e-5 : 1e-12;
  for (size_t i = 0; i < actual.size(); ++i) {
    ASSERT_NEAR(actual[i], expected[i], tol * std::max(1.0, std::fabs(double(expected[i]))))
        << what << " element " << i;
  }
}

template <typename Dtype>
class DepthwiseConvTest : public ::testing::Test {
 protected:
  void Compare(const std::string& conv_param, const std::vector<int>& shape,
               bool propagate_down = true, bool weight_grad = true) {
    SCOPED_TRACE(conv_param + " on " + ShapeString(shape));
    Blob<Dtype> bottom(shape);
    FillUniform<Dtype>(&bottom, -1, 1, 5);
    Context context;
    auto reference = MakeLayer<Dtype>(DepthwiseText(conv_param), &context);
    Blob<Dtype> top;
    reference->SetUp({&bottom}, {&top});
    const Result<Dtype> general =
        RunLayer<Dtype>(conv_param, false, 0, bottom, reference.get(), propagate_down, weight_grad);
    EXPECT_FALSE(general.depthwise);
    EXPECT_EQ(general.engine.find("depthwise"), std::string::npos) << general.engine;
    std::vector<Result<Dtype>> fast;
    for (int threads : {1, 3}) {
      fast.push_back(RunLayer<Dtype>(conv_param, true, threads, bottom, reference.get(),
                                     propagate_down, weight_grad));
      const Result<Dtype>& run = fast.back();
      EXPECT_TRUE(run.depthwise);
      EXPECT_EQ(run.engine.rfind("depthwise(", 0), 0u) << run.engine;
      ExpectClose(run.top, general.top, run.engine + " top");
      ExpectClose(run.bottom_diff, general.bottom_diff, run.engine + " bottom diff");
      ASSERT_EQ(run.param_diffs.size(), general.param_diffs.size());
      for (size_t i = 0; i < run.param_diffs.size(); ++i) {
        ExpectClose(run.param_diffs[i], general.param_diffs[i],
                    run.engine + " param diff " + std::to_string(i));
      }
    }
    // Every output and every channel's gradient is summed by one thread in a fixed order.
    EXPECT_EQ(fast[0].top, fast[1].top);
    EXPECT_EQ(fast[0].bottom_diff, fast[1].bottom_diff);
    EXPECT_EQ(fast[0].param_diffs, fast[1].param_diffs);
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
