#include <gtest/gtest.h>

#include <vector>

#include "gradient_checker.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

using Shape = std::vector<int>;

template <typename Dtype>
class FlattenTest : public ::testing::Test {
 protected:
  FlattenTest() : bottom_(Shape{2, 3, 6, 5}) { FillGaussian<Dtype>(&bottom_); }
  std::vector<int> TopShape(const std::string& param) {
    auto layer = MakeLayer<Dtype>("name: 'f' type: 'Flatten' " + param, &context_);
    layer->SetUp({&bottom_}, {&top_});
    return top_.shape();
  }
  Context context_;
  Blob<Dtype> bottom_;
  Blob<Dtype> top_;
};
TYPED_TEST_SUITE(FlattenTest, TestDtypes);

TYPED_TEST(FlattenTest, Shapes) {
  EXPECT_EQ(this->TopShape(""), (std::vector<int>{2, 90}));
  EXPECT_EQ(this->TopShape("flatten_param { axis: 2 }"), (std::vector<int>{2, 3, 30}));
  EXPECT_EQ(this->TopShape("flatten_param { end_axis: -2 }"), (std::vector<int>{2, 18, 5}));
  EXPECT_EQ(this->TopShape("flatten_param { axis: 0 end_axis: 1 }"),
            (std::vector<int>{6, 6, 5}));
  EXPECT_EQ(this->TopShape("flatten_param { axis: -1 }"), (std::vector<int>{2, 3, 6, 5}));
  EXPECT_EQ(this->TopShape("flatten_param { axis: 0 }"), (std::vector<int>{180}));
}

TYPED_TEST(FlattenTest, SharesDataAndDiff) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 'f' type: 'Flatten'", &this->context_);
  layer->SetUp({&this->bottom_}, {&this->top_});
  layer->Forward({&this->bottom_}, {&this->top_});
  EXPECT_EQ(this->top_.cpu_data(), this->bottom_.cpu_data());
  for (int n = 0; n < 2; ++n)
    for (int c = 0; c < 3; ++c)
      for (int h = 0; h < 6; ++h)
        for (int w = 0; w < 5; ++w)
          EXPECT_EQ(this->top_.cpu_data()[n * 90 + (c * 6 + h) * 5 + w],
                    this->bottom_.data_at(n, c, h, w));
  this->top_.set_diff(4);
  layer->Backward({&this->top_}, {true}, {&this->bottom_});
  EXPECT_EQ(this->bottom_.cpu_diff()[17], Dtype(4));
}

TYPED_TEST(FlattenTest, Errors) {
  using Dtype = TypeParam;
  auto reversed =
      MakeLayer<Dtype>("name: 'f' type: 'Flatten' flatten_param { axis: 2 end_axis: 1 }",
                       &this->context_);
  EXPECT_THROW(reversed->SetUp({&this->bottom_}, {&this->top_}), ConfigError);
  auto out_of_range =
      MakeLayer<Dtype>("name: 'f' type: 'Flatten' flatten_param { axis: 4 }", &this->context_);
  EXPECT_THROW(out_of_range->SetUp({&this->bottom_}, {&this->top_}), ShapeError);
  auto in_place = MakeLayer<Dtype>("name: 'f' type: 'Flatten'", &this->context_);
  EXPECT_THROW(in_place->SetUp({&this->bottom_}, {&this->bottom_}), ConfigError);
}

TYPED_TEST(FlattenTest, Gradient) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(Shape{1, 3, 2, 3});
  FillGaussian<Dtype>(&bottom);
  auto layer = MakeLayer<Dtype>("name: 'f' type: 'Flatten'", &this->context_);
  GradientChecker<Dtype>().Check(layer.get(), {&bottom}, {&this->top_});
}

}  // namespace
}  // namespace moka::test
