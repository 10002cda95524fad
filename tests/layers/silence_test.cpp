#include <gtest/gtest.h>

#include <vector>

#include "gradient_checker.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

using Shape = std::vector<int>;

template <typename Dtype>
class SilenceTest : public ::testing::Test {
 protected:
  Context context_;
};
TYPED_TEST_SUITE(SilenceTest, TestDtypes);

TYPED_TEST(SilenceTest, NoTopsAndZeroDiffs) {
  using Dtype = TypeParam;
  Blob<Dtype> a(Shape{2, 3}), b(Shape{4});
  FillGaussian<Dtype>(&a);
  a.set_diff(5);
  b.set_diff(6);
  auto layer = MakeLayer<Dtype>("name: 's' type: 'Silence'", &this->context_);
  layer->SetUp({&a, &b}, {});
  EXPECT_EQ(layer->Forward({&a, &b}, {}), Dtype(0));
  layer->Backward({}, {true, false}, {&a, &b});
  for (int i = 0; i < a.count(); ++i) EXPECT_EQ(a.cpu_diff()[i], Dtype(0));
  for (int i = 0; i < b.count(); ++i) EXPECT_EQ(b.cpu_diff()[i], Dtype(6));
}

TYPED_TEST(SilenceTest, RejectsTops) {
  using Dtype = TypeParam;
  Blob<Dtype> a(Shape{2}), top;
  auto layer = MakeLayer<Dtype>("name: 's' type: 'Silence'", &this->context_);
  EXPECT_THROW(layer->SetUp({&a}, {&top}), ConfigError);
  EXPECT_THROW(layer->SetUp({}, {}), ConfigError);
}

TYPED_TEST(SilenceTest, Gradient) {
  using Dtype = TypeParam;
  Blob<Dtype> a(Shape{1, 3, 2});
  FillGaussian<Dtype>(&a);
  auto layer = MakeLayer<Dtype>("name: 's' type: 'Silence'", &this->context_);
  GradientChecker<Dtype>().Check(layer.get(), {&a}, {});
}

}  // namespace
}  // namespace moka::test
