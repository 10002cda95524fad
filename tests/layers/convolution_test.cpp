#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "gradient_checker.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

struct ConvGeometry {
  int kernel[3] = {1, 1, 1};
  int pad[3] = {0, 0, 0};
  int stride[3] = {1, 1, 1};
  int dilation[3] = {1, 1, 1};
  int group = 1;
};

int OutSize(int in, int k, int pad, int stride, int dilation) {
  return (in + 2 * pad - (dilation * (k - 1) + 1)) / stride + 1;
}

/// Direct 2-D convolution of (N, C, H, W) images, in double, loop by loop.
template <typename Dtype>
std::vector<double> DirectConv2d(const Blob<Dtype>& in, const Blob<Dtype>& weights,
                                 const Blob<Dtype>* bias, const ConvGeometry& g,
                                 std::vector<int>* out_shape) {
  const int N = in.shape(0), C = in.shape(1), H = in.shape(2), W = in.shape(3);
  const int O = weights.shape(0), KH = weights.shape(2), KW = weights.shape(3);
  const int HO = OutSize(H, KH, g.pad[0], g.stride[0], g.dilation[0]);
  const int WO = OutSize(W, KW, g.pad[1], g.stride[1], g.dilation[1]);
  *out_shape = {N, O, HO, WO};
  const int in_per_group = C / g.group, out_per_group = O / g.group;
  const Dtype* x = in.cpu_data();
  const Dtype* w = weights.cpu_data();
  std::vector<double> y(N * O * HO * WO);
  for (int n = 0; n < N; ++n) {
    for (int o = 0; o < O; ++o) {
      const int grp = o / out_per_group;
      for (int oh = 0; oh < HO; ++oh) {
        for (int ow = 0; ow < WO; ++ow) {
          double sum = bias ? bias->cpu_data()[o] : 0.0;
          for (int ci = 0; ci < in_per_group; ++ci) {
            const int c = grp * in_per_group + ci;
            for (int kh = 0; kh < KH; ++kh) {
              for (int kw = 0; kw < KW; ++kw) {
                const int ih = oh * g.stride[0] - g.pad[0] + kh * g.dilation[0];
                const int iw = ow * g.stride[1] - g.pad[1] + kw * g.dilation[1];
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                sum += static_cast<double>(w[((o * in_per_group + ci) * KH + kh) * KW + kw]) *
                       x[((n * C + c) * H + ih) * W + iw];
              }
            }
          }
          y[((n * O + o) * HO + oh) * WO + ow] = sum;
        }
      }
    }
  }
  return y;
}

