#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "gradient_checker.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

struct LrnSettings {
  int size;
  double alpha, beta, k;
  // The layer reads its settings as floats; the direct computation uses the same values.
  double a() const { return static_cast<float>(alpha); }
  double b() const { return static_cast<float>(beta); }
  double kf() const { return static_cast<float>(k); }
};

/// Direct ACROSS_CHANNELS LRN: the sum of squares over the size channels centred on c.
template <typename Dtype>
std::vector<double> DirectAcross(const Blob<Dtype>& in, const LrnSettings& s) {
  std::vector<double> out;
  const int half = (s.size - 1) / 2;
  for (int n = 0; n < in.num(); ++n) {
    for (int c = 0; c < in.channels(); ++c) {
      for (int h = 0; h < in.height(); ++h) {
        for (int w = 0; w < in.width(); ++w) {
          double sum = 0;
          for (int cc = std::max(0, c - half); cc <= std::min(in.channels() - 1, c + half); ++cc) {
            sum += std::pow(static_cast<double>(in.data_at(n, cc, h, w)), 2);
          }
          const double scale = s.kf() + s.a() / s.size * sum;
          out.push_back(in.data_at(n, c, h, w) * std::pow(scale, -s.b()));
        }
      }
    }
  }
  return out;
}

/// Direct WITHIN_CHANNEL LRN: the mean of squares over the zero-padded size x size window.
template <typename Dtype>
std::vector<double> DirectWithin(const Blob<Dtype>& in, const LrnSettings& s) {
  std::vector<double> out;
  const int half = (s.size - 1) / 2;
  for (int n = 0; n < in.num(); ++n) {
    for (int c = 0; c < in.channels(); ++c) {
      for (int h = 0; h < in.height(); ++h) {
        for (int w = 0; w < in.width(); ++w) {
          double sum = 0;
          for (int hh = h - half; hh <= h + half; ++hh) {
            for (int ww = w - half; ww <= w + half; ++ww) {
              if (hh < 0 || hh >= in.height() || ww < 0 || ww >= in.width()) continue;
              sum += std::pow(static_cast<double>(in.data_at(n, c, hh, ww)), 2);
            }
          }
          const double scale = 1 + s.a() / (s.size * s.size) * sum;
          out.push_back(in.data_at(n, c, h, w) * std::pow(scale, -s.b()));
        }
      }
    }
  }
  return out;
}

std::string LrnText(const LrnSettings& s, bool within) {
  return "name: 'norm' type: 'LRN' lrn_param { local_size: " + std::to_string(s.size) +
         " alpha: " + std::to_string(s.alpha) + " beta: " + std::to_string(s.beta) +
         " k: " + std::to_string(s.k) +
         (within ? " norm_region: WITHIN_CHANNEL" : " norm_region: ACROSS_CHANNELS") + " }";
}

template <typename Dtype>
class LrnTest : public ::testing::Test {
 protected:
  void CheckForward(const std::vector<int>& shape, const LrnSettings& s, bool within) {
    Blob<Dtype> bottom(shape);
    FillGaussian<Dtype>(&bottom, 1.5);
    Blob<Dtype> top;
    auto layer = MakeLayer<Dtype>(LrnText(s, within), &context_);
    layer->SetUp({&bottom}, {&top});
    layer->Forward({&bottom}, {&top});
    ASSERT_EQ(top.shape(), bottom.shape());
    const std::vector<double> expected = within ? DirectWithin(bottom, s) : DirectAcross(bottom, s);
    const double tol = std::is_same<Dtype, float>::value ? 1e-5 : 1e-12;
    for (int i = 0; i < top.count(); ++i) {
      ASSERT_NEAR(top.cpu_data()[i], expected[i], tol * std::max(1.0, std::fabs(expected[i])))
          << "element " << i;
    }
  }

  void CheckGradient(const std::vector<int>& shape, const LrnSettings& s, bool within) {
    Blob<Dtype> bottom(shape);
    FillGaussian<Dtype>(&bottom, 1.0);
    Blob<Dtype> top;
    auto layer = MakeLayer<Dtype>(LrnText(s, within), &context_);
    GradientChecker<Dtype> checker;
    checker.Check(layer.get(), {&bottom}, {&top});
  }

  Context context_;
};
TYPED_TEST_SUITE(LrnTest, TestDtypes);

TYPED_TEST(LrnTest, ForwardAcrossChannels) {
  this->CheckForward({2, 7, 3, 2}, {5, 0.3, 0.75, 2}, false);
}

TYPED_TEST(LrnTest, ForwardAcrossChannelsDefaults) {
  // Fewer channels than the window: the window is clipped on both sides.
  this->CheckForward({1, 2, 2, 3}, {5, 1, 0.75, 1}, false);
  this->CheckForward({3, 4, 1, 1}, {3, 2, 0.5, 1}, false);
}

TYPED_TEST(LrnTest, ForwardWithinChannel) {
  this->CheckForward({2, 2, 5, 4}, {3, 0.4, 0.6, 1}, true);
  // k plays no part in this mode.
  this->CheckForward({1, 3, 3, 3}, {5, 2, 0.75, 7}, true);
}

TYPED_TEST(LrnTest, ForwardByHand) {
  using Dtype = TypeParam;
  // Two channels, window 3 covers both: scale = 1 + 1/3 * (1 + 4) = 8/3.
  Blob<Dtype> bottom(1, 2, 1, 1);
  bottom.mutable_cpu_data()[0] = 1;
  bottom.mutable_cpu_data()[1] = 2;
  Blob<Dtype> top;
  auto layer = MakeLayer<Dtype>("name: 'n' type: 'LRN' lrn_param { local_size: 3 beta: 1 }",
                                &this->context_);
  layer->SetUp({&bottom}, {&top});
  layer->Forward({&bottom}, {&top});
  EXPECT_NEAR(top.cpu_data()[0], 3.0 / 8, 1e-6);
  EXPECT_NEAR(top.cpu_data()[1], 6.0 / 8, 1e-6);
}

TYPED_TEST(LrnTest, RejectsBadInput) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(1, 3, 2, 2);
  Blob<Dtype> top;
  auto even =
      MakeLayer<Dtype>("name: 'n' type: 'LRN' lrn_param { local_size: 4 }", &this->context_);
  EXPECT_THROW(even->SetUp({&bottom}, {&top}), ConfigError);
  Blob<Dtype> flat({3, 2, 2});
  auto layer = MakeLayer<Dtype>("name: 'n' type: 'LRN'", &this->context_);
  EXPECT_THROW(layer->SetUp({&flat}, {&top}), ShapeError);
}

TYPED_TEST(LrnTest, GradientAcrossChannels) {
  this->CheckGradient({1, 5, 2, 3}, {3, 0.8, 0.75, 1.5}, false);
  this->CheckGradient({2, 3, 1, 2}, {5, 1, 0.75, 1}, false);
}

TYPED_TEST(LrnTest, GradientWithinChannel) {
  this->CheckGradient({1, 2, 4, 3}, {3, 0.9, 0.75, 1}, true);
  this->CheckGradient({2, 1, 3, 2}, {5, 2, 0.6, 1}, true);
}

}  // namespace
}  // namespace moka::test
