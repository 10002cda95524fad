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
  EXPECT_EQ(layer->engine().rfind("blas-1x1(batched", 0), 0u) << layer->engine();
  ConvGeometry g;
  g.group = 2;
  this->CheckForward("num_output: 6 group: 2 kernel_size: 1", &bottom, g);

  auto strided =
      MakeLayer<TypeParam>(ConvText("num_output: 6 kernel_size: 1 stride: 2"), &this->context_);
  strided->SetUp({&bottom}, {&top});
  EXPECT_EQ(strided->engine().rfind("im2col+blas(batched", 0), 0u) << strided->engine();
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

// The batched path against the per-image one (Caffe's, the reference, itself checked against the
// direct convolution above), on awkward shapes, with tasks that split the batch unevenly and more
// threads than cores.

template <typename Dtype>
using ConvBase = BaseConvolutionLayer<Dtype>;
using Batching = ConvBatching;

/// How a layer walks the batch: per image, or batched in tasks of task_images on `threads`, the
/// gradients summed in `runs` runs of tasks (0: the layer's choice, one per task here).
struct Path {
  Batching batching;
  int task_images;
  int threads;
  int runs = 0;
};

template <typename Dtype>
struct PathRun {
  std::vector<std::vector<Dtype>> tops, bottom_diffs, param_diffs;
  std::string engine;
};

template <typename Dtype>
std::shared_ptr<ConvBase<Dtype>> MakeConv(const std::string& conv_param, const Path& path,
                                          Context* context) {
  auto layer =
      std::dynamic_pointer_cast<ConvBase<Dtype>>(MakeLayer<Dtype>(ConvText(conv_param), context));
  EXPECT_TRUE(layer != nullptr);
  layer->set_batching(path.batching);
  layer->set_task_images(path.task_images);
  layer->set_threads(path.threads);
  layer->set_gradient_runs(path.runs);
  return layer;
}

/// Runs Forward and Backward on copies of `bottoms` with weights copied from `reference`. Parameter
/// diffs start at 0.5 (they must accumulate) and bottom diffs at 9 (they must be overwritten, or
/// left alone where propagate_down is false).
template <typename Dtype>
PathRun<Dtype> RunPath(const std::string& conv_param, const Path& path,
                       const std::vector<Blob<Dtype>*>& bottoms, Layer<Dtype>* reference,
                       const std::vector<bool>& propagate_down, bool weight_grad) {
  Context context;
  auto layer = MakeConv<Dtype>(conv_param, path, &context);
  std::vector<std::unique_ptr<Blob<Dtype>>> bottom_store, top_store;
  std::vector<Blob<Dtype>*> bottom, top;
  for (Blob<Dtype>* b : bottoms) {
    bottom_store.emplace_back(new Blob<Dtype>(b->shape()));
    bottom_store.back()->CopyFrom(*b);
    bottom.push_back(bottom_store.back().get());
    top_store.emplace_back(new Blob<Dtype>());
    top.push_back(top_store.back().get());
  }
  layer->SetUp(bottom, top);
  for (size_t i = 0; i < layer->blobs().size(); ++i) {
    layer->blobs()[i]->CopyFrom(*reference->blobs()[i]);
    layer->blobs()[i]->set_diff(Dtype(0.5));
  }
  layer->set_param_propagate_down(0, weight_grad);
  layer->Forward(bottom, top);
  for (size_t i = 0; i < top.size(); ++i) {
    FillUniform<Dtype>(top[i], -1, 1, 11 + i);
    cpu_copy(top[i]->count(), top[i]->cpu_data(), top[i]->mutable_cpu_diff());
    bottom[i]->set_diff(Dtype(9));
  }
  // Forward again: the first top values were replaced by the diffs' random fill.
  layer->Forward(bottom, top);
  layer->Backward(top, propagate_down, bottom);
  PathRun<Dtype> run;
  run.engine = layer->engine();
  for (size_t i = 0; i < top.size(); ++i) {
    run.tops.emplace_back(top[i]->cpu_data(), top[i]->cpu_data() + top[i]->count());
    run.bottom_diffs.emplace_back(bottom[i]->cpu_diff(),
                                  bottom[i]->cpu_diff() + bottom[i]->count());
  }
  for (auto& blob : layer->blobs()) {
    run.param_diffs.emplace_back(blob->cpu_diff(), blob->cpu_diff() + blob->count());
  }
  return run;
}

