#include <gtest/gtest.h>

#include <vector>

#include "gradient_checker.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

using Shape = std::vector<int>;

template <typename Dtype>
class SliceTest : public ::testing::Test {
 protected:
  SliceTest() : bottom_(Shape{2, 5, 2, 3}) { FillUniform<Dtype>(&bottom_, -1, 1); }
  Context context_;
  Blob<Dtype> bottom_;
  Blob<Dtype> a_, b_, c_;
};
TYPED_TEST_SUITE(SliceTest, TestDtypes);

TYPED_TEST(SliceTest, SlicePointsForwardAndBackward) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>(
      "name: 's' type: 'Slice' slice_param { slice_point: 1 slice_point: 3 }", &this->context_);
  const std::vector<Blob<Dtype>*> tops = {&this->a_, &this->b_, &this->c_};
  layer->SetUp({&this->bottom_}, tops);
  EXPECT_EQ(this->a_.shape(), (Shape{2, 1, 2, 3}));
  EXPECT_EQ(this->b_.shape(), (Shape{2, 2, 2, 3}));
  EXPECT_EQ(this->c_.shape(), (Shape{2, 2, 2, 3}));
  layer->Forward({&this->bottom_}, tops);
  const int offsets[] = {0, 1, 3};
  for (int t = 0; t < 3; ++t) {
    Blob<Dtype>& top = *tops[t];
    for (int n = 0; n < 2; ++n)
      for (int c = 0; c < top.shape(1); ++c)
        for (int h = 0; h < 2; ++h)
          for (int w = 0; w < 3; ++w)
            EXPECT_EQ(top.data_at(n, c, h, w), this->bottom_.data_at(n, c + offsets[t], h, w));
    cpu_copy(top.count(), top.cpu_data(), top.mutable_cpu_diff());
  }
  layer->Backward(tops, {true}, {&this->bottom_});
  for (int i = 0; i < this->bottom_.count(); ++i) {
    EXPECT_EQ(this->bottom_.cpu_diff()[i], this->bottom_.cpu_data()[i]);
  }
}

TYPED_TEST(SliceTest, EqualPartsAlongAxisZeroViaSliceDim) {
  using Dtype = TypeParam;
  auto layer =
      MakeLayer<Dtype>("name: 's' type: 'Slice' slice_param { slice_dim: 0 }", &this->context_);
  layer->SetUp({&this->bottom_}, {&this->a_, &this->b_});
  EXPECT_EQ(this->a_.shape(), (Shape{1, 5, 2, 3}));
  layer->Forward({&this->bottom_}, {&this->a_, &this->b_});
  for (int i = 0; i < 30; ++i) {
    EXPECT_EQ(this->a_.cpu_data()[i], this->bottom_.cpu_data()[i]);
    EXPECT_EQ(this->b_.cpu_data()[i], this->bottom_.cpu_data()[30 + i]);
  }
}

TYPED_TEST(SliceTest, Gradient) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 's' type: 'Slice' slice_param { axis: -1 slice_point: 2 }",
                                &this->context_);
  GradientChecker<Dtype>().Check(layer.get(), {&this->bottom_}, {&this->a_, &this->b_});
}

TYPED_TEST(SliceTest, Errors) {
  using Dtype = TypeParam;
  auto uneven = MakeLayer<Dtype>("name: 's' type: 'Slice'", &this->context_);
  EXPECT_THROW(uneven->SetUp({&this->bottom_}, {&this->a_, &this->b_}), ShapeError);
  auto wrong_count =
      MakeLayer<Dtype>("name: 's' type: 'Slice' slice_param { slice_point: 2 }", &this->context_);
  EXPECT_THROW(wrong_count->SetUp({&this->bottom_}, {&this->a_, &this->b_, &this->c_}),
               ConfigError);
  auto decreasing = MakeLayer<Dtype>(
      "name: 's' type: 'Slice' slice_param { slice_point: 3 slice_point: 2 }", &this->context_);
  EXPECT_THROW(decreasing->SetUp({&this->bottom_}, {&this->a_, &this->b_, &this->c_}), ConfigError);
  auto past_end =
      MakeLayer<Dtype>("name: 's' type: 'Slice' slice_param { slice_point: 5 }", &this->context_);
  EXPECT_THROW(past_end->SetUp({&this->bottom_}, {&this->a_, &this->b_}), ShapeError);
}

}  // namespace
}  // namespace moka::test
