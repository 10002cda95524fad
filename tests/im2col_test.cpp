#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "im2col.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

/// One spatial configuration: per-axis kernel, pad, stride, dilation and input size.
struct Geometry {
  std::vector<int> in, kernel, pad, stride, dilation;
  std::vector<int> Out() const {
    std::vector<int> out;
    for (size_t a = 0; a < in.size(); ++a) {
      out.push_back((in[a] + 2 * pad[a] - (dilation[a] * (kernel[a] - 1) + 1)) / stride[a] + 1);
    }
    return out;
  }
};

int Product(const std::vector<int>& v) {
  int p = 1;
  for (int d : v) p *= d;
  return p;
}

/// The column matrix straight from its definition, one entry at a time.
template <typename Dtype>
std::vector<Dtype> NaiveIm2col(const std::vector<Dtype>& im, int channels, const Geometry& g) {
  const int d = static_cast<int>(g.in.size());
  const std::vector<int> out = g.Out();
  const int kernel_size = Product(g.kernel);
  const int out_size = Product(out);
  std::vector<Dtype> col(channels * kernel_size * out_size);
  for (int c = 0; c < channels; ++c) {
    for (int k = 0; k < kernel_size; ++k) {
      for (int o = 0; o < out_size; ++o) {
        int krest = k, orest = o, index = c;
        bool inside = true;
        std::vector<int> kidx(d), oidx(d);
        for (int a = d - 1; a >= 0; --a) {
          kidx[a] = krest % g.kernel[a];
          krest /= g.kernel[a];
          oidx[a] = orest % out[a];
          orest /= out[a];
        }
        for (int a = 0; a < d; ++a) {
          const int pos = oidx[a] * g.stride[a] - g.pad[a] + kidx[a] * g.dilation[a];
          inside = inside && pos >= 0 && pos < g.in[a];
          index = index * g.in[a] + (inside ? pos : 0);
        }
        col[(c * kernel_size + k) * out_size + o] = inside ? im[index] : Dtype(0);
      }
    }
  }
  return col;
}

template <typename Dtype>
class Im2colTest : public ::testing::Test {
 protected:
  std::vector<Dtype> Random(int n, uint64_t seed) {
    Blob<Dtype> blob({n});
    FillUniform<Dtype>(&blob, -1, 1, seed);
    return std::vector<Dtype>(blob.cpu_data(), blob.cpu_data() + n);
  }

  std::vector<int> ImShape(int channels, const Geometry& g) {
    std::vector<int> shape = {channels};
    shape.insert(shape.end(), g.in.begin(), g.in.end());
    return shape;
  }
  std::vector<int> ColShape(int channels, const Geometry& g) {
    std::vector<int> shape = {channels * Product(g.kernel)};
    const std::vector<int> out = g.Out();
    shape.insert(shape.end(), out.begin(), out.end());
    return shape;
  }

  /// Checks both unrollings against the definition, and col2im as the adjoint of im2col:
  /// <im2col(x), c> == <x, col2im(c)> for random x and c.
  void CheckGeometry(int channels, const Geometry& g) {
    const int d = static_cast<int>(g.in.size());
    const int im_count = channels * Product(g.in);
    const int col_count = channels * Product(g.kernel) * Product(g.Out());
    const std::vector<Dtype> im = Random(im_count, 3);
    const std::vector<Dtype> expected = NaiveIm2col(im, channels, g);
    ASSERT_EQ(static_cast<int>(expected.size()), col_count);
    const std::vector<int> im_shape = ImShape(channels, g);
    const std::vector<int> col_shape = ColShape(channels, g);

    std::vector<Dtype> col_nd(col_count, Dtype(7));
    Im2colNd(im.data(), d, im_shape.data(), col_shape.data(), g.kernel.data(), g.pad.data(),
             g.stride.data(), g.dilation.data(), col_nd.data());
    for (int i = 0; i < col_count; ++i) ASSERT_EQ(col_nd[i], expected[i]) << "N-D entry " << i;

    const std::vector<Dtype> c = Random(col_count, 5);
    std::vector<Dtype> back_nd(im_count, Dtype(7));
    Col2imNd(c.data(), d, im_shape.data(), col_shape.data(), g.kernel.data(), g.pad.data(),
             g.stride.data(), g.dilation.data(), back_nd.data());
    CheckAdjoint(im, expected, c, back_nd);
    CheckRowStride(channels, g, im, expected, c, back_nd, /*nd=*/true);

    if (d != 2) return;
    std::vector<Dtype> col(col_count, Dtype(7));
    Im2col(im.data(), channels, g.in[0], g.in[1], g.kernel[0], g.kernel[1], g.pad[0], g.pad[1],
           g.stride[0], g.stride[1], g.dilation[0], g.dilation[1], col.data());
    for (int i = 0; i < col_count; ++i) ASSERT_EQ(col[i], expected[i]) << "2-D entry " << i;
    std::vector<Dtype> back(im_count, Dtype(7));
    Col2im(c.data(), channels, g.in[0], g.in[1], g.kernel[0], g.kernel[1], g.pad[0], g.pad[1],
           g.stride[0], g.stride[1], g.dilation[0], g.dilation[1], back.data());
    for (int i = 0; i < im_count; ++i) {
      EXPECT_NEAR(back[i], back_nd[i], 1e-5) << "2-D and N-D col2im differ at " << i;
    }
    CheckRowStride(channels, g, im, expected, c, back, /*nd=*/false);
  }

