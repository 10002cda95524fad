#include <vector>

#include "gradient_checker.hpp"
#include "test_util.hpp"

namespace moka {
namespace {

template <typename Dtype>
class EuclideanLossTest : public ::testing::Test {
 protected:
  Context context_;
};

TYPED_TEST_SUITE(EuclideanLossTest, test::TestDtypes);

TYPED_TEST(EuclideanLossTest, ForwardAndBackwardByHand) {
  using Dtype = TypeParam;
  Blob<Dtype> a({2, 3}), b({2, 3}), loss;
  const double av[] = {1, 2, 3, -1, 0.5, 4};
  const double bv[] = {0, 2, 5, 1, 0.5, 1};
  for (int i = 0; i < 6; ++i) {
    a.mutable_cpu_data()[i] = static_cast<Dtype>(av[i]);
    b.mutable_cpu_data()[i] = static_cast<Dtype>(bv[i]);
  }
  auto layer = test::MakeLayer<Dtype>("type: 'EuclideanLoss' loss_weight: 2", &this->context_);
  std::vector<Blob<Dtype>*> bottoms = {&a, &b}, tops = {&loss};
  layer->SetUp(bottoms, tops);
  EXPECT_EQ(loss.num_axes(), 0);
  const Dtype weighted = layer->Forward(bottoms, tops);
  // Squared differences 1 + 0 + 4 + 4 + 0 + 9 = 18; / (2 * N) with N = 2.
  EXPECT_NEAR(loss.cpu_data()[0], 4.5, 1e-6);
  EXPECT_NEAR(weighted, 9.0, 1e-6);
  EXPECT_TRUE(layer->AllowForceBackward(1));
  layer->Backward(tops, {true, true}, bottoms);
  for (int i = 0; i < 6; ++i) {
    EXPECT_NEAR(a.cpu_diff()[i], 2.0 / 2 * (av[i] - bv[i]), 1e-6);
    EXPECT_NEAR(b.cpu_diff()[i], -2.0 / 2 * (av[i] - bv[i]), 1e-6);
  }
}

TYPED_TEST(EuclideanLossTest, MismatchedShapesThrow) {
  Blob<TypeParam> a({2, 3}), b({2, 4}), c({3, 3}), loss;
  auto layer = test::MakeLayer<TypeParam>("type: 'EuclideanLoss'", &this->context_);
  EXPECT_THROW(layer->SetUp({&a, &b}, {&loss}), ShapeError);
  EXPECT_THROW(layer->SetUp({&a, &c}, {&loss}), ShapeError);
}

TYPED_TEST(EuclideanLossTest, GradientBothBottoms) {
  using Dtype = TypeParam;
  for (const std::vector<int>& shape : {std::vector<int>{3, 5}, std::vector<int>{1, 2, 3, 1}}) {
    Blob<Dtype> a(shape), b(shape), loss;
    test::FillGaussian<Dtype>(&a, 1, 3);
    test::FillGaussian<Dtype>(&b, 1, 4);
    auto layer = test::MakeLayer<Dtype>("type: 'EuclideanLoss'", &this->context_);
    test::GradientChecker<Dtype>().Check(layer.get(), {&a, &b}, {&loss});
  }
}

}  // namespace
}  // namespace moka