template <typename Dtype>
void ExpectSameValues(const std::vector<std::vector<Dtype>>& actual,
                      const std::vector<std::vector<Dtype>>& expected, bool bitwise,
                      const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  const double tol = std::is_same<Dtype, float>::value ? 2e-5 : 1e-12;
  for (size_t b = 0; b < actual.size(); ++b) {
    ASSERT_EQ(actual[b].size(), expected[b].size()) << what;
    for (size_t i = 0; i < actual[b].size(); ++i) {
      if (bitwise) {
        ASSERT_EQ(actual[b][i], expected[b][i]) << what << " blob " << b << " element " << i;
      } else {
        ASSERT_NEAR(actual[b][i], expected[b][i],
                    tol * std::max(1.0, std::fabs(static_cast<double>(expected[b][i]))))
            << what << " blob " << b << " element " << i;
      }
    }
  }
}

template <typename Dtype>
class ConvolutionBatchedTest : public ::testing::Test {
 protected:
  /// Compares every batched variant against the per-image path on bottoms of `shape` (`count`
  /// bottoms sharing the weights), and the batched variants among themselves bit for bit: the
  /// thread count must not change a result.
  void Compare(const std::string& conv_param, const std::vector<int>& shape, int count = 1,
               std::vector<bool> propagate_down = {}, bool weight_grad = true) {
    SCOPED_TRACE(conv_param + " on " + ShapeString(shape));
    std::vector<std::unique_ptr<Blob<Dtype>>> store;
    std::vector<Blob<Dtype>*> bottoms;
    for (int i = 0; i < count; ++i) {
      store.emplace_back(new Blob<Dtype>(shape));
      FillUniform<Dtype>(store.back().get(), -1, 1, 3 + i);
      bottoms.push_back(store.back().get());
    }
    if (propagate_down.empty()) propagate_down.assign(count, true);
    Context context;
    auto reference = MakeConv<Dtype>(conv_param, {Batching::kPerImage, 0, 0}, &context);
    std::vector<std::unique_ptr<Blob<Dtype>>> tops;
    std::vector<Blob<Dtype>*> top;
    for (int i = 0; i < count; ++i) {
      tops.emplace_back(new Blob<Dtype>());
      top.push_back(tops.back().get());
    }
    reference->SetUp(bottoms, top);
    const PathRun<Dtype> expected = RunPath<Dtype>(conv_param, {Batching::kPerImage, 0, 0}, bottoms,
                                                   reference.get(), propagate_down, weight_grad);
    EXPECT_EQ(expected.engine.find("batched"), std::string::npos) << expected.engine;
    const int num = shape[0];
    const std::vector<Path> paths = {{Batching::kBatched, 2, 3},    {Batching::kBatched, 1, 2},
                                     {Batching::kBatched, 3, 1},    {Batching::kBatched, num, 2},
                                     {Batching::kBatched, 2, 1},    {Batching::kBatched, 1, 3, 2},
                                     {Batching::kBatched, 1, 1, 2}, {Batching::kBatched, 2, 2, 2}};
    std::vector<PathRun<Dtype>> runs;
    for (const Path& path : paths) {
      runs.push_back(
          RunPath<Dtype>(conv_param, path, bottoms, reference.get(), propagate_down, weight_grad));
      const std::string what = runs.back().engine;
      EXPECT_NE(what.find("batched"), std::string::npos) << what;
      ExpectSameValues(runs.back().tops, expected.tops, false, what + " top");
      ExpectSameValues(runs.back().bottom_diffs, expected.bottom_diffs, false,
                       what + " bottom diff");
      ExpectSameValues(runs.back().param_diffs, expected.param_diffs, false, what + " param diff");
    }
    // Same tasks and runs, 3 threads or 1.
    for (const auto& pair : {std::make_pair(0, 4), std::make_pair(5, 6)}) {
      const PathRun<Dtype>& a = runs[pair.first];
      const PathRun<Dtype>& b = runs[pair.second];
      ExpectSameValues(a.tops, b.tops, true, a.engine + " vs " + b.engine + ": top");
      ExpectSameValues(a.bottom_diffs, b.bottom_diffs, true,
                       a.engine + " vs " + b.engine + ": bottom diff");
      ExpectSameValues(a.param_diffs, b.param_diffs, true,
                       a.engine + " vs " + b.engine + ": param diff");
    }
  }
};
TYPED_TEST_SUITE(ConvolutionBatchedTest, TestDtypes);

