#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "gradient_checker.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

struct DeconvGeometry {
  int kernel[2] = {1, 1};
  int pad[2] = {0, 0};
  int stride[2] = {1, 1};
  int dilation[2] = {1, 1};
  int group = 1;
};

/// Transposed 2-D convolution of (N, C, H, W) images written as the scatter it is: every input
/// value adds weight * value to each output position its kernel taps land on; taps that fall into
/// the padding are dropped. Weights are (C, O / group, KH, KW).
template <typename Dtype>
std::vector<double> ScatterDeconv2d(const Blob<Dtype>& in, const Blob<Dtype>& weights,
                                    const Blob<Dtype>* bias, int num_output,
                                    const DeconvGeometry& g, std::vector<int>* out_shape) {
  const int N = in.shape(0), C = in.shape(1), H = in.shape(2), W = in.shape(3);
  const int KH = weights.shape(2), KW = weights.shape(3);
  const int O = num_output;
  const int HO = g.stride[0] * (H - 1) + g.dilation[0] * (KH - 1) + 1 - 2 * g.pad[0];
  const int WO = g.stride[1] * (W - 1) + g.dilation[1] * (KW - 1) + 1 - 2 * g.pad[1];
  *out_shape = {N, O, HO, WO};
  const int in_per_group = C / g.group, out_per_group = O / g.group;
  const Dtype* x = in.cpu_data();
  const Dtype* w = weights.cpu_data();
  std::vector<double> y(static_cast<size_t>(N) * O * HO * WO, 0.0);
  for (int n = 0; n < N; ++n) {
    for (int o = 0; o < O; ++o) {
      const double b = bias ? bias->cpu_data()[o] : 0.0;
      for (int p = 0; p < HO * WO; ++p) y[(n * O + o) * HO * WO + p] = b;
    }
    for (int c = 0; c < C; ++c) {
      const int grp = c / in_per_group;
      for (int oi = 0; oi < out_per_group; ++oi) {
        const int o = grp * out_per_group + oi;
        for (int ih = 0; ih < H; ++ih) {
          for (int iw = 0; iw < W; ++iw) {
            const double value = x[((n * C + c) * H + ih) * W + iw];
            for (int kh = 0; kh < KH; ++kh) {
              for (int kw = 0; kw < KW; ++kw) {
                const int oh = ih * g.stride[0] - g.pad[0] + kh * g.dilation[0];
                const int ow = iw * g.stride[1] - g.pad[1] + kw * g.dilation[1];
                if (oh < 0 || oh >= HO || ow < 0 || ow >= WO) continue;
                y[((n * O + o) * HO + oh) * WO + ow] +=
                    static_cast<double>(w[((c * out_per_group + oi) * KH + kh) * KW + kw]) * value;
              }
            }
          }
        }
      }
    }
  }
  return y;
}

template <typename Dtype>
void ExpectNear(const Blob<Dtype>& actual, const std::vector<int>& shape,
                const std::vector<double>& expected) {
  ASSERT_EQ(actual.shape(), shape) << actual.shape_string();
  const double tol = std::is_same<Dtype, float>::value ? 1e-4 : 1e-10;
  for (int i = 0; i < actual.count(); ++i) {
    ASSERT_NEAR(actual.cpu_data()[i], expected[i], tol * std::max(1.0, std::fabs(expected[i])))
        << "element " << i;
  }
}

const char* kFillers =
    " weight_filler { type: 'gaussian' std: 0.5 } bias_filler { type: 'gaussian' std: 0.5 }";

std::string DeconvText(const std::string& conv_param) {
  return "name: 'deconv' type: 'Deconvolution' convolution_param { " + conv_param + kFillers +
         " }";
}

template <typename Dtype>
class DeconvolutionTest : public ::testing::Test {
 protected:
  /// Runs the layer on bottom (twice, so that state left by the first pass cannot leak into the
  /// second) and checks against the scatter reference.
  void CheckForward(const std::string& conv_param, int num_output, const DeconvGeometry& g,
                    Blob<Dtype>* bottom) {
    auto layer = MakeLayer<Dtype>(DeconvText(conv_param), &context_);
    Blob<Dtype> top;
    layer->SetUp({bottom}, {&top});
    layer->Forward({bottom}, {&top});
    layer->Forward({bottom}, {&top});
    const Blob<Dtype>* bias = layer->blobs().size() > 1 ? layer->blobs()[1].get() : nullptr;
    std::vector<int> shape;
    const std::vector<double> expected =
        ScatterDeconv2d(*bottom, *layer->blobs()[0], bias, num_output, g, &shape);
    ExpectNear(top, shape, expected);
  }

  Context context_;
};
TYPED_TEST_SUITE(DeconvolutionTest, TestDtypes);

