// Fillers follow Caffe's definitions: range, moments and normalisation of each type.
#include <gtest/gtest.h>

#include <cmath>

#include "filler.hpp"
#include "test_util.hpp"

namespace moka {
namespace {

template <typename Dtype>
class FillerTest : public ::testing::Test {
 protected:
  FillerParameter Param(const std::string& text) { return Parse<FillerParameter>(text); }
  template <typename Message>
  Message Parse(const std::string& text) {
    Message message;
    EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message)) << text;
    return message;
  }
  static void Moments(const Blob<Dtype>& blob, double* mean, double* variance) {
    double sum = 0, sum_sq = 0;
    for (int i = 0; i < blob.count(); ++i) {
      sum += blob.cpu_data()[i];
      sum_sq += double(blob.cpu_data()[i]) * blob.cpu_data()[i];
    }
    *mean = sum / blob.count();
    *variance = sum_sq / blob.count() - *mean * *mean;
  }
  std::mt19937_64 rng_{42};
};
TYPED_TEST_SUITE(FillerTest, test::TestDtypes);

TYPED_TEST(FillerTest, Constant) {
  Blob<TypeParam> blob({2, 3, 4});
  Fill(this->Param("type: 'constant' value: 2.5"), this->rng_, &blob);
  for (int i = 0; i < blob.count(); ++i) EXPECT_EQ(blob.cpu_data()[i], TypeParam(2.5));
}

TYPED_TEST(FillerTest, UniformStaysInRange) {
  Blob<TypeParam> blob({50, 40});
  Fill(this->Param("type: 'uniform' min: -0.5 max: 1.5"), this->rng_, &blob);
  double mean, variance;
  this->Moments(blob, &mean, &variance);
  for (int i = 0; i < blob.count(); ++i) {
    EXPECT_GE(blob.cpu_data()[i], TypeParam(-0.5));
    EXPECT_LE(blob.cpu_data()[i], TypeParam(1.5));
  }
  EXPECT_NEAR(mean, 0.5, 0.05);
  EXPECT_NEAR(variance, 4.0 / 12, 0.03);
}

TYPED_TEST(FillerTest, GaussianMoments) {
  Blob<TypeParam> blob({100, 50});
  Fill(this->Param("type: 'gaussian' mean: 1 std: 0.5"), this->rng_, &blob);
  double mean, variance;
  this->Moments(blob, &mean, &variance);
  EXPECT_NEAR(mean, 1.0, 0.03);
  EXPECT_NEAR(std::sqrt(variance), 0.5, 0.02);
}

TYPED_TEST(FillerTest, SparseGaussianKeepsAboutSparseOverOutputs) {
  Blob<TypeParam> blob({20, 1000});
  Fill(this->Param("type: 'gaussian' std: 1 sparse: 5"), this->rng_, &blob);
  int nonzero = 0;
  for (int i = 0; i < blob.count(); ++i) nonzero += blob.cpu_data()[i] != 0;
  // Each weight survives with probability sparse / num_outputs = 5 / 20.
  EXPECT_NEAR(double(nonzero) / blob.count(), 0.25, 0.02);
}

TYPED_TEST(FillerTest, PositiveUnitballRowsSumToOne) {
  Blob<TypeParam> blob({4, 3, 5});
  Fill(this->Param("type: 'positive_unitball'"), this->rng_, &blob);
  for (int n = 0; n < 4; ++n) {
    double sum = 0;
    for (int j = 0; j < 15; ++j) {
      const TypeParam v = blob.cpu_data()[n * 15 + j];
      EXPECT_GE(v, 0);
      sum += v;
    }
    EXPECT_NEAR(sum, 1.0, 1e-5);
  }
}

TYPED_TEST(FillerTest, XavierUsesFanInByDefault) {
  Blob<TypeParam> blob({64, 10, 3, 3});  // fan_in 90, fan_out 576
  for (const auto& [norm, n] : std::vector<std::pair<std::string, double>>{
           {"", 90.0}, {"variance_norm: FAN_OUT", 576.0}, {"variance_norm: AVERAGE", 333.0}}) {
    Fill(this->Param("type: 'xavier' " + norm), this->rng_, &blob);
    const double limit = std::sqrt(3.0 / n);
    double mean, variance;
    this->Moments(blob, &mean, &variance);
    for (int i = 0; i < blob.count(); ++i) EXPECT_LE(std::fabs(blob.cpu_data()[i]), limit + 1e-6);
    EXPECT_NEAR(variance, limit * limit / 3, limit * limit / 3 * 0.1) << norm;
  }
}

TYPED_TEST(FillerTest, MsraVariance) {
  Blob<TypeParam> blob({64, 10, 3, 3});
  Fill(this->Param("type: 'msra'"), this->rng_, &blob);
  double mean, variance;
  this->Moments(blob, &mean, &variance);
  EXPECT_NEAR(variance, 2.0 / 90, 2.0 / 90 * 0.1);
}

TYPED_TEST(FillerTest, BilinearKernel) {
  Blob<TypeParam> blob({1, 1, 4, 4});
  Fill(this->Param("type: 'bilinear'"), this->rng_, &blob);
  // Upsampling by 2: f = 2, c = 0.75; weights are (1 - |x/f - c|)(1 - |y/f - c|).
  const double w1[4] = {0.25, 0.75, 0.75, 0.25};
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x) EXPECT_NEAR(blob.cpu_data()[y * 4 + x], w1[y] * w1[x], 1e-6);
  Blob<TypeParam> flat({3, 4});
  EXPECT_THROW(Fill(this->Param("type: 'bilinear'"), this->rng_, &flat), ShapeError);
}

TYPED_TEST(FillerTest, UnknownTypeIsAConfigError) {
  Blob<TypeParam> blob({2});
  EXPECT_THROW(Fill(this->Param("type: 'magic'"), this->rng_, &blob), ConfigError);
}

TYPED_TEST(FillerTest, SameSeedSameValues) {
  Blob<TypeParam> a({10, 10}), b({10, 10});
  std::mt19937_64 rng_a(5), rng_b(5);
  Fill(this->Param("type: 'gaussian'"), rng_a, &a);
  Fill(this->Param("type: 'gaussian'"), rng_b, &b);
  for (int i = 0; i < a.count(); ++i) EXPECT_EQ(a.cpu_data()[i], b.cpu_data()[i]);
}

}  // namespace
}  // namespace moka
