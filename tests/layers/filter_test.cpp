#include <gtest/gtest.h>

#include <vector>

#include "gradient_checker.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

using Shape = std::vector<int>;

template <typename Dtype>
class FilterTest : public ::testing::Test {
 protected:
  FilterTest() : data_(Shape{4, 2, 3}), labels_(Shape{4}), selector_(Shape{4, 1}) {
    FillUniform<Dtype>(&data_, -1, 1);
    for (int i = 0; i < 4; ++i) labels_.mutable_cpu_data()[i] = Dtype(i);
    const Dtype select[] = {0, 1, 0, 1};
    std::copy(select, select + 4, selector_.mutable_cpu_data());
  }
  Context context_;
  Blob<Dtype> data_, labels_, selector_;
  Blob<Dtype> top_data_, top_labels_;
};
TYPED_TEST_SUITE(FilterTest, TestDtypes);

TYPED_TEST(FilterTest, KeepsSelectedItems) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 'f' type: 'Filter'", &this->context_);
  const std::vector<Blob<Dtype>*> bottom = {&this->data_, &this->labels_, &this->selector_};
  const std::vector<Blob<Dtype>*> top = {&this->top_data_, &this->top_labels_};
  layer->SetUp(bottom, top);
  EXPECT_EQ(this->top_data_.shape(0), 4);  // before any forward the whole batch is assumed
  layer->Forward(bottom, top);
  EXPECT_EQ(this->top_data_.shape(), (Shape{2, 2, 3}));
  EXPECT_EQ(this->top_labels_.shape(), (Shape{2}));
  EXPECT_EQ(this->top_labels_.cpu_data()[0], 1);
  EXPECT_EQ(this->top_labels_.cpu_data()[1], 3);
  for (int j = 0; j < 6; ++j) {
    EXPECT_EQ(this->top_data_.cpu_data()[j], this->data_.cpu_data()[6 + j]);
    EXPECT_EQ(this->top_data_.cpu_data()[6 + j], this->data_.cpu_data()[18 + j]);
  }
  this->top_data_.set_diff(2);
  this->data_.set_diff(7);
  layer->Backward(top, {true, false, false}, bottom);
  for (int n = 0; n < 4; ++n) {
    for (int j = 0; j < 6; ++j) EXPECT_EQ(this->data_.cpu_diff()[n * 6 + j], n % 2 ? 2 : 0);
  }
  EXPECT_THROW(layer->Backward(top, {true, false, true}, bottom), ConfigError);
}

TYPED_TEST(FilterTest, Gradient) {
  using Dtype = TypeParam;
  GradientCheckOptions<Dtype> options;
  options.check_bottoms = {0};
  auto layer = MakeLayer<Dtype>("name: 'f' type: 'Filter'", &this->context_);
  GradientChecker<Dtype>(options).Check(layer.get(), {&this->data_, &this->selector_},
                                        {&this->top_data_});
}

TYPED_TEST(FilterTest, Errors) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 'f' type: 'Filter'", &this->context_);
  EXPECT_THROW(
      layer->SetUp({&this->data_, &this->selector_}, {&this->top_data_, &this->top_labels_}),
      ConfigError);
  Blob<Dtype> wide_selector(Shape{4, 2});
  auto wide = MakeLayer<Dtype>("name: 'f' type: 'Filter'", &this->context_);
  EXPECT_THROW(wide->SetUp({&this->data_, &wide_selector}, {&this->top_data_}), ShapeError);
  Blob<Dtype> short_selector(Shape{3});
  auto mismatch = MakeLayer<Dtype>("name: 'f' type: 'Filter'", &this->context_);
  EXPECT_THROW(mismatch->SetUp({&this->data_, &short_selector}, {&this->top_data_}), ShapeError);
}

}  // namespace
}  // namespace moka::test
