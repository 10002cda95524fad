#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "gradient_checker.hpp"
#include "layers/spp.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

std::string SppText(const std::string& spp_param, const std::string& extra = "") {
  return "name: 'spp' type: 'SPP' " + extra + " spp_param { " + spp_param + " }";
}

/// Distinct values `spacing` apart in shuffled order, so that window maxima never tie.
template <typename Dtype>
void FillDistinct(Blob<Dtype>* blob, double spacing, uint64_t seed = 5) {
  std::vector<int> order(blob->count());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed);
  std::shuffle(order.begin(), order.end(), rng);
  for (int i = 0; i < blob->count(); ++i) {
    blob->mutable_cpu_data()[i] = static_cast<Dtype>((order[i] - blob->count() / 2) * spacing);
  }
}

/// SPP written out directly: level l has b = 2^l bins per axis with kernel ceil(H / b), stride
/// the kernel and pad (kernel * b - H + 1) / 2; the bin count follows the pooling layer's ceil
/// rule, less the bin that would start in the right padding. AVE divides by the window clipped
/// to the padded image.
template <typename Dtype>
std::vector<double> DirectSpp(const Blob<Dtype>& in, int levels, bool max) {
  const int N = in.num(), C = in.channels(), H = in.height(), W = in.width();
  std::vector<std::vector<double>> per_image(N);
  for (int l = 0; l < levels; ++l) {
    const int bins = 1 << l;
    const int kh = (H + bins - 1) / bins, kw = (W + bins - 1) / bins;
    const int ph_pad = (kh * bins - H + 1) / 2, pw_pad = (kw * bins - W + 1) / 2;
    // Whole bins by the ceil rule; when either axis is padded, a last bin starting in the right
    // padding is dropped on both axes.
    int out_h = (H + 2 * ph_pad - kh + kh - 1) / kh + 1;
    int out_w = (W + 2 * pw_pad - kw + kw - 1) / kw + 1;
    if (ph_pad > 0 || pw_pad > 0) {
      if ((out_h - 1) * kh >= H + ph_pad) --out_h;
      if ((out_w - 1) * kw >= W + pw_pad) --out_w;
    }
    for (int n = 0; n < N; ++n) {
      for (int c = 0; c < C; ++c) {
        for (int ph = 0; ph < out_h; ++ph) {
          for (int pw = 0; pw < out_w; ++pw) {
            const int h0 = ph * kh - ph_pad, w0 = pw * kw - pw_pad;
            double best = -1e300, sum = 0;
            for (int h = std::max(h0, 0); h < std::min(h0 + kh, H); ++h) {
              for (int w = std::max(w0, 0); w < std::min(w0 + kw, W); ++w) {
                best = std::max(best, static_cast<double>(in.data_at(n, c, h, w)));
                sum += in.data_at(n, c, h, w);
              }
            }
            const int area =
                (std::min(h0 + kh, H + ph_pad) - h0) * (std::min(w0 + kw, W + pw_pad) - w0);
            per_image[n].push_back(max ? best : sum / area);
          }
        }
      }
    }
  }
  std::vector<double> out;
  for (const auto& image : per_image) out.insert(out.end(), image.begin(), image.end());
  return out;
}

template <typename Dtype>
void ExpectNear(const Blob<Dtype>& actual, const std::vector<double>& expected) {
  ASSERT_EQ(actual.count(), static_cast<int>(expected.size()));
  const double tol = std::is_same<Dtype, float>::value ? 1e-5 : 1e-12;
  for (int i = 0; i < actual.count(); ++i) {
    EXPECT_NEAR(actual.cpu_data()[i], expected[i], tol * std::max(1.0, std::fabs(expected[i])))
        << "element " << i;
  }
}

template <typename Dtype>
class SppTest : public ::testing::Test {
 protected:
  Context context_;
};
TYPED_TEST_SUITE(SppTest, TestDtypes);

