#include <gtest/gtest.h>

#include <vector>

#include "gradient_checker.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

using Shape = std::vector<int>;

template <typename Dtype>
class EmbedTest : public ::testing::Test {
 protected:
  EmbedTest() : bottom_(Shape{2, 3}) {
    const Dtype x[] = {0, 4, 2, 2, 1, 4};
    std::copy(x, x + 6, bottom_.mutable_cpu_data());
  }
  Context context_;
  Blob<Dtype> bottom_;
  Blob<Dtype> top_;
};
TYPED_TEST_SUITE(EmbedTest, TestDtypes);

TYPED_TEST(EmbedTest, ForwardLooksUpRows) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>(
      "name: 'e' type: 'Embed' embed_param { num_output: 3 input_dim: 5 "
      "weight_filler { type: 'uniform' } bias_filler { type: 'uniform' } }",
      &this->context_);
  layer->SetUp({&this->bottom_}, {&this->top_});
  EXPECT_EQ(layer->blobs()[0]->shape(), (Shape{5, 3}));
  EXPECT_EQ(layer->blobs()[1]->shape(), (Shape{3}));
  EXPECT_EQ(this->top_.shape(), (Shape{2, 3, 3}));
  layer->Forward({&this->bottom_}, {&this->top_});
  const Dtype* w = layer->blobs()[0]->cpu_data();
  const Dtype* b = layer->blobs()[1]->cpu_data();
  for (int n = 0; n < 6; ++n) {
    const int k = static_cast<int>(this->bottom_.cpu_data()[n]);
    for (int j = 0; j < 3; ++j) EXPECT_EQ(this->top_.cpu_data()[n * 3 + j], w[k * 3 + j] + b[j]);
  }
}

TYPED_TEST(EmbedTest, GradientReachesParametersOnly) {
  using Dtype = TypeParam;
  GradientCheckOptions<Dtype> options;
  options.check_bottoms = {-1};  // no bottom: the indices are not differentiable
  auto layer = MakeLayer<Dtype>(
      "name: 'e' type: 'Embed' embed_param { num_output: 3 input_dim: 5 "
      "weight_filler { type: 'gaussian' } bias_filler { type: 'gaussian' } }",
      &this->context_);
  GradientChecker<Dtype>(options).Check(layer.get(), {&this->bottom_}, {&this->top_});
  EXPECT_THROW(layer->Backward({&this->top_}, {true}, {&this->bottom_}), ConfigError);
}

TYPED_TEST(EmbedTest, RefusesBadIndices) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>(
      "name: 'e' type: 'Embed' embed_param { num_output: 3 input_dim: 4 }", &this->context_);
  layer->SetUp({&this->bottom_}, {&this->top_});
  EXPECT_THROW(layer->Forward({&this->bottom_}, {&this->top_}), ShapeError);  // index 4
  this->bottom_.mutable_cpu_data()[1] = Dtype(1.5);
  this->bottom_.mutable_cpu_data()[5] = 0;
  EXPECT_THROW(layer->Forward({&this->bottom_}, {&this->top_}), ShapeError);  // not an integer
  auto no_dim =
      MakeLayer<Dtype>("name: 'e' type: 'Embed' embed_param { num_output: 3 }", &this->context_);
  EXPECT_THROW(no_dim->SetUp({&this->bottom_}, {&this->top_}), ConfigError);
}

}  // namespace
}  // namespace moka::test