TYPED_TEST(DeconvolutionTest, FcnUpsamplingShapes) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(2, 3, 3, 3);
  Blob<Dtype> top;
  auto layer = MakeLayer<Dtype>(DeconvText("num_output: 5 kernel_size: 4 stride: 2 pad: 1"),
                                &this->context_);
  layer->SetUp({&bottom}, {&top});
  EXPECT_EQ(top.shape(), (std::vector<int>{2, 5, 6, 6}));
  ASSERT_EQ(layer->blobs().size(), 2u);
  // Weights are laid out (C_in, num_output / group, ...), the transpose of Convolution's.
  EXPECT_EQ(layer->blobs()[0]->shape(), (std::vector<int>{3, 5, 4, 4}));
  EXPECT_EQ(layer->blobs()[1]->shape(), (std::vector<int>{5}));

  // FCN-32s: 64x64 kernel, stride 32, no pad, no bias, grouped per class.
  Blob<Dtype> score(1, 4, 2, 3);
  auto up = MakeLayer<Dtype>(
      "name: 'up' type: 'Deconvolution' convolution_param { num_output: 4 group: 4 bias_term: "
      "false kernel_size: 64 stride: 32 }",
      &this->context_);
  up->SetUp({&score}, {&top});
  EXPECT_EQ(top.shape(), (std::vector<int>{1, 4, 96, 128}));
  ASSERT_EQ(up->blobs().size(), 1u);
  EXPECT_EQ(up->blobs()[0]->shape(), (std::vector<int>{4, 1, 64, 64}));

  // Reshaping to a new spatial size follows the formula per axis.
  Blob<Dtype> larger(1, 3, 5, 2);
  layer->Reshape({&larger}, {&top});
  EXPECT_EQ(top.shape(), (std::vector<int>{1, 5, 10, 4}));
}

TYPED_TEST(DeconvolutionTest, ForwardGroupStridePadDilationBatch1) {
  Blob<TypeParam> bottom(1, 4, 3, 2);
  FillUniform<TypeParam>(&bottom, -1, 1);
  DeconvGeometry g;
  g.kernel[0] = 3, g.kernel[1] = 2;
  g.pad[0] = 1, g.pad[1] = 1;
  g.stride[0] = 2, g.stride[1] = 2;
  g.dilation[0] = 2, g.dilation[1] = 2;
  g.group = 2;
  this->CheckForward(
      "num_output: 6 group: 2 kernel_size: 3 kernel_size: 2 pad: 1 stride: 2 dilation: 2", 6, g,
      &bottom);
}

TYPED_TEST(DeconvolutionTest, ForwardHWFormBatch3Unpadded) {
  Blob<TypeParam> bottom(3, 2, 4, 3);
  FillUniform<TypeParam>(&bottom, -1, 1);
  DeconvGeometry g;
  g.kernel[0] = 2, g.kernel[1] = 3;
  g.stride[0] = 3, g.stride[1] = 1;
  g.pad[0] = 0, g.pad[1] = 2;
  this->CheckForward("num_output: 3 kernel_h: 2 kernel_w: 3 stride_h: 3 stride_w: 1 pad_h: 0 "
                     "pad_w: 2",
                     3, g, &bottom);
}

TYPED_TEST(DeconvolutionTest, ForwardOneByOneGroupedWithoutBias) {
  Blob<TypeParam> bottom(2, 4, 3, 5);
  FillUniform<TypeParam>(&bottom, -1, 1);
  DeconvGeometry g;
  g.group = 2;
  this->CheckForward("num_output: 6 group: 2 kernel_size: 1 bias_term: false", 6, g, &bottom);
}

TYPED_TEST(DeconvolutionTest, BilinearUpsamplingKeepsConstantInterior) {
  using Dtype = TypeParam;
  const Dtype value = Dtype(2.5);
  for (int factor : {2, 3}) {
    const int kernel = 2 * factor - factor % 2;
    const int pad = factor / 2;  // ceil((factor - 1) / 2), as FCN's surgery sets it
    Blob<Dtype> bottom(2, 3, 4, 5);
    bottom.set_data(value);
    Blob<Dtype> top;
    auto layer = MakeLayer<Dtype>(
        "name: 'up' type: 'Deconvolution' convolution_param { num_output: 3 group: 3 "
        "bias_term: false kernel_size: " +
            std::to_string(kernel) + " stride: " + std::to_string(factor) +
            " pad: " + std::to_string(pad) + " weight_filler { type: 'bilinear' } }",
        &this->context_);
    layer->SetUp({&bottom}, {&top});
    const int height = top.shape(2), width = top.shape(3);
    EXPECT_EQ(height, factor * 4 + (kernel - factor - 2 * pad));
    layer->Forward({&bottom}, {&top});
    // Away from the border every output position sees a full set of kernel taps, whose bilinear
    // weights sum to one; within `factor` of the border some taps fall off the input.
    for (int n = 0; n < 2; ++n) {
      for (int c = 0; c < 3; ++c) {
        for (int h = factor; h < height - factor; ++h) {
          for (int w = factor; w < width - factor; ++w) {
            ASSERT_NEAR(top.cpu_data()[top.offset({n, c, h, w})], value, 1e-5)
                << "factor " << factor << " at " << n << "," << c << "," << h << "," << w;
          }
        }
      }
    }
  }
}