TYPED_TEST(SppTest, ByHandThreeByThree) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(1, 1, 3, 3);
  for (int i = 0; i < 9; ++i) bottom.mutable_cpu_data()[i] = Dtype(i + 1);
  Blob<Dtype> top;
  // Level 1: kernel 2, pad 1: windows cover rows {0} and {1, 2}, likewise columns.
  auto max_layer = MakeLayer<Dtype>(SppText("pyramid_height: 2"), &this->context_);
  max_layer->SetUp({&bottom}, {&top});
  max_layer->Forward({&bottom}, {&top});
  ASSERT_EQ(top.shape(), (std::vector<int>{1, 5}));
  const Dtype expected_max[] = {9, 1, 3, 7, 9};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(top.cpu_data()[i], expected_max[i]) << i;

  // AVE divides by the window clipped to the padded image, padding included (always 4 here).
  auto ave_layer = MakeLayer<Dtype>(SppText("pyramid_height: 2 pool: AVE"), &this->context_);
  ave_layer->SetUp({&bottom}, {&top});
  ave_layer->Forward({&bottom}, {&top});
  const Dtype expected_ave[] = {5, 0.25, 1.25, 2.75, 7};
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(top.cpu_data()[i], expected_ave[i], 1e-6) << i;

  // Backward of MAX: level 0 and bin (1, 1) both pick the 9.
  top.set_diff(1);
  max_layer->Backward({&top}, {true}, {&bottom});
  const Dtype expected_diff[] = {1, 0, 1, 0, 0, 0, 1, 0, 2};
  for (int i = 0; i < 9; ++i) EXPECT_EQ(bottom.cpu_diff()[i], expected_diff[i]) << i;
}

TYPED_TEST(SppTest, LevelGeometryAsCaffe) {
  // kernel ceil(H / b), stride = kernel, pad (kernel * b - H + 1) / 2.
  auto pool = [](int level, int h, int w) {
    return SPPLayer<TypeParam>::LevelPoolingParam(level, h, w, SPPParameter::AVE).pooling_param();
  };
  PoolingParameter p = pool(2, 13, 9);
  EXPECT_EQ(p.kernel_h(), 4u);
  EXPECT_EQ(p.stride_h(), 4u);
  EXPECT_EQ(p.pad_h(), 2u);
  EXPECT_EQ(p.kernel_w(), 3u);
  EXPECT_EQ(p.stride_w(), 3u);
  EXPECT_EQ(p.pad_w(), 2u);
  EXPECT_EQ(p.pool(), PoolingParameter::AVE);
  p = pool(0, 7, 5);
  EXPECT_EQ(p.kernel_h(), 7u);
  EXPECT_EQ(p.kernel_w(), 5u);
  EXPECT_EQ(p.pad_h(), 0u);
  EXPECT_EQ(p.pad_w(), 0u);
  p = pool(1, 8, 6);
  EXPECT_EQ(p.kernel_h(), 4u);
  EXPECT_EQ(p.pad_h(), 0u);
  EXPECT_EQ(p.kernel_w(), 3u);
  EXPECT_EQ(p.pad_w(), 0u);
}

TYPED_TEST(SppTest, ForwardMatchesDirectPyramid) {
  using Dtype = TypeParam;
  for (const bool max : {true, false}) {
    Blob<Dtype> bottom(2, 3, 9, 8);
    FillUniform<Dtype>(&bottom, -1, 1);
    Blob<Dtype> top;
    auto layer = MakeLayer<Dtype>(
        SppText(std::string("pyramid_height: 3 pool: ") + (max ? "MAX" : "AVE")), &this->context_);
    layer->SetUp({&bottom}, {&top});
    layer->Forward({&bottom}, {&top});
    // 1 + 2 x 2 + 4 x 4 bins per channel.
    EXPECT_EQ(top.shape(), (std::vector<int>{2, 3 * 21}));
    ExpectNear(top, DirectSpp(bottom, 3, max));
  }
}

TYPED_TEST(SppTest, ReshapeRebuildsTheLevels) {
  using Dtype = TypeParam;
  Blob<Dtype> small(1, 2, 7, 6), large(2, 2, 13, 11);
  FillUniform<Dtype>(&small, -1, 1, 3);
  FillUniform<Dtype>(&large, -1, 1, 4);
  Blob<Dtype> top;
  auto layer = MakeLayer<Dtype>(SppText("pyramid_height: 3"), &this->context_);
  layer->SetUp({&small}, {&top});
  layer->Forward({&small}, {&top});
  ExpectNear(top, DirectSpp(small, 3, true));
  layer->Forward({&large}, {&top});
  EXPECT_EQ(top.shape(), (std::vector<int>{2, 2 * 21}));
  ExpectNear(top, DirectSpp(large, 3, true));
  layer->Forward({&small}, {&top});
  ExpectNear(top, DirectSpp(small, 3, true));
}

