#include <gtest/gtest.h>

#include <vector>

#include "gradient_checker.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

using Shape = std::vector<int>;

template <typename Dtype>
class CropTest : public ::testing::Test {
 protected:
  CropTest() : bottom_(Shape{2, 3, 5, 6}), reference_(Shape{1, 2, 3, 4}) {
    FillUniform<Dtype>(&bottom_, -1, 1);
  }
  Context context_;
  Blob<Dtype> bottom_, reference_;
  Blob<Dtype> top_;
};
TYPED_TEST_SUITE(CropTest, TestDtypes);

TYPED_TEST(CropTest, DefaultAxisCropsSpatialAxes) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 'c' type: 'Crop' crop_param { offset: 1 }", &this->context_);
  layer->SetUp({&this->bottom_, &this->reference_}, {&this->top_});
  EXPECT_EQ(this->top_.shape(), (Shape{2, 3, 3, 4}));
  layer->Forward({&this->bottom_, &this->reference_}, {&this->top_});
  for (int n = 0; n < 2; ++n)
    for (int c = 0; c < 3; ++c)
      for (int h = 0; h < 3; ++h)
        for (int w = 0; w < 4; ++w)
          EXPECT_EQ(this->top_.data_at(n, c, h, w), this->bottom_.data_at(n, c, h + 1, w + 1));
}

TYPED_TEST(CropTest, PerAxisOffsetsAndBackward) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>(
      "name: 'c' type: 'Crop' crop_param { axis: 1 offset: 1 offset: 2 offset: 0 }",
      &this->context_);
  layer->SetUp({&this->bottom_, &this->reference_}, {&this->top_});
  EXPECT_EQ(this->top_.shape(), (Shape{2, 2, 3, 4}));
  layer->Forward({&this->bottom_, &this->reference_}, {&this->top_});
  for (int n = 0; n < 2; ++n)
    for (int c = 0; c < 2; ++c)
      for (int h = 0; h < 3; ++h)
        for (int w = 0; w < 4; ++w)
          EXPECT_EQ(this->top_.data_at(n, c, h, w), this->bottom_.data_at(n, c + 1, h + 2, w));
  this->top_.set_diff(1);
  layer->Backward({&this->top_}, {true, false}, {&this->bottom_, &this->reference_});
  for (int n = 0; n < 2; ++n)
    for (int c = 0; c < 3; ++c)
      for (int h = 0; h < 5; ++h)
        for (int w = 0; w < 6; ++w) {
          const bool inside = c >= 1 && h >= 2 && w < 4;
          EXPECT_EQ(this->bottom_.diff_at(n, c, h, w), inside ? 1 : 0);
        }
}

TYPED_TEST(CropTest, Gradient) {
  using Dtype = TypeParam;
  GradientCheckOptions<Dtype> options;
  options.check_bottoms = {0};
  Blob<Dtype> bottom(Shape{2, 3, 4});
  Blob<Dtype> reference(Shape{2, 2, 3});
  FillUniform<Dtype>(&bottom, -1, 1, 3);
  auto layer =
      MakeLayer<Dtype>("name: 'c' type: 'Crop' crop_param { axis: -2 offset: 1 }", &this->context_);
  GradientChecker<Dtype>(options).Check(layer.get(), {&bottom, &reference}, {&this->top_});
}

TYPED_TEST(CropTest, Errors) {
  using Dtype = TypeParam;
  auto out_of_bounds =
      MakeLayer<Dtype>("name: 'c' type: 'Crop' crop_param { offset: 3 }", &this->context_);
  EXPECT_THROW(out_of_bounds->SetUp({&this->bottom_, &this->reference_}, {&this->top_}),
               ShapeError);
  auto wrong_offsets = MakeLayer<Dtype>(
      "name: 'c' type: 'Crop' crop_param { offset: 1 offset: 1 offset: 1 }", &this->context_);
  EXPECT_THROW(wrong_offsets->SetUp({&this->bottom_, &this->reference_}, {&this->top_}),
               ConfigError);
  Blob<Dtype> flat(Shape{2, 3});
  auto axes = MakeLayer<Dtype>("name: 'c' type: 'Crop'", &this->context_);
  EXPECT_THROW(axes->SetUp({&this->bottom_, &flat}, {&this->top_}), ShapeError);
}

}  // namespace
}  // namespace moka::test
