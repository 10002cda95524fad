#include <gtest/gtest.h>

#include <vector>

#include "test_util.hpp"

namespace moka::test {
namespace {

using Shape = std::vector<int>;

template <typename Dtype>
class ParameterTest : public ::testing::Test {
 protected:
  Context context_;
  Blob<Dtype> top_;
};
TYPED_TEST_SUITE(ParameterTest, TestDtypes);

TYPED_TEST(ParameterTest, TopIsTheBlob) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>(
      "name: 'p' type: 'Parameter' parameter_param { shape { dim: 2 dim: 3 } }", &this->context_);
  layer->SetUp({}, {&this->top_});
  ASSERT_EQ(layer->blobs().size(), 1u);
  EXPECT_EQ(layer->blobs()[0]->shape(), (Shape{2, 3}));
  EXPECT_EQ(this->top_.shape(), (Shape{2, 3}));
  for (int i = 0; i < 6; ++i) EXPECT_EQ(layer->blobs()[0]->cpu_data()[i], 0);
  for (int i = 0; i < 6; ++i) layer->blobs()[0]->mutable_cpu_data()[i] = Dtype(i);
  layer->Forward({}, {&this->top_});
  for (int i = 0; i < 6; ++i) EXPECT_EQ(this->top_.cpu_data()[i], Dtype(i));
  // A gradient written to the top is the parameter's gradient.
  this->top_.set_diff(3);
  layer->Backward({&this->top_}, {}, {});
  for (int i = 0; i < 6; ++i) EXPECT_EQ(layer->blobs()[0]->cpu_diff()[i], 3);
}

TYPED_TEST(ParameterTest, RefusesBottoms) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 'p' type: 'Parameter' parameter_param { shape { dim: 2 } }",
                                &this->context_);
  Blob<Dtype> bottom(Shape{2});
  EXPECT_THROW(layer->SetUp({&bottom}, {&this->top_}), ConfigError);
}

}  // namespace
}  // namespace moka::test