TYPED_TEST(SppTest, HeightOneIsGlobalPoolingWithFourAxes) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(2, 3, 5, 4);
  FillUniform<Dtype>(&bottom, -1, 1);
  Blob<Dtype> top;
  auto layer = MakeLayer<Dtype>(SppText("pyramid_height: 1"), &this->context_);
  layer->SetUp({&bottom}, {&top});
  layer->Forward({&bottom}, {&top});
  // Caffe hands the single level's pooling top out as it is, without flattening.
  EXPECT_EQ(top.shape(), (std::vector<int>{2, 3, 1, 1}));
  ExpectNear(top, DirectSpp(bottom, 1, true));
}

TYPED_TEST(SppTest, StochasticSamplesEvenInTest) {
  using Dtype = TypeParam;
  // The inner Pooling layers are built with a fresh LayerParameter (phase TRAIN), as in Caffe, so
  // the output is a sampled element, not TEST's weighted average.
  Blob<Dtype> bottom(1, 2, 4, 4);
  FillUniform<Dtype>(&bottom, 0.1, 1);
  Blob<Dtype> top;
  auto layer = MakeLayer<Dtype>(SppText("pyramid_height: 2 pool: STOCHASTIC", "phase: TEST"),
                                &this->context_);
  layer->SetUp({&bottom}, {&top});
  layer->Forward({&bottom}, {&top});
  ASSERT_EQ(top.shape(), (std::vector<int>{1, 2 * 5}));
  for (int i = 0; i < top.count(); ++i) {
    const Dtype value = top.cpu_data()[i];
    EXPECT_NE(std::find(bottom.cpu_data(), bottom.cpu_data() + bottom.count(), value),
              bottom.cpu_data() + bottom.count())
        << "element " << i << " = " << value << " is not one of the inputs";
  }
}

TYPED_TEST(SppTest, RejectsBadInput) {
  using Dtype = TypeParam;
  Blob<Dtype> top;
  Blob<Dtype> bottom(1, 1, 8, 8);
  auto no_height = MakeLayer<Dtype>(SppText(""), &this->context_);
  EXPECT_THROW(no_height->SetUp({&bottom}, {&top}), ConfigError);
  Blob<Dtype> flat({2, 8});
  auto layer = MakeLayer<Dtype>(SppText("pyramid_height: 2"), &this->context_);
  EXPECT_THROW(layer->SetUp({&flat}, {&top}), ShapeError);
  // 5 rows in 4 bins: kernel 2 needs pad 2, which Caffe's pooling refuses (pad < kernel).
  Blob<Dtype> small(1, 1, 5, 8);
  auto deep = MakeLayer<Dtype>(SppText("pyramid_height: 3"), &this->context_);
  try {
    deep->SetUp({&small}, {&top});
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("pyramid level 2"), std::string::npos) << error.what();
  }
}

TYPED_TEST(SppTest, GradientMax) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(2, 2, 7, 6);
  FillDistinct(&bottom, 0.05);
  Blob<Dtype> top;
  auto layer = MakeLayer<Dtype>(SppText("pyramid_height: 3"), &this->context_);
  GradientChecker<Dtype> checker;
  checker.Check(layer.get(), {&bottom}, {&top});
}

TYPED_TEST(SppTest, GradientAve) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(1, 3, 5, 7);
  FillUniform<Dtype>(&bottom, -1, 1);
  Blob<Dtype> top;
  auto layer = MakeLayer<Dtype>(SppText("pyramid_height: 2 pool: AVE"), &this->context_);
  GradientChecker<Dtype> checker;
  checker.Check(layer.get(), {&bottom}, {&top});
}

TYPED_TEST(SppTest, GradientSingleLevel) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(2, 2, 3, 5);
  FillUniform<Dtype>(&bottom, -1, 1);
  Blob<Dtype> top;
  auto layer = MakeLayer<Dtype>(SppText("pyramid_height: 1 pool: AVE"), &this->context_);
  GradientChecker<Dtype> checker;
  checker.Check(layer.get(), {&bottom}, {&top});
}

}  // namespace
}  // namespace moka::test