TYPED_TEST(ConvolutionBatchedTest, GroupDilationStridePad) {
  this->Compare(
      "num_output: 4 group: 2 kernel_size: 3 kernel_size: 2 pad: 2 pad: 1 stride: 2 stride: 1 "
      "dilation: 2 dilation: 1",
      {5, 6, 9, 8});
}

TYPED_TEST(ConvolutionBatchedTest, Group3PadOverHalfKernelOddBatch) {
  this->Compare(
      "num_output: 6 group: 3 kernel_h: 3 kernel_w: 2 pad_h: 2 pad_w: 1 stride_h: 1 stride_w: 2",
      {7, 3, 7, 5});
}

TYPED_TEST(ConvolutionBatchedTest, BatchOfOne) {
  this->Compare("num_output: 6 group: 3 kernel_size: 3 pad: 1 stride: 2", {1, 3, 7, 5});
}

TYPED_TEST(ConvolutionBatchedTest, OneByOneGroupsAndStrided) {
  this->Compare("num_output: 6 group: 2 kernel_size: 1", {5, 4, 5, 3});
  this->Compare("num_output: 6 kernel_size: 1 stride: 2", {5, 4, 5, 3});
}

TYPED_TEST(ConvolutionBatchedTest, WithoutBiasAndKernelOverhangingInput) {
  this->Compare("num_output: 3 kernel_size: 3 stride: 2 bias_term: false", {4, 2, 2, 4});
}

TYPED_TEST(ConvolutionBatchedTest, ThreeSpatialAxesAndForcedNd) {
  this->Compare(
      "num_output: 4 group: 2 kernel_size: 3 kernel_size: 2 kernel_size: 3 pad: 1 pad: 0 pad: 2 "
      "stride: 2 stride: 1 stride: 1 dilation: 1 dilation: 2 dilation: 1",
      {5, 4, 5, 4, 6});
  this->Compare(
      "num_output: 4 group: 2 kernel_size: 3 kernel_size: 2 pad: 2 pad: 0 stride: 2 stride: 1 "
      "dilation: 1 dilation: 2 force_nd_im2col: true",
      {5, 4, 7, 6});
}

TYPED_TEST(ConvolutionBatchedTest, ChannelAxisTwo) {
  // The images are the product of the axes before the channel axis: 2 x 3.
  this->Compare("num_output: 3 kernel_size: 2 pad: 1 axis: 2", {2, 3, 2, 5, 4});
}

TYPED_TEST(ConvolutionBatchedTest, TwoBottomsAndPartialGradients) {
  const std::string param = "num_output: 4 group: 2 kernel_size: 3 pad: 1";
  this->Compare(param, {5, 4, 6, 5}, 2);
  // LeNet's conv1: no gradient for the data.
  this->Compare(param, {5, 4, 6, 5}, 2, {false, true});
  this->Compare(param, {5, 4, 6, 5}, 1, {true}, /*weight_grad=*/false);
}