TYPED_TEST(DeconvolutionTest, TwoBottomsShareWeights) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom0(2, 2, 3, 3), bottom1(2, 2, 3, 3);
  FillUniform<Dtype>(&bottom0, -1, 1, 1);
  FillUniform<Dtype>(&bottom1, -1, 1, 2);
  Blob<Dtype> top0, top1;
  auto layer = MakeLayer<Dtype>(DeconvText("num_output: 3 kernel_size: 3 stride: 2 pad: 1"),
                                &this->context_);
  layer->SetUp({&bottom0, &bottom1}, {&top0, &top1});
  layer->Forward({&bottom0, &bottom1}, {&top0, &top1});
  DeconvGeometry g;
  g.kernel[0] = g.kernel[1] = 3;
  g.stride[0] = g.stride[1] = 2;
  g.pad[0] = g.pad[1] = 1;
  const Blob<Dtype>& weights = *layer->blobs()[0];
  const Blob<Dtype>* bias = layer->blobs()[1].get();
  std::vector<int> shape;
  ExpectNear(top0, shape, ScatterDeconv2d(bottom0, weights, bias, 3, g, &shape));
  ExpectNear(top1, shape, ScatterDeconv2d(bottom1, weights, bias, 3, g, &shape));
}

TYPED_TEST(DeconvolutionTest, RejectsBadParameters) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(1, 4, 1, 2);
  Blob<Dtype> top;
  auto setup = [&](const std::string& param) {
    auto layer = MakeLayer<Dtype>(DeconvText(param), &this->context_);
    layer->SetUp({&bottom}, {&top});
  };
  EXPECT_THROW(setup("num_output: 2"), ConfigError);
  EXPECT_THROW(setup("num_output: 3 kernel_size: 3 group: 2"), ConfigError);
  EXPECT_THROW(setup("num_output: 3 kernel_size: 3 group: 3"), ShapeError);
  // Height 1, kernel 1: one output row, which a pad of 1 would remove twice over.
  EXPECT_THROW(setup("num_output: 2 kernel_size: 1 pad: 1"), ShapeError);
  EXPECT_NO_THROW(setup("num_output: 2 kernel_size: 3 pad: 1"));
}

TYPED_TEST(DeconvolutionTest, GradientGroupStridePadDilationBatch1) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(1, 4, 3, 2);
  FillUniform<Dtype>(&bottom, -1, 1);
  Blob<Dtype> top;
  auto layer = MakeLayer<Dtype>(
      DeconvText("num_output: 2 group: 2 kernel_size: 3 kernel_size: 2 pad: 1 stride: 2 "
                 "dilation: 2"),
      &this->context_);
  GradientChecker<Dtype> checker;
  checker.Check(layer.get(), {&bottom}, {&top});
  EXPECT_EQ(top.shape(), (std::vector<int>{1, 2, 7, 3}));
}

TYPED_TEST(DeconvolutionTest, GradientTwoBottomsFcnUpsampling) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom0(2, 2, 3, 3), bottom1(2, 2, 3, 3);
  FillUniform<Dtype>(&bottom0, -1, 1, 1);
  FillUniform<Dtype>(&bottom1, -1, 1, 2);
  Blob<Dtype> top0, top1;
  auto layer = MakeLayer<Dtype>(DeconvText("num_output: 2 kernel_size: 4 stride: 2 pad: 1"),
                                &this->context_);
  GradientChecker<Dtype> checker;
  checker.Check(layer.get(), {&bottom0, &bottom1}, {&top0, &top1});
  EXPECT_EQ(top0.shape(), (std::vector<int>{2, 2, 6, 6}));
}

TYPED_TEST(DeconvolutionTest, GradientOneByOneWithoutBias) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(2, 4, 3, 3);
  FillUniform<Dtype>(&bottom, -1, 1);
  Blob<Dtype> top;
  auto layer = MakeLayer<Dtype>(
      DeconvText("num_output: 2 group: 2 kernel_size: 1 bias_term: false"), &this->context_);
  GradientChecker<Dtype> checker;
  checker.Check(layer.get(), {&bottom}, {&top});
}

TYPED_TEST(DeconvolutionTest, GradientThreeSpatialAxes) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom({1, 2, 2, 3, 2});
  FillUniform<Dtype>(&bottom, -1, 1);
  Blob<Dtype> top;
  auto layer = MakeLayer<Dtype>(
      DeconvText("num_output: 2 kernel_size: 2 pad: 1 pad: 0 pad: 1 stride: 2 stride: 1 "
                 "stride: 1 dilation: 1 dilation: 2 dilation: 1"),
      &this->context_);
  GradientChecker<Dtype> checker;
  checker.Check(layer.get(), {&bottom}, {&top});
  EXPECT_EQ(top.shape(), (std::vector<int>{1, 2, 2, 5, 1}));
}

}  // namespace
}  // namespace moka::test
