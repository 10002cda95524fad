#include <gtest/gtest.h>

#include <vector>

#include "gradient_checker.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

using Shape = std::vector<int>;

template <typename Dtype>
class SplitTest : public ::testing::Test {
 protected:
  SplitTest() : bottom_(Shape{2, 3, 5}) { FillGaussian<Dtype>(&bottom_); }
  std::vector<Blob<Dtype>*> Tops() { return {&tops_[0], &tops_[1], &tops_[2]}; }
  Context context_;
  Blob<Dtype> bottom_;
  Blob<Dtype> tops_[3];
};
TYPED_TEST_SUITE(SplitTest, TestDtypes);

TYPED_TEST(SplitTest, ThreeTopsShareDataAndSumDiffs) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 's' type: 'Split'", &this->context_);
  const auto top = this->Tops();
  layer->SetUp({&this->bottom_}, top);
  layer->Forward({&this->bottom_}, top);
  for (auto* t : top) {
    EXPECT_EQ(t->shape(), this->bottom_.shape());
    EXPECT_EQ(t->cpu_data(), this->bottom_.cpu_data());
    EXPECT_NE(t->cpu_diff(), this->bottom_.cpu_diff());
  }
  top[0]->set_diff(1);
  top[1]->set_diff(2);
  FillGaussian<Dtype>(top[2], 1, 9);
  cpu_copy(top[2]->count(), top[2]->cpu_data(), top[2]->mutable_cpu_diff());
  layer->Backward(top, {true}, {&this->bottom_});
  for (int i = 0; i < this->bottom_.count(); ++i)
    EXPECT_EQ(this->bottom_.cpu_diff()[i], Dtype(3) + top[2]->cpu_diff()[i]);
}

TYPED_TEST(SplitTest, OneTopCopiesDiff) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 's' type: 'Split'", &this->context_);
  layer->SetUp({&this->bottom_}, {&this->tops_[0]});
  layer->Forward({&this->bottom_}, {&this->tops_[0]});
  this->tops_[0].set_diff(5);
  layer->Backward({&this->tops_[0]}, {true}, {&this->bottom_});
  EXPECT_EQ(this->bottom_.cpu_diff()[7], Dtype(5));
}

TYPED_TEST(SplitTest, RejectsInPlace) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 's' type: 'Split'", &this->context_);
  EXPECT_THROW(layer->SetUp({&this->bottom_}, {&this->tops_[0], &this->bottom_}), ConfigError);
}

TYPED_TEST(SplitTest, Gradient) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(Shape{1, 3, 1, 5});
  FillGaussian<Dtype>(&bottom);
  auto layer = MakeLayer<Dtype>("name: 's' type: 'Split'", &this->context_);
  GradientChecker<Dtype>().Check(layer.get(), {&bottom}, this->Tops());
}

}  // namespace
}  // namespace moka::test
