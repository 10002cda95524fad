#include <gtest/gtest.h>

#include <vector>

#include "gradient_checker.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

using Shape = std::vector<int>;

template <typename Dtype>
class ReshapeTest : public ::testing::Test {
 protected:
  ReshapeTest() : bottom_(Shape{2, 3, 6, 5}) { FillGaussian<Dtype>(&bottom_); }
  std::shared_ptr<Layer<Dtype>> Make(const std::string& param) {
    return MakeLayer<Dtype>("name: 'r' type: 'Reshape' reshape_param { " + param + " }",
                            &context_);
  }
  std::vector<int> TopShape(const std::string& param) {
    Make(param)->SetUp({&bottom_}, {&top_});
    return top_.shape();
  }
  Context context_;
  Blob<Dtype> bottom_;
  Blob<Dtype> top_;
};
TYPED_TEST_SUITE(ReshapeTest, TestDtypes);

TYPED_TEST(ReshapeTest, ExplicitShape) {
  EXPECT_EQ(this->TopShape("shape { dim: 6 dim: 2 dim: 3 dim: 5 }"), (Shape{6, 2, 3, 5}));
  EXPECT_EQ(this->TopShape("shape { dim: 180 }"), (Shape{180}));
}

TYPED_TEST(ReshapeTest, ZeroCopiesTheBottomDimension) {
  EXPECT_EQ(this->TopShape("shape { dim: 0 dim: 0 dim: 0 dim: 0 }"), (Shape{2, 3, 6, 5}));
  EXPECT_EQ(this->TopShape("shape { dim: 0 dim: 3 dim: 0 dim: 5 }"), (Shape{2, 3, 6, 5}));
  EXPECT_EQ(this->TopShape("shape { dim: 0 dim: 0 dim: 30 }"), (Shape{2, 3, 30}));
}

TYPED_TEST(ReshapeTest, MinusOneIsInferred) {
  EXPECT_EQ(this->TopShape("shape { dim: 0 dim: -1 }"), (Shape{2, 90}));
  EXPECT_EQ(this->TopShape("shape { dim: -1 dim: 0 }"), (Shape{60, 3}));
  EXPECT_EQ(this->TopShape("shape { dim: 0 dim: 3 dim: 10 dim: -1 }"), (Shape{2, 3, 10, 3}));
  EXPECT_EQ(this->TopShape("shape { dim: -1 }"), (Shape{180}));
}

TYPED_TEST(ReshapeTest, AxisAndNumAxes) {
  // Insert singleton axes at the start, middle and end.
  EXPECT_EQ(this->TopShape("axis: 0 num_axes: 0 shape { dim: 1 dim: 1 }"),
            (Shape{1, 1, 2, 3, 6, 5}));
  EXPECT_EQ(this->TopShape("axis: 2 num_axes: 0 shape { dim: 1 }"), (Shape{2, 3, 1, 6, 5}));
  EXPECT_EQ(this->TopShape("axis: -1 num_axes: 0 shape { dim: 1 dim: 1 }"),
            (Shape{2, 3, 6, 5, 1, 1}));
  // Flatten the middle two axes, and the last two.
  EXPECT_EQ(this->TopShape("axis: 1 num_axes: 2 shape { dim: -1 }"), (Shape{2, 18, 5}));
  EXPECT_EQ(this->TopShape("axis: -3 num_axes: 2 shape { dim: -1 }"), (Shape{2, 3, 30}));
  // Zeros count from `axis`, and -1 accounts for the axes outside the replaced range.
  EXPECT_EQ(this->TopShape("axis: 1 num_axes: 2 shape { dim: 0 dim: -1 dim: 2 }"),
            (Shape{2, 3, 3, 2, 5}));
  EXPECT_EQ(this->TopShape("axis: 1 shape { dim: -1 dim: 0 }"), (Shape{2, 15, 6}));
}

TYPED_TEST(ReshapeTest, SharesDataAndDiff) {
  using Dtype = TypeParam;
  auto layer = this->Make("shape { dim: 0 dim: -1 }");
  layer->SetUp({&this->bottom_}, {&this->top_});
  layer->Forward({&this->bottom_}, {&this->top_});
  EXPECT_EQ(this->top_.cpu_data(), this->bottom_.cpu_data());
  EXPECT_EQ(this->top_.cpu_data()[95], this->bottom_.data_at(1, 0, 1, 0));
  this->top_.set_diff(-3);
  layer->Backward({&this->top_}, {true}, {&this->bottom_});
  EXPECT_EQ(this->bottom_.cpu_diff()[179], Dtype(-3));
  // A new bottom shape reshapes the top again.
  this->bottom_.Reshape({4, 3, 2, 5});
  layer->Forward({&this->bottom_}, {&this->top_});
  EXPECT_EQ(this->top_.shape(), (Shape{4, 30}));
  EXPECT_EQ(this->top_.cpu_data(), this->bottom_.cpu_data());
}

TYPED_TEST(ReshapeTest, Errors) {
  using Dtype = TypeParam;
  Blob<Dtype>* b = &this->bottom_;
  Blob<Dtype>* t = &this->top_;
  EXPECT_THROW(this->Make("shape { dim: -1 dim: -1 }")->SetUp({b}, {t}), ConfigError);
  EXPECT_THROW(this->Make("shape { dim: -2 dim: 90 }")->SetUp({b}, {t}), ConfigError);
  EXPECT_THROW(this->Make("shape { dim: -1 dim: 7 }")->SetUp({b}, {t}), ShapeError);
  EXPECT_THROW(this->Make("shape { dim: 2 dim: 3 dim: 4 }")->SetUp({b}, {t}), ShapeError);
  EXPECT_THROW(this->Make("shape { dim: 0 dim: 0 dim: 0 dim: 0 dim: 0 }")->SetUp({b}, {t}),
               ShapeError);
  EXPECT_THROW(this->Make("axis: 2 shape { dim: 0 dim: 0 dim: 0 }")->SetUp({b}, {t}), ShapeError);
  EXPECT_THROW(this->Make("axis: 5 shape { dim: 1 }")->SetUp({b}, {t}), ShapeError);
  EXPECT_THROW(this->Make("axis: -6 shape { dim: 1 }")->SetUp({b}, {t}), ShapeError);
  EXPECT_THROW(this->Make("axis: 2 num_axes: 3 shape { dim: -1 }")->SetUp({b}, {t}), ShapeError);
  EXPECT_THROW(this->Make("num_axes: -2 shape { dim: -1 }")->SetUp({b}, {t}), ConfigError);
  EXPECT_THROW(this->Make("shape { dim: 0 dim: -1 }")->SetUp({b}, {b}), ConfigError);
  try {
    this->Make("shape { dim: 2 dim: 3 dim: 4 }")->SetUp({b}, {t});
    FAIL();
  } catch (const ShapeError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("layer 'r' (Reshape)"), std::string::npos) << message;
    EXPECT_NE(message.find("2 3 6 5 (180)"), std::string::npos) << message;
  }
}

TYPED_TEST(ReshapeTest, Gradient) {
  using Dtype = TypeParam;
  Blob<Dtype> bottom(Shape{1, 3, 2, 3});
  FillGaussian<Dtype>(&bottom);
  auto layer = this->Make("shape { dim: -1 dim: 2 }");
  GradientChecker<Dtype>().Check(layer.get(), {&bottom}, {&this->top_});
}

}  // namespace
}  // namespace moka::test
