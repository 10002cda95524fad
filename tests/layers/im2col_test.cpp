#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gradient_checker.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

std::string Im2colText(const std::string& conv_param) {
  return "name: 'unroll' type: 'Im2col' convolution_param { " + conv_param + " }";
}

struct Geometry {
  int axis;  // channel axis
  std::vector<int> kernel, stride, pad, dilation;
};

/// top[n, (c, i_1..i_d), o_1..o_d] = bottom[n, c, o_a * s_a - p_a + i_a * r_a] (0 outside), by
/// walking every top element; the images are the axes before the channel axis.
template <typename Dtype>
std::vector<double> DirectIm2col(const Blob<Dtype>& in, const Geometry& g,
                                 std::vector<int>* top_shape) {
  const int d = static_cast<int>(g.kernel.size());
  const std::vector<int>& shape = in.shape();
  const int images = in.count(0, g.axis);
  const int channels = shape[g.axis];
  std::vector<int> out(d), in_size(d);
  int kernel_count = 1, out_count = 1, in_count = 1;
  for (int a = 0; a < d; ++a) {
    in_size[a] = shape[g.axis + 1 + a];
    out[a] =
        (in_size[a] + 2 * g.pad[a] - (g.dilation[a] * (g.kernel[a] - 1) + 1)) / g.stride[a] + 1;
    kernel_count *= g.kernel[a];
    out_count *= out[a];
    in_count *= in_size[a];
  }
  *top_shape = shape;
  (*top_shape)[g.axis] = channels * kernel_count;
  for (int a = 0; a < d; ++a) (*top_shape)[g.axis + 1 + a] = out[a];
  std::vector<double> result;
  const Dtype* x = in.cpu_data();
  for (int n = 0; n < images; ++n) {
    for (int c = 0; c < channels; ++c) {
      for (int k = 0; k < kernel_count; ++k) {
        for (int o = 0; o < out_count; ++o) {
          // Split k and o into per-axis offsets (row-major).
          int k_rest = k, o_rest = o, offset = 0, stride = 1;
          bool inside = true;
          std::vector<int> pos(d);
          for (int a = d - 1; a >= 0; --a) {
            const int ka = k_rest % g.kernel[a], oa = o_rest % out[a];
            k_rest /= g.kernel[a];
            o_rest /= out[a];
            pos[a] = oa * g.stride[a] - g.pad[a] + ka * g.dilation[a];
            inside = inside && pos[a] >= 0 && pos[a] < in_size[a];
          }
          for (int a = d - 1; a >= 0; --a) {
            offset += pos[a] * stride;
            stride *= in_size[a];
          }
          result.push_back(inside ? x[(n * channels + c) * in_count + offset] : 0.0);
        }
      }
    }
  }
  return result;
}

template <typename Dtype>
class Im2colLayerTest : public ::testing::Test {
 protected:
  void ExpectMatchesDirect(const std::string& param, const std::vector<int>& bottom_shape,
                           const Geometry& g) {
    SCOPED_TRACE(param);
    Blob<Dtype> bottom(bottom_shape);
    FillUniform<Dtype>(&bottom, -1, 1);
    Blob<Dtype> top;
    auto layer = MakeLayer<Dtype>(Im2colText(param), &context_);
    layer->SetUp({&bottom}, {&top});
    layer->Forward({&bottom}, {&top});
    std::vector<int> expected_shape;
    const std::vector<double> expected = DirectIm2col(bottom, g, &expected_shape);
    ASSERT_EQ(top.shape(), expected_shape);
    for (int i = 0; i < top.count(); ++i) {
      ASSERT_EQ(static_cast<double>(top.cpu_data()[i]), static_cast<double>(Dtype(expected[i])))
          << "element " << i;
    }
  }

  Context context_;
};
TYPED_TEST_SUITE(Im2colLayerTest, TestDtypes);

TYPED_TEST(Im2colLayerTest, ByHand) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(1, 1, 3, 3);
  for (int i = 0; i < 9; ++i) bottom.mutable_cpu_data()[i] = Dtype(i + 1);
  Blob<Dtype> top;
  auto layer = MakeLayer<Dtype>(Im2colText("kernel_size: 2"), &this->context_);
  layer->SetUp({&bottom}, {&top});
  layer->Forward({&bottom}, {&top});
  ASSERT_EQ(top.shape(), (std::vector<int>{1, 4, 2, 2}));
  // Row (i, j) of the kernel lists x[o_h + i][o_w + j] over the four output positions.
  const Dtype expected[] = {1, 2, 4, 5, 2, 3, 5, 6, 4, 5, 7, 8, 5, 6, 8, 9};
  for (int i = 0; i < 16; ++i) EXPECT_EQ(top.cpu_data()[i], expected[i]) << i;
  // col2im: every input receives one share per window that contains it.
  top.set_diff(1);
  layer->Backward({&top}, {true}, {&bottom});
  const Dtype windows[] = {1, 2, 1, 2, 4, 2, 1, 2, 1};
  for (int i = 0; i < 9; ++i) EXPECT_EQ(bottom.cpu_diff()[i], windows[i]) << i;
}