  /// The batched layout: this image's columns as the middle one of three side by side in each
  /// row. im2col must fill exactly its slots (the rest keep their sentinel), and col2im reading
  /// them must give what it gives from the dense layout.
  void CheckRowStride(int channels, const Geometry& g, const std::vector<Dtype>& im,
                      const std::vector<Dtype>& expected, const std::vector<Dtype>& c,
                      const std::vector<Dtype>& back, bool nd) {
    const int d = static_cast<int>(g.in.size());
    const int rows = channels * Product(g.kernel);
    const int out = Product(g.Out());
    const int stride = 3 * out;
    const std::vector<int> im_shape = ImShape(channels, g);
    const std::vector<int> col_shape = ColShape(channels, g);
    std::vector<Dtype> wide(rows * stride, Dtype(7));
    if (nd) {
      Im2colNd(im.data(), d, im_shape.data(), col_shape.data(), g.kernel.data(), g.pad.data(),
               g.stride.data(), g.dilation.data(), wide.data() + out, stride);
    } else {
      Im2col(im.data(), channels, g.in[0], g.in[1], g.kernel[0], g.kernel[1], g.pad[0], g.pad[1],
             g.stride[0], g.stride[1], g.dilation[0], g.dilation[1], wide.data() + out, stride);
    }
    for (int r = 0; r < rows; ++r) {
      for (int i = 0; i < stride; ++i) {
        const bool mine = i >= out && i < 2 * out;
        const Dtype want = mine ? expected[r * out + i - out] : Dtype(7);
        ASSERT_EQ(wide[r * stride + i], want)
            << (nd ? "N-D" : "2-D") << " row " << r << " slot " << i;
      }
    }
    for (int r = 0; r < rows; ++r) {
      std::copy(c.begin() + r * out, c.begin() + (r + 1) * out, wide.begin() + r * stride + out);
    }
    std::vector<Dtype> back_wide(im.size(), Dtype(7));
    if (nd) {
      Col2imNd(wide.data() + out, d, im_shape.data(), col_shape.data(), g.kernel.data(),
               g.pad.data(), g.stride.data(), g.dilation.data(), back_wide.data(), stride);
    } else {
      Col2im(wide.data() + out, channels, g.in[0], g.in[1], g.kernel[0], g.kernel[1], g.pad[0],
             g.pad[1], g.stride[0], g.stride[1], g.dilation[0], g.dilation[1], back_wide.data(),
             stride);
    }
    for (size_t i = 0; i < im.size(); ++i) ASSERT_EQ(back_wide[i], back[i]) << "image entry " << i;
  }

  void CheckAdjoint(const std::vector<Dtype>& im, const std::vector<Dtype>& col,
                    const std::vector<Dtype>& c, const std::vector<Dtype>& back) {
    double lhs = 0, rhs = 0, scale = 0;
    for (size_t i = 0; i < col.size(); ++i) {
      lhs += static_cast<double>(col[i]) * c[i];
      scale += std::fabs(static_cast<double>(col[i]) * c[i]);
    }
    for (size_t i = 0; i < im.size(); ++i) rhs += static_cast<double>(im[i]) * back[i];
    EXPECT_NEAR(lhs, rhs, 1e-5 * (scale + 1));
  }
};
TYPED_TEST_SUITE(Im2colTest, TestDtypes);

TYPED_TEST(Im2colTest, Plain3x3) {
  this->CheckGeometry(2, {{5, 5}, {3, 3}, {0, 0}, {1, 1}, {1, 1}});
}

TYPED_TEST(Im2colTest, PaddedStridedNonSquare) {
  this->CheckGeometry(3, {{7, 6}, {3, 2}, {1, 2}, {2, 3}, {1, 1}});
}

TYPED_TEST(Im2colTest, Dilated) {
  this->CheckGeometry(2, {{9, 7}, {3, 2}, {2, 1}, {1, 2}, {2, 3}});
}

TYPED_TEST(Im2colTest, PadLargerThanHalfKernel) {
  this->CheckGeometry(1, {{4, 5}, {3, 3}, {2, 2}, {2, 1}, {1, 1}});
}

TYPED_TEST(Im2colTest, InputShorterThanKernelExtent) {
  // (2 - 3) / 2 + 1 truncates to one output, whose window hangs off the image.
  this->CheckGeometry(2, {{2, 3}, {3, 3}, {0, 0}, {2, 1}, {1, 1}});
}

TYPED_TEST(Im2colTest, OneByOne) {
  this->CheckGeometry(4, {{3, 5}, {1, 1}, {0, 0}, {1, 1}, {1, 1}});
}

TYPED_TEST(Im2colTest, ThreeSpatialAxes) {
  this->CheckGeometry(2, {{4, 5, 3}, {2, 3, 2}, {1, 0, 1}, {2, 1, 1}, {1, 2, 1}});
}

TYPED_TEST(Im2colTest, OneSpatialAxis) {
  this->CheckGeometry(3, {{11}, {3}, {2}, {3}, {2}});
}

}  // namespace
}  // namespace moka::test
