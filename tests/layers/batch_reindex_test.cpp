#include <gtest/gtest.h>

#include <vector>

#include "gradient_checker.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

using Shape = std::vector<int>;

template <typename Dtype>
class BatchReindexTest : public ::testing::Test {
 protected:
  BatchReindexTest() : data_(Shape{3, 2, 2}), index_(Shape{5}) {
    FillUniform<Dtype>(&data_, -1, 1);
    const Dtype idx[] = {2, 0, 2, 1, 2};
    std::copy(idx, idx + 5, index_.mutable_cpu_data());
  }
  Context context_;
  Blob<Dtype> data_, index_;
  Blob<Dtype> top_;
};
TYPED_TEST_SUITE(BatchReindexTest, TestDtypes);

TYPED_TEST(BatchReindexTest, GathersAndSumsBack) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 'r' type: 'BatchReindex'", &this->context_);
  layer->SetUp({&this->data_, &this->index_}, {&this->top_});
  EXPECT_EQ(this->top_.shape(), (Shape{5, 2, 2}));
  layer->Forward({&this->data_, &this->index_}, {&this->top_});
  const int idx[] = {2, 0, 2, 1, 2};
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 4; ++j)
      EXPECT_EQ(this->top_.cpu_data()[i * 4 + j], this->data_.cpu_data()[idx[i] * 4 + j]);
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 4; ++j) this->top_.mutable_cpu_diff()[i * 4 + j] = Dtype(i + 1);
  layer->Backward({&this->top_}, {true, false}, {&this->data_, &this->index_});
  const Dtype expected[] = {2, 4, 1 + 3 + 5};
  for (int n = 0; n < 3; ++n)
    for (int j = 0; j < 4; ++j) EXPECT_EQ(this->data_.cpu_diff()[n * 4 + j], expected[n]) << n;
}

TYPED_TEST(BatchReindexTest, Gradient) {
  using Dtype = TypeParam;
  GradientCheckOptions<Dtype> options;
  options.check_bottoms = {0};
  auto layer = MakeLayer<Dtype>("name: 'r' type: 'BatchReindex'", &this->context_);
  GradientChecker<Dtype>(options).Check(layer.get(), {&this->data_, &this->index_}, {&this->top_});
}

TYPED_TEST(BatchReindexTest, Errors) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 'r' type: 'BatchReindex'", &this->context_);
  this->index_.mutable_cpu_data()[3] = 3;
  layer->SetUp({&this->data_, &this->index_}, {&this->top_});
  EXPECT_THROW(layer->Forward({&this->data_, &this->index_}, {&this->top_}), ShapeError);
  Blob<Dtype> index_2d(Shape{5, 1});
  EXPECT_THROW(layer->SetUp({&this->data_, &index_2d}, {&this->top_}), ShapeError);
  EXPECT_THROW(layer->Backward({&this->top_}, {false, true}, {&this->data_, &this->index_}),
               ConfigError);
}

}  // namespace
}  // namespace moka::test