/// Direct 3-D convolution of (N, C, D, H, W) volumes.
template <typename Dtype>
std::vector<double> DirectConv3d(const Blob<Dtype>& in, const Blob<Dtype>& weights,
                                 const Blob<Dtype>* bias, const ConvGeometry& g,
                                 std::vector<int>* out_shape) {
  const int N = in.shape(0), C = in.shape(1);
  const int I[3] = {in.shape(2), in.shape(3), in.shape(4)};
  const int O = weights.shape(0);
  const int K[3] = {weights.shape(2), weights.shape(3), weights.shape(4)};
  int Q[3];
  for (int a = 0; a < 3; ++a) Q[a] = OutSize(I[a], K[a], g.pad[a], g.stride[a], g.dilation[a]);
  *out_shape = {N, O, Q[0], Q[1], Q[2]};
  const int in_per_group = C / g.group, out_per_group = O / g.group;
  const Dtype* x = in.cpu_data();
  const Dtype* w = weights.cpu_data();
  std::vector<double> y(N * O * Q[0] * Q[1] * Q[2]);
  int index = 0;
  for (int n = 0; n < N; ++n) {
    for (int o = 0; o < O; ++o) {
      const int grp = o / out_per_group;
      for (int q0 = 0; q0 < Q[0]; ++q0) {
        for (int q1 = 0; q1 < Q[1]; ++q1) {
          for (int q2 = 0; q2 < Q[2]; ++q2) {
            double sum = bias ? bias->cpu_data()[o] : 0.0;
            for (int ci = 0; ci < in_per_group; ++ci) {
              const int c = grp * in_per_group + ci;
              for (int k0 = 0; k0 < K[0]; ++k0) {
                for (int k1 = 0; k1 < K[1]; ++k1) {
                  for (int k2 = 0; k2 < K[2]; ++k2) {
                    const int p0 = q0 * g.stride[0] - g.pad[0] + k0 * g.dilation[0];
                    const int p1 = q1 * g.stride[1] - g.pad[1] + k1 * g.dilation[1];
                    const int p2 = q2 * g.stride[2] - g.pad[2] + k2 * g.dilation[2];
                    if (p0 < 0 || p0 >= I[0] || p1 < 0 || p1 >= I[1] || p2 < 0 || p2 >= I[2])
                      continue;
                    const int wi = (((o * in_per_group + ci) * K[0] + k0) * K[1] + k1) * K[2] + k2;
                    const int xi = (((n * C + c) * I[0] + p0) * I[1] + p1) * I[2] + p2;
                    sum += static_cast<double>(w[wi]) * x[xi];
                  }
                }
              }
            }
            y[index++] = sum;
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

std::string ConvText(const std::string& conv_param) {
  return "name: 'conv' type: 'Convolution' convolution_param { " + conv_param + kFillers + " }";
}

template <typename Dtype>
class ConvolutionTest : public ::testing::Test {
 protected:
  /// Runs the layer on bottom and checks against the direct convolution.
  void CheckForward(const std::string& conv_param, Blob<Dtype>* bottom, const ConvGeometry& g) {
    auto layer = MakeLayer<Dtype>(ConvText(conv_param), &context_);
    Blob<Dtype> top;
    layer->SetUp({bottom}, {&top});
    layer->Forward({bottom}, {&top});
    const Blob<Dtype>* bias = layer->blobs().size() > 1 ? layer->blobs()[1].get() : nullptr;
    std::vector<int> shape;
    std::vector<double> expected;
    if (bottom->num_axes() == 4) {
      expected = DirectConv2d(*bottom, *layer->blobs()[0], bias, g, &shape);
    } else {
      expected = DirectConv3d(*bottom, *layer->blobs()[0], bias, g, &shape);
    }
    ExpectNear(top, shape, expected);
  }

  Context context_;
};
TYPED_TEST_SUITE(ConvolutionTest, TestDtypes);

TYPED_TEST(ConvolutionTest, ForwardGroupDilationStrideRepeatedForm) {
  Blob<TypeParam> bottom(2, 6, 9, 8);
  FillUniform<TypeParam>(&bottom, -1, 1);
  ConvGeometry g;
  g.kernel[0] = 3, g.kernel[1] = 2;
  g.pad[0] = 2, g.pad[1] = 1;
  g.stride[0] = 2, g.stride[1] = 1;
  g.dilation[0] = 2, g.dilation[1] = 1;
  g.group = 2;
  this->CheckForward(
      "num_output: 4 group: 2 kernel_size: 3 kernel_size: 2 pad: 2 pad: 1 stride: 2 stride: 1 "
      "dilation: 2 dilation: 1",
      &bottom, g);
}

TYPED_TEST(ConvolutionTest, ForwardHWFormGroup3PadOverHalfKernelBatch1) {
  Blob<TypeParam> bottom(1, 3, 7, 5);
  FillUniform<TypeParam>(&bottom, -1, 1);
  ConvGeometry g;
  g.kernel[0] = 3, g.kernel[1] = 2;
  g.pad[0] = 2, g.pad[1] = 1;
  g.stride[0] = 1, g.stride[1] = 2;
  g.group = 3;
  this->CheckForward(
      "num_output: 6 group: 3 kernel_h: 3 kernel_w: 2 pad_h: 2 pad_w: 1 stride_h: 1 stride_w: 2",
      &bottom, g);
}

TYPED_TEST(ConvolutionTest, ForwardSquareSingleValues) {
  Blob<TypeParam> bottom(2, 3, 6, 7);
  FillUniform<TypeParam>(&bottom, -1, 1);
  ConvGeometry g;
  g.kernel[0] = g.kernel[1] = 3;
  g.pad[0] = g.pad[1] = 1;
  g.stride[0] = g.stride[1] = 2;
  g.dilation[0] = g.dilation[1] = 2;
  this->CheckForward("num_output: 5 kernel_size: 3 pad: 1 stride: 2 dilation: 2", &bottom, g);
}

TYPED_TEST(ConvolutionTest, ForwardWithoutBias) {
  Blob<TypeParam> bottom(1, 2, 5, 5);
  FillUniform<TypeParam>(&bottom, -1, 1);
  ConvGeometry g;
  g.kernel[0] = g.kernel[1] = 2;
  auto layer = MakeLayer<TypeParam>(ConvText("num_output: 3 kernel_size: 2 bias_term: false"),
                                    &this->context_);
  Blob<TypeParam> top;
  layer->SetUp({&bottom}, {&top});
  ASSERT_EQ(layer->blobs().size(), 1u);
  layer->Forward({&bottom}, {&top});
  std::vector<int> shape;
  ExpectNear(top, shape, DirectConv2d<TypeParam>(bottom, *layer->blobs()[0], nullptr, g, &shape));
}

TYPED_TEST(ConvolutionTest, OneByOneSkipsIm2col) {
  Blob<TypeParam> bottom(2, 4, 5, 3);
  FillUniform<TypeParam>(&bottom, -1, 1);
  auto layer =
      MakeLayer<TypeParam>(ConvText("num_output: 6 group: 2 kernel_size: 1"), &this->context_);
  Blob<TypeParam> top;
  layer->SetUp({&bottom}, {&top});
  EXPECT_EQ(layer->engine(), "blas-1x1");
  ConvGeometry g;
  g.group = 2;
  this->CheckForward("num_output: 6 group: 2 kernel_size: 1", &bottom, g);

  auto strided =
      MakeLayer<TypeParam>(ConvText("num_output: 6 kernel_size: 1 stride: 2"), &this->context_);
  strided->SetUp({&bottom}, {&top});
  EXPECT_EQ(strided->engine(), "im2col+blas");
  g.group = 1;
  g.stride[0] = g.stride[1] = 2;
  this->CheckForward("num_output: 6 kernel_size: 1 stride: 2", &bottom, g);
}

TYPED_TEST(ConvolutionTest, TwoBottomsShareWeights) {
  Blob<TypeParam> bottom0(2, 4, 6, 5), bottom1(2, 4, 6, 5);
  FillUniform<TypeParam>(&bottom0, -1, 1, 1);
  FillUniform<TypeParam>(&bottom1, -1, 1, 2);
  auto layer = MakeLayer<TypeParam>(ConvText("num_output: 4 group: 2 kernel_size: 3 pad: 1"),
                                    &this->context_);
  Blob<TypeParam> top0, top1;
  layer->SetUp({&bottom0, &bottom1}, {&top0, &top1});
  layer->Forward({&bottom0, &bottom1}, {&top0, &top1});
  ConvGeometry g;
  g.kernel[0] = g.kernel[1] = 3;
  g.pad[0] = g.pad[1] = 1;
  g.group = 2;
  std::vector<int> shape;
  const Blob<TypeParam>* bias = layer->blobs()[1].get();
  ExpectNear(top0, shape, DirectConv2d(bottom0, *layer->blobs()[0], bias, g, &shape));
  ExpectNear(top1, shape, DirectConv2d(bottom1, *layer->blobs()[0], bias, g, &shape));

  Blob<TypeParam> odd(2, 4, 6, 4);
  EXPECT_THROW(layer->SetUp({&bottom0, &odd}, {&top0, &top1}), ShapeError);
}

TYPED_TEST(ConvolutionTest, ForceNdIm2colMatches2d) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(2, 4, 7, 6);
  FillUniform<Dtype>(&bottom, -1, 1);
  const std::string param =
      "num_output: 4 group: 2 kernel_size: 3 kernel_size: 2 pad: 2 pad: 0 stride: 2 stride: 1 "
      "dilation: 1 dilation: 2";
  Blob<Dtype> top2d, topnd;
  Context context_nd;
  auto layer2d = MakeLayer<Dtype>(ConvText(param), &this->context_);
  auto layernd = MakeLayer<Dtype>(ConvText(param + " force_nd_im2col: true"), &context_nd);
  layer2d->SetUp({&bottom}, {&top2d});
  layernd->SetUp({&bottom}, {&topnd});
  layer2d->Forward({&bottom}, {&top2d});
  layernd->Forward({&bottom}, {&topnd});
  ASSERT_EQ(top2d.shape(), topnd.shape());
  for (int i = 0; i < top2d.count(); ++i) EXPECT_EQ(top2d.cpu_data()[i], topnd.cpu_data()[i]);

  FillUniform<Dtype>(&top2d, -1, 1, 9);
  cpu_copy(top2d.count(), top2d.cpu_data(), top2d.mutable_cpu_diff());
  cpu_copy(top2d.count(), top2d.cpu_data(), topnd.mutable_cpu_diff());
  Blob<Dtype> bottom_nd(2, 4, 7, 6);
  bottom_nd.CopyFrom(bottom);
  for (auto* layer : {layer2d.get(), layernd.get()}) {
    for (auto& blob : layer->blobs()) blob->set_diff(0);
  }
  layer2d->Backward({&top2d}, {true}, {&bottom});
  layernd->Backward({&topnd}, {true}, {&bottom_nd});
  for (int i = 0; i < bottom.count(); ++i) {
    EXPECT_NEAR(bottom.cpu_diff()[i], bottom_nd.cpu_diff()[i], 1e-5);
  }
  for (int b = 0; b < 2; ++b) {
    const Blob<Dtype>& a = *layer2d->blobs()[b];
    const Blob<Dtype>& c = *layernd->blobs()[b];
    for (int i = 0; i < a.count(); ++i) EXPECT_NEAR(a.cpu_diff()[i], c.cpu_diff()[i], 1e-5);
  }
}

TYPED_TEST(ConvolutionTest, ForwardThreeSpatialAxes) {
  Blob<TypeParam> bottom({2, 4, 5, 4, 6});
  FillUniform<TypeParam>(&bottom, -1, 1);
  ConvGeometry g;
  const int kernel[3] = {3, 2, 3}, pad[3] = {1, 0, 2}, stride[3] = {2, 1, 1},
            dilation[3] = {1, 2, 1};
  std::copy(kernel, kernel + 3, g.kernel);
  std::copy(pad, pad + 3, g.pad);
  std::copy(stride, stride + 3, g.stride);
  std::copy(dilation, dilation + 3, g.dilation);
  g.group = 2;
  this->CheckForward(
      "num_output: 4 group: 2 kernel_size: 3 kernel_size: 2 kernel_size: 3 pad: 1 pad: 0 pad: 2 "
      "stride: 2 stride: 1 stride: 1 dilation: 1 dilation: 2 dilation: 1",
      &bottom, g);
}

TYPED_TEST(ConvolutionTest, ChannelAxisTwo) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom({2, 3, 2, 5, 4});
  FillUniform<Dtype>(&bottom, -1, 1);
  auto layer =
      MakeLayer<Dtype>(ConvText("num_output: 3 kernel_size: 2 pad: 1 axis: 2"), &this->context_);
  Blob<Dtype> top;
  layer->SetUp({&bottom}, {&top});
  layer->Forward({&bottom}, {&top});
  EXPECT_EQ(top.shape(), (std::vector<int>{2, 3, 3, 6, 5}));
  // Axes before the channel axis are all images: the same as a (6, 2, 5, 4) batch.
  Blob<Dtype> flat(6, 2, 5, 4);
  cpu_copy(bottom.count(), bottom.cpu_data(), flat.mutable_cpu_data());
  ConvGeometry g;
  g.kernel[0] = g.kernel[1] = 2;
  g.pad[0] = g.pad[1] = 1;
  std::vector<int> shape;
  const std::vector<double> expected =
      DirectConv2d(flat, *layer->blobs()[0], layer->blobs()[1].get(), g, &shape);
  Blob<Dtype> top_flat(shape);
  cpu_copy(top.count(), top.cpu_data(), top_flat.mutable_cpu_data());
  ExpectNear(top_flat, shape, expected);
}

TYPED_TEST(ConvolutionTest, OutputShapesAndParameterShapes) {
  using Dtype = TypeParam;
  struct Case {
    std::vector<int> bottom;
    std::string param;
    std::vector<int> top;
  };
  const std::vector<Case> cases = {
      {{1, 3, 227, 227}, "num_output: 96 kernel_size: 11 stride: 4", {1, 96, 55, 55}},
      {{2, 4, 7, 7}, "num_output: 2 kernel_size: 3", {2, 2, 5, 5}},
      {{2, 4, 7, 8}, "num_output: 2 kernel_size: 3 stride: 2", {2, 2, 3, 3}},
      {{2, 4, 7, 8}, "num_output: 2 kernel_size: 3 dilation: 3 pad: 1", {2, 2, 3, 4}},
      {{1, 2, 5, 6},
       "num_output: 2 kernel_h: 1 kernel_w: 3 pad_w: 1 stride_h: 2 stride_w: 3",
       {1, 2, 3, 2}},
      // One short of the kernel extent: (2 - 3) / 2 truncates to 0, so one output remains.
      {{1, 1, 2, 4}, "num_output: 1 kernel_size: 3 stride: 2", {1, 1, 1, 1}},
  };
  for (const Case& c : cases) {
    Blob<Dtype> bottom(c.bottom);
    Blob<Dtype> top;
    auto layer = MakeLayer<Dtype>(ConvText(c.param), &this->context_);
    layer->SetUp({&bottom}, {&top});
    EXPECT_EQ(top.shape(), c.top) << c.param << " gave " << top.shape_string();
  }
  Blob<Dtype> bottom(1, 6, 5, 5);
  Blob<Dtype> top;
  auto layer =
      MakeLayer<Dtype>(ConvText("num_output: 4 group: 2 kernel_h: 3 kernel_w: 2"), &this->context_);
  layer->SetUp({&bottom}, {&top});
  EXPECT_EQ(layer->blobs()[0]->shape(), (std::vector<int>{4, 3, 3, 2}));
  EXPECT_EQ(layer->blobs()[1]->shape(), (std::vector<int>{4}));
}

TYPED_TEST(ConvolutionTest, RejectsBadParameters) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(1, 6, 5, 5);
  Blob<Dtype> top;
  auto setup = [&](const std::string& param) {
    auto layer = MakeLayer<Dtype>(ConvText(param), &this->context_);
    layer->SetUp({&bottom}, {&top});
  };
  EXPECT_THROW(setup("num_output: 2"), ConfigError);
  EXPECT_THROW(setup("num_output: 2 kernel_size: 3 kernel_h: 3 kernel_w: 3"), ConfigError);
  EXPECT_THROW(setup("num_output: 2 kernel_size: 3 kernel_size: 3 kernel_size: 3"), ConfigError);
  EXPECT_THROW(setup("num_output: 2 kernel_size: 3 stride: 0"), ConfigError);
  EXPECT_THROW(setup("kernel_size: 3"), ConfigError);
  EXPECT_THROW(setup("num_output: 3 kernel_size: 3 group: 2"), ConfigError);
  EXPECT_THROW(setup("num_output: 2 kernel_size: 3 group: 4"), ShapeError);
  EXPECT_THROW(setup("num_output: 2 kernel_size: 7"), ShapeError);

  Blob<Dtype> volume({1, 2, 4, 4, 4});
  auto layer3d =
      MakeLayer<Dtype>(ConvText("num_output: 2 kernel_h: 3 kernel_w: 3"), &this->context_);
  EXPECT_THROW(layer3d->SetUp({&volume}, {&top}), ConfigError);

  auto layer = MakeLayer<Dtype>(ConvText("num_output: 2 kernel_size: 3"), &this->context_);
  layer->SetUp({&bottom}, {&top});
  Blob<Dtype> other_channels(1, 5, 5, 5);
  EXPECT_THROW(layer->Forward({&other_channels}, {&top}), ShapeError);
}

TYPED_TEST(ConvolutionTest, WeightsFromDefinition) {
  using Dtype = TypeParam;
  LayerParameter param = ParseLayer(ConvText("num_output: 2 kernel_size: 2"));
  BlobProto* weights = param.add_blobs();
  for (int d : {2, 3, 2, 2}) weights->mutable_shape()->add_dim(d);
  for (int i = 0; i < 24; ++i) weights->add_data(0.1f * i);
  BlobProto* bias = param.add_blobs();
  // Legacy 4-D bias, as V1 models store it.
  bias->set_num(1), bias->set_channels(1), bias->set_height(1), bias->set_width(2);
  bias->add_data(1), bias->add_data(-1);
  auto layer = LayerRegistry<Dtype>::Create(param);
  layer->set_context(&this->context_);
  Blob<Dtype> bottom(1, 3, 3, 3);
  FillUniform<Dtype>(&bottom, -1, 1);
  Blob<Dtype> top;
  layer->SetUp({&bottom}, {&top});
  EXPECT_EQ(layer->blobs()[0]->cpu_data()[23], Dtype(0.1f * 23));
  EXPECT_EQ(layer->blobs()[1]->shape(), (std::vector<int>{2}));
  layer->Forward({&bottom}, {&top});
  ConvGeometry g;
  g.kernel[0] = g.kernel[1] = 2;
  std::vector<int> shape;
  ExpectNear(top, shape,
             DirectConv2d(bottom, *layer->blobs()[0], layer->blobs()[1].get(), g, &shape));

  LayerParameter wrong = ParseLayer(ConvText("num_output: 2 kernel_size: 3"));
  *wrong.add_blobs() = param.blobs(0);
  *wrong.add_blobs() = param.blobs(1);
  auto bad = LayerRegistry<Dtype>::Create(wrong);
  bad->set_context(&this->context_);
  EXPECT_THROW(bad->SetUp({&bottom}, {&top}), ShapeError);
}

TYPED_TEST(ConvolutionTest, GradientGroupDilationStride) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(1, 4, 5, 4);
  FillUniform<Dtype>(&bottom, -1, 1);
  Blob<Dtype> top;
  auto layer = MakeLayer<Dtype>(
      ConvText("num_output: 2 group: 2 kernel_size: 3 kernel_size: 2 dilation: 2 dilation: 1 "
               "pad: 1 stride: 2 stride: 1"),
      &this->context_);
  GradientChecker<Dtype> checker;
  checker.Check(layer.get(), {&bottom}, {&top});
  EXPECT_EQ(top.shape(), (std::vector<int>{1, 2, 2, 5}));
}

TYPED_TEST(ConvolutionTest, GradientTwoBottomsGroup3PadOverHalf) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom0(2, 3, 4, 3), bottom1(2, 3, 4, 3);
  FillUniform<Dtype>(&bottom0, -1, 1, 1);
  FillUniform<Dtype>(&bottom1, -1, 1, 2);
  Blob<Dtype> top0, top1;
  auto layer = MakeLayer<Dtype>(
      ConvText("num_output: 3 group: 3 kernel_h: 3 kernel_w: 2 pad_h: 2 pad_w: 1 stride_h: 2 "
               "stride_w: 1"),
      &this->context_);
  GradientChecker<Dtype> checker;
  checker.Check(layer.get(), {&bottom0, &bottom1}, {&top0, &top1});
}

TYPED_TEST(ConvolutionTest, GradientOneByOne) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(2, 4, 3, 3);
  FillUniform<Dtype>(&bottom, -1, 1);
  Blob<Dtype> top;
  auto layer = MakeLayer<Dtype>(ConvText("num_output: 2 group: 2 kernel_size: 1"), &this->context_);
  GradientChecker<Dtype> checker;
  checker.Check(layer.get(), {&bottom}, {&top});
}