TYPED_TEST(ConvolutionBatchedTest, PlanFollowsWidthBudgetAndThreads) {
  using Dtype = TypeParam;
  Context context;
  struct Case {
    std::vector<int> shape;
    std::string param;
    int chunk, tasks;
  };
  // LeNet's conv2 (8x8 outputs): 4 images make 256 columns; conv1 (24x24) is wide enough alone.
  const std::vector<Case> cases = {
      {{64, 20, 12, 12}, "num_output: 50 kernel_size: 5", 4, 16},
      {{64, 1, 28, 28}, "num_output: 20 kernel_size: 5", 1, 64},
      {{10, 20, 12, 12}, "num_output: 50 kernel_size: 5", 4, 3},
      {{9, 2, 3, 3}, "num_output: 2 kernel_size: 1", 9, 1},
  };
  for (const Case& c : cases) {
    auto layer = MakeConv<Dtype>(c.param, {Batching::kAuto, 0, 2}, &context);
    Blob<Dtype> bottom(c.shape), top;
    layer->SetUp({&bottom}, {&top});
    EXPECT_TRUE(layer->batched()) << c.param;
    EXPECT_EQ(layer->batch_chunk(), c.chunk) << c.param;
    EXPECT_EQ(layer->batch_tasks(), c.tasks) << c.param;
    EXPECT_EQ(layer->batch_threads(), std::min(2, c.tasks)) << c.param;
    // Small weights: one gradient partial per task.
    EXPECT_EQ(layer->batch_gradient_runs(), c.tasks) << c.param;
    const std::string base =
        c.param.find("kernel_size: 1") != std::string::npos ? "blas-1x1" : "im2col+blas";
    EXPECT_EQ(layer->engine(), base + "(batched x" + std::to_string(c.chunk) + ", " +
                                   std::to_string(std::min(2, c.tasks)) +
                                   (c.tasks > 1 ? " threads)" : " thread)"));
  }
  // A budget of one image's columns (20 * 25 * 64 values) leaves one image per task.
  auto small = MakeConv<Dtype>("num_output: 50 kernel_size: 5", {Batching::kAuto, 0, 2}, &context);
  small->set_column_budget(sizeof(Dtype) * 20 * 25 * 64);
  Blob<Dtype> bottom(6, 20, 12, 12), top;
  small->SetUp({&bottom}, {&top});
  EXPECT_EQ(small->batch_chunk(), 1);
  EXPECT_EQ(small->batch_tasks(), 6);
  // Weights of 4 MiB (8 in double) or more: the partials share kPartialBudget, but there are at
  // least kMinGradientRuns of them.
  auto wide = MakeConv<Dtype>("num_output: 1024 kernel_size: 1", {Batching::kAuto, 1, 2}, &context);
  Blob<Dtype> columns(16, 1024, 1, 1);
  wide->SetUp({&columns}, {&top});
  EXPECT_EQ(wide->batch_tasks(), 16);
  EXPECT_EQ(wide->batch_gradient_runs(), ConvBase<Dtype>::kMinGradientRuns);
  // One image: nothing to batch, Caffe's per-image products.
  Blob<Dtype> one(1, 20, 12, 12);
  small->Reshape({&one}, {&top});
  EXPECT_FALSE(small->batched());
  EXPECT_EQ(small->engine(), "im2col+blas");
}

TYPED_TEST(ConvolutionBatchedTest, GradientInTasksOnThreads) {
  using Dtype = TypeParam;
  Context context;
  Blob<Dtype> bottom(3, 4, 5, 4);
  FillUniform<Dtype>(&bottom, -1, 1);
  Blob<Dtype> top;
  auto layer = MakeConv<Dtype>(
      "num_output: 2 group: 2 kernel_size: 3 kernel_size: 2 dilation: 2 dilation: 1 pad: 1 "
      "stride: 2 stride: 1",
      {Batching::kBatched, 2, 2}, &context);
  GradientChecker<Dtype> checker;
  checker.Check(layer.get(), {&bottom}, {&top});
  EXPECT_EQ(layer->batch_tasks(), 2);
}

TYPED_TEST(ConvolutionBatchedTest, GradientOneByOneInTasks) {
  using Dtype = TypeParam;
  Context context;
  Blob<Dtype> bottom(3, 4, 3, 3);
  FillUniform<Dtype>(&bottom, -1, 1);
  Blob<Dtype> top;
  auto layer = MakeConv<Dtype>("num_output: 2 group: 2 kernel_size: 1", {Batching::kBatched, 1, 2},
                               &context);
  GradientChecker<Dtype> checker;
  checker.Check(layer.get(), {&bottom}, {&top});
}

TYPED_TEST(ConvolutionBatchedTest, GradientThreeSpatialAxesInTasks) {
  using Dtype = TypeParam;
  Context context;
  Blob<Dtype> bottom({3, 2, 3, 4, 3});
  FillUniform<Dtype>(&bottom, -1, 1);
  Blob<Dtype> top;
  auto layer = MakeConv<Dtype>(
      "num_output: 2 kernel_size: 2 pad: 1 pad: 0 pad: 1 stride: 2 stride: 1 stride: 1 "
      "dilation: 1 dilation: 2 dilation: 1",
      {Batching::kBatched, 2, 3}, &context);
  GradientChecker<Dtype> checker;
  checker.Check(layer.get(), {&bottom}, {&top});
}

}  // namespace
}  // namespace moka::test
