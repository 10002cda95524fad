#include <vector>

#include "test_util.hpp"

namespace moka {
namespace {

template <typename Dtype>
class InputTest : public ::testing::Test {
 protected:
  Context context_;
};

TYPED_TEST_SUITE(InputTest, test::TestDtypes);

TYPED_TEST(InputTest, OneShapeForAllTops) {
  Blob<TypeParam> a, b;
  auto layer = test::MakeLayer<TypeParam>(
      "type: 'Input' input_param { shape { dim: 2 dim: 3 dim: 5 } }", &this->context_);
  layer->SetUp({}, {&a, &b});
  EXPECT_EQ(a.shape(), std::vector<int>({2, 3, 5}));
  EXPECT_EQ(b.shape(), std::vector<int>({2, 3, 5}));
}

TYPED_TEST(InputTest, ShapePerTopAndReshapeKeepsUserShape) {
  using Dtype = TypeParam;
  Blob<Dtype> a, b;
  auto layer = test::MakeLayer<Dtype>(
      "type: 'Input' input_param { shape { dim: 1 dim: 3 } shape { dim: 4 } }", &this->context_);
  std::vector<Blob<Dtype>*> tops = {&a, &b};
  layer->SetUp({}, tops);
  EXPECT_EQ(a.shape(), std::vector<int>({1, 3}));
  EXPECT_EQ(b.shape(), std::vector<int>({4}));
  // A caller reshapes an input; later forwards must leave it (and its data) alone.
  a.Reshape({7, 3});
  a.mutable_cpu_data()[20] = Dtype(2.5);
  layer->Reshape({}, tops);
  layer->Forward({}, tops);
  EXPECT_EQ(a.shape(), std::vector<int>({7, 3}));
  EXPECT_EQ(a.cpu_data()[20], Dtype(2.5));
  EXPECT_NO_THROW(layer->Backward(tops, {}, {}));
}

TYPED_TEST(InputTest, NoShapeLeavesTops) {
  Blob<TypeParam> a({2, 2});
  auto layer = test::MakeLayer<TypeParam>("type: 'Input'", &this->context_);
  layer->SetUp({}, {&a});
  EXPECT_EQ(a.shape(), std::vector<int>({2, 2}));
}

TYPED_TEST(InputTest, BadCountsThrow) {
  Blob<TypeParam> a, b, c;
  auto layer = test::MakeLayer<TypeParam>(
      "type: 'Input' input_param { shape { dim: 1 } shape { dim: 2 } }", &this->context_);
  EXPECT_THROW(layer->SetUp({}, {&a, &b, &c}), ConfigError);
  EXPECT_THROW(layer->SetUp({&a}, {&b, &c}), ConfigError);  // no bottoms allowed
}

}  // namespace
}  // namespace moka