TYPED_TEST(ConvolutionTest, GradientThreeSpatialAxes) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom({1, 2, 3, 4, 3});
  FillUniform<Dtype>(&bottom, -1, 1);
  Blob<Dtype> top;
  auto layer = MakeLayer<Dtype>(
      ConvText("num_output: 2 kernel_size: 2 pad: 1 pad: 0 pad: 1 stride: 2 stride: 1 stride: 1 "
               "dilation: 1 dilation: 2 dilation: 1"),
      &this->context_);
  GradientChecker<Dtype> checker;
  checker.Check(layer.get(), {&bottom}, {&top});
}

// CaffeNet's first stage: conv1 (96 11x11 stride 4) -> pool1 (MAX 3 stride 2) -> norm1 (LRN 5),
// and AlexNet's conv2 (256 5x5 pad 2 group 2) on the result.
TYPED_TEST(ConvolutionTest, AlexNetFirstStageShapes) {
  using Dtype = TypeParam;
  Blob<Dtype> data(1, 3, 227, 227);
  FillUniform<Dtype>(&data, 0, 1);
  Blob<Dtype> conv1, pool1, norm1, conv2;
  auto conv1_layer = MakeLayer<Dtype>(
      "name: 'conv1' type: 'Convolution' convolution_param { num_output: 96 kernel_size: 11 "
      "stride: 4 weight_filler { type: 'gaussian' std: 0.01 } bias_filler { type: 'constant' } }",
      &this->context_);
  auto pool1_layer = MakeLayer<Dtype>(
      "name: 'pool1' type: 'Pooling' pooling_param { pool: MAX kernel_size: 3 stride: 2 }",
      &this->context_);
  auto norm1_layer = MakeLayer<Dtype>(
      "name: 'norm1' type: 'LRN' lrn_param { local_size: 5 alpha: 0.0001 beta: 0.75 }",
      &this->context_);
  auto conv2_layer = MakeLayer<Dtype>(
      "name: 'conv2' type: 'Convolution' convolution_param { num_output: 256 pad: 2 "
      "kernel_size: 5 group: 2 }",
      &this->context_);
  conv1_layer->SetUp({&data}, {&conv1});
  pool1_layer->SetUp({&conv1}, {&pool1});
  norm1_layer->SetUp({&pool1}, {&norm1});
  conv2_layer->SetUp({&norm1}, {&conv2});
  EXPECT_EQ(conv1.shape(), (std::vector<int>{1, 96, 55, 55}));
  EXPECT_EQ(pool1.shape(), (std::vector<int>{1, 96, 27, 27}));
  EXPECT_EQ(norm1.shape(), (std::vector<int>{1, 96, 27, 27}));
  EXPECT_EQ(conv2.shape(), (std::vector<int>{1, 256, 27, 27}));
  EXPECT_EQ(conv1_layer->blobs()[0]->shape(), (std::vector<int>{96, 3, 11, 11}));
  EXPECT_EQ(conv2_layer->blobs()[0]->shape(), (std::vector<int>{256, 48, 5, 5}));

  conv1_layer->Forward({&data}, {&conv1});
  // Spot-check one output of the full-size layer against the direct sum.
  const Dtype* w = conv1_layer->blobs()[0]->cpu_data();
  const int o = 17, oh = 31, ow = 54;
  double expected = conv1_layer->blobs()[1]->cpu_data()[o];
  for (int c = 0; c < 3; ++c) {
    for (int kh = 0; kh < 11; ++kh) {
      for (int kw = 0; kw < 11; ++kw) {
        expected += static_cast<double>(w[((o * 3 + c) * 11 + kh) * 11 + kw]) *
                    data.data_at(0, c, oh * 4 + kh, ow * 4 + kw);
      }
    }
  }
  EXPECT_NEAR(conv1.data_at(0, o, oh, ow), expected, 1e-5);
}

}  // namespace
}  // namespace moka::test
