#include <gtest/gtest.h>

#include <vector>

#include "gradient_checker.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

using Shape = std::vector<int>;

template <typename Dtype>
class ConcatTest : public ::testing::Test {
 protected:
  void Init(const std::vector<std::vector<int>>& shapes) {
    bottoms_.clear();
    for (size_t i = 0; i < shapes.size(); ++i) {
      bottoms_.push_back(std::make_unique<Blob<Dtype>>(shapes[i]));
      FillGaussian<Dtype>(bottoms_.back().get(), 1, 100 + i);
    }
  }
  std::vector<Blob<Dtype>*> Bottoms() {
    std::vector<Blob<Dtype>*> out;
    for (auto& b : bottoms_) out.push_back(b.get());
    return out;
  }
  Context context_;
  std::vector<std::unique_ptr<Blob<Dtype>>> bottoms_;
  Blob<Dtype> top_;
};
TYPED_TEST_SUITE(ConcatTest, TestDtypes);

TYPED_TEST(ConcatTest, AxisZeroThreeBottoms) {
  using Dtype = TypeParam;
  this->Init({{2, 3, 2, 3}, {1, 3, 2, 3}, {3, 3, 2, 3}});
  auto layer = MakeLayer<Dtype>("name: 'c' type: 'Concat' concat_param { axis: 0 }",
                                &this->context_);
  const auto bottom = this->Bottoms();
  layer->SetUp(bottom, {&this->top_});
  EXPECT_EQ(this->top_.shape(), (std::vector<int>{6, 3, 2, 3}));
  layer->Forward(bottom, {&this->top_});
  const int first = bottom[0]->count(), second = bottom[1]->count();
  for (int i = 0; i < first; ++i) EXPECT_EQ(this->top_.cpu_data()[i], bottom[0]->cpu_data()[i]);
  for (int i = 0; i < second; ++i)
    EXPECT_EQ(this->top_.cpu_data()[first + i], bottom[1]->cpu_data()[i]);
  for (int i = 0; i < bottom[2]->count(); ++i)
    EXPECT_EQ(this->top_.cpu_data()[first + second + i], bottom[2]->cpu_data()[i]);

  FillGaussian<Dtype>(&this->top_, 1, 3);
  cpu_copy(this->top_.count(), this->top_.cpu_data(), this->top_.mutable_cpu_diff());
  bottom[1]->set_diff(7);
  layer->Backward({&this->top_}, {true, false, true}, bottom);
  for (int i = 0; i < second; ++i) EXPECT_EQ(bottom[1]->cpu_diff()[i], Dtype(7));
  for (int i = 0; i < first; ++i) EXPECT_EQ(bottom[0]->cpu_diff()[i], this->top_.cpu_diff()[i]);
  for (int i = 0; i < bottom[2]->count(); ++i)
    EXPECT_EQ(bottom[2]->cpu_diff()[i], this->top_.cpu_diff()[first + second + i]);
}

TYPED_TEST(ConcatTest, AxisOneThreeBottoms) {
  using Dtype = TypeParam;
  this->Init({{2, 3, 2, 3}, {2, 1, 2, 3}, {2, 2, 2, 3}});
  auto layer = MakeLayer<Dtype>("name: 'c' type: 'Concat'", &this->context_);
  const auto bottom = this->Bottoms();
  layer->SetUp(bottom, {&this->top_});
  EXPECT_EQ(this->top_.shape(), (std::vector<int>{2, 6, 2, 3}));
  layer->Forward(bottom, {&this->top_});
  for (int n = 0; n < 2; ++n)
    for (int c = 0; c < 6; ++c)
      for (int h = 0; h < 2; ++h)
        for (int w = 0; w < 3; ++w) {
          const int b = c < 3 ? 0 : c < 4 ? 1 : 2;
          const int bc = c < 3 ? c : c < 4 ? c - 3 : c - 4;
          EXPECT_EQ(this->top_.data_at(n, c, h, w), bottom[b]->data_at(n, bc, h, w));
        }
}

TYPED_TEST(ConcatTest, ConcatDimAndNegativeAxis) {
  using Dtype = TypeParam;
  this->Init({{2, 3, 4}, {2, 3, 1}});
  const auto bottom = this->Bottoms();
  MakeLayer<Dtype>("name: 'c' type: 'Concat' concat_param { concat_dim: 2 }", &this->context_)
      ->SetUp(bottom, {&this->top_});
  EXPECT_EQ(this->top_.shape(), (std::vector<int>{2, 3, 5}));
  MakeLayer<Dtype>("name: 'c' type: 'Concat' concat_param { axis: -1 }", &this->context_)
      ->SetUp(bottom, {&this->top_});
  EXPECT_EQ(this->top_.shape(), (std::vector<int>{2, 3, 5}));
}

TYPED_TEST(ConcatTest, SingleBottomPassesThrough) {
  using Dtype = TypeParam;
  this->Init({{2, 3}});
  auto layer = MakeLayer<Dtype>("name: 'c' type: 'Concat'", &this->context_);
  const auto bottom = this->Bottoms();
  layer->SetUp(bottom, {&this->top_});
  layer->Forward(bottom, {&this->top_});
  EXPECT_EQ(this->top_.shape(), bottom[0]->shape());
  EXPECT_EQ(this->top_.cpu_data(), bottom[0]->cpu_data());
  EXPECT_EQ(this->top_.cpu_diff(), bottom[0]->cpu_diff());
}

TYPED_TEST(ConcatTest, Errors) {
  using Dtype = TypeParam;
  this->Init({{2, 3, 4}, {2, 2, 4}});
  const auto bottom = this->Bottoms();
  EXPECT_THROW(MakeLayer<Dtype>("name: 'c' type: 'Concat' concat_param { axis: 2 }",
                                &this->context_)
                   ->SetUp(bottom, {&this->top_}),
               ShapeError);
  EXPECT_THROW(MakeLayer<Dtype>("name: 'c' type: 'Concat' concat_param { axis: 1 concat_dim: 1 }",
                                &this->context_)
                   ->SetUp(bottom, {&this->top_}),
               ConfigError);
  EXPECT_THROW(MakeLayer<Dtype>("name: 'c' type: 'Concat' concat_param { concat_dim: 3 }",
                                &this->context_)
                   ->SetUp(bottom, {&this->top_}),
               ConfigError);
  this->Init({{2, 3, 4}, {2, 3}});
  EXPECT_THROW(MakeLayer<Dtype>("name: 'c' type: 'Concat'", &this->context_)
                   ->SetUp(this->Bottoms(), {&this->top_}),
               ShapeError);
}

TYPED_TEST(ConcatTest, GradientAxisZero) {
  using Dtype = TypeParam;
  this->Init({{1, 2, 3}, {2, 2, 3}, {1, 2, 3}});
  auto layer = MakeLayer<Dtype>("name: 'c' type: 'Concat' concat_param { axis: 0 }",
                                &this->context_);
  GradientChecker<Dtype>().Check(layer.get(), this->Bottoms(), {&this->top_});
}

TYPED_TEST(ConcatTest, GradientAxisOne) {
  using Dtype = TypeParam;
  this->Init({{2, 3, 1, 3}, {2, 1, 1, 3}, {2, 2, 1, 3}});
  auto layer = MakeLayer<Dtype>("name: 'c' type: 'Concat'", &this->context_);
  GradientChecker<Dtype>().Check(layer.get(), this->Bottoms(), {&this->top_});
}

}  // namespace
}  // namespace moka::test