TYPED_TEST(Im2colLayerTest, TwoDimensionalGeometries) {
  this->ExpectMatchesDirect(
      "kernel_h: 3 kernel_w: 2 stride_h: 2 stride_w: 1 pad_h: 1 pad_w: 0 "
      "dilation: 2",
      {2, 3, 6, 5}, {1, {3, 2}, {2, 1}, {1, 0}, {2, 2}});
  // The N-D routine gives the same result as the 2-D one.
  this->ExpectMatchesDirect(
      "kernel_h: 3 kernel_w: 2 stride_h: 2 stride_w: 1 pad_h: 1 pad_w: 0 "
      "dilation: 2 force_nd_im2col: true",
      {2, 3, 6, 5}, {1, {3, 2}, {2, 1}, {1, 0}, {2, 2}});
  this->ExpectMatchesDirect(
      "kernel_size: 3 kernel_size: 2 stride: 2 pad: 2 dilation: 1 "
      "dilation: 3",
      {1, 2, 5, 7}, {1, {3, 2}, {2, 2}, {2, 2}, {1, 3}});
  // Only pad_h given: pad_w reads 0, as in Caffe.
  this->ExpectMatchesDirect("kernel_size: 2 pad_h: 1", {1, 1, 3, 4},
                            {1, {2, 2}, {1, 1}, {1, 0}, {1, 1}});
}

TYPED_TEST(Im2colLayerTest, NdAndChannelAxis) {
  this->ExpectMatchesDirect("kernel_size: 2 stride: 2 pad: 1", {2, 2, 4, 3, 5},
                            {1, {2, 2, 2}, {2, 2, 2}, {1, 1, 1}, {1, 1, 1}});
  this->ExpectMatchesDirect("kernel_size: 3 kernel_size: 1 kernel_size: 2 dilation: 2 pad: 1",
                            {1, 1, 5, 2, 4}, {1, {3, 1, 2}, {1, 1, 1}, {1, 1, 1}, {2, 2, 2}});
  // Channel axis 2: the first two axes are images, one spatial axis remains.
  this->ExpectMatchesDirect("axis: 2 kernel_size: 3 stride: 2", {2, 3, 2, 7},
                            {2, {3}, {2}, {0}, {1}});
  this->ExpectMatchesDirect("axis: -3 kernel_size: 2", {3, 2, 3, 4},
                            {1, {2, 2}, {1, 1}, {0, 0}, {1, 1}});
}

TYPED_TEST(Im2colLayerTest, RejectsBadParameters) {
  using Dtype = TypeParam;
  Blob<Dtype> top;
  auto setup = [&](const std::string& param, const std::vector<int>& shape) {
    Blob<Dtype> bottom(shape);
    auto layer = MakeLayer<Dtype>(Im2colText(param), &this->context_);
    layer->SetUp({&bottom}, {&top});
  };
  EXPECT_THROW(setup("stride: 2", {1, 1, 4, 4}), ConfigError);
  EXPECT_THROW(setup("kernel_h: 2 kernel_w: 2", {1, 1, 4, 4, 4}), ConfigError);
  EXPECT_THROW(setup("kernel_size: 2 kernel_h: 2 kernel_w: 2", {1, 1, 4, 4}), ConfigError);
  EXPECT_THROW(setup("kernel_h: 2", {1, 1, 4, 4}), ConfigError);
  EXPECT_THROW(setup("kernel_size: 2 kernel_size: 2", {1, 1, 4, 4, 4}), ConfigError);
  EXPECT_THROW(setup("kernel_size: 2 stride: 0", {1, 1, 4, 4}), ConfigError);
  EXPECT_THROW(setup("kernel_size: 2 dilation: 0", {1, 1, 4, 4}), ConfigError);
  EXPECT_THROW(setup("kernel_size: 5", {1, 1, 4, 4}), ShapeError);
  EXPECT_THROW(setup("kernel_size: 1 axis: 1", {3, 4}), ShapeError);
}

TYPED_TEST(Im2colLayerTest, Gradient2D) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(2, 2, 5, 4);
  FillUniform<Dtype>(&bottom, -1, 1);
  Blob<Dtype> top;
  auto layer = MakeLayer<Dtype>(
      Im2colText("kernel_h: 3 kernel_w: 2 stride_h: 2 pad_h: 1 pad_w: 1 dilation: 2 stride_w: 1"),
      &this->context_);
  GradientChecker<Dtype> checker;
  checker.Check(layer.get(), {&bottom}, {&top});
}

TYPED_TEST(Im2colLayerTest, GradientNd) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom({1, 2, 3, 4, 3});
  FillUniform<Dtype>(&bottom, -1, 1);
  Blob<Dtype> top;
  auto layer = MakeLayer<Dtype>(Im2colText("kernel_size: 2 stride: 2 pad: 1"), &this->context_);
  GradientChecker<Dtype> checker;
  checker.Check(layer.get(), {&bottom}, {&top});
  Blob<Dtype> bottom2(1, 3, 4, 3);
  FillUniform<Dtype>(&bottom2, -1, 1, 9);
  auto forced =
      MakeLayer<Dtype>(Im2colText("kernel_size: 2 pad: 1 force_nd_im2col: true"), &this->context_);
  checker.Check(forced.get(), {&bottom2}, {&top});
}

}  // namespace
}  // namespace moka::test
