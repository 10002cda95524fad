#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "gradient_checker.hpp"
#include "task_pool.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

using Shape = std::vector<int>;

template <typename Dtype>
class EltwiseTest : public ::testing::Test {
 protected:
  EltwiseTest() {
    for (int i = 0; i < 3; ++i) {
      bottoms_[i].Reshape({2, 3, 1, 5});
      FillUniform<Dtype>(&bottoms_[i], -1, 1, 20 + i);
    }
  }
  std::vector<Blob<Dtype>*> Bottoms() { return {&bottoms_[0], &bottoms_[1], &bottoms_[2]}; }
  std::shared_ptr<Layer<Dtype>> Make(const std::string& param) {
    return MakeLayer<Dtype>("name: 'e' type: 'Eltwise' eltwise_param { " + param + " }", &context_);
  }
  /// Gives every element of every bottom a distinct value, 0.05 apart at least, so that finite
  /// differences never change which bottom holds the maximum.
  void MakeDistinct() {
    const int n = bottoms_[0].count();
    std::vector<int> order(3 * n);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), std::mt19937_64(3));
    for (int i = 0; i < 3; ++i)
      for (int k = 0; k < n; ++k)
        bottoms_[i].mutable_cpu_data()[k] = Dtype(0.05) * order[i * n + k] - Dtype(2);
  }
  Context context_;
  Blob<Dtype> bottoms_[3];
  Blob<Dtype> top_;
};
TYPED_TEST_SUITE(EltwiseTest, TestDtypes);

TYPED_TEST(EltwiseTest, ProdForwardAndBackward) {
  using Dtype = TypeParam;
  const auto bottom = this->Bottoms();
  for (const char* stable : {"true", "false"}) {
    auto layer = this->Make(std::string("operation: PROD stable_prod_grad: ") + stable);
    layer->SetUp(bottom, {&this->top_});
    EXPECT_EQ(this->top_.shape(), bottom[0]->shape());
    layer->Forward(bottom, {&this->top_});
    const Dtype* a = bottom[0]->cpu_data();
    const Dtype* b = bottom[1]->cpu_data();
    const Dtype* c = bottom[2]->cpu_data();
    for (int k = 0; k < this->top_.count(); ++k)
      EXPECT_NEAR(this->top_.cpu_data()[k], a[k] * b[k] * c[k], 1e-6);
    this->top_.set_diff(2);
    layer->Backward({&this->top_}, {true, true, true}, bottom);
    for (int k = 0; k < this->top_.count(); ++k) {
      EXPECT_NEAR(bottom[0]->cpu_diff()[k], 2 * b[k] * c[k], 1e-5) << stable;
      EXPECT_NEAR(bottom[1]->cpu_diff()[k], 2 * a[k] * c[k], 1e-5) << stable;
      EXPECT_NEAR(bottom[2]->cpu_diff()[k], 2 * a[k] * b[k], 1e-5) << stable;
    }
  }
}

TYPED_TEST(EltwiseTest, StableProdGradientIsExactAtZero) {
  using Dtype = TypeParam;
  const auto bottom = this->Bottoms();
  bottom[0]->mutable_cpu_data()[4] = 0;
  auto layer = this->Make("operation: PROD");
  layer->SetUp(bottom, {&this->top_});
  layer->Forward(bottom, {&this->top_});
  this->top_.set_diff(1);
  layer->Backward({&this->top_}, {true, false, false}, bottom);
  EXPECT_NEAR(bottom[0]->cpu_diff()[4], bottom[1]->cpu_data()[4] * bottom[2]->cpu_data()[4], 1e-6);
}

TYPED_TEST(EltwiseTest, SumWithCoefficients) {
  using Dtype = TypeParam;
  const auto bottom = this->Bottoms();
  auto layer = this->Make("operation: SUM coeff: 1 coeff: -0.5 coeff: 2");
  layer->SetUp(bottom, {&this->top_});
  layer->Forward(bottom, {&this->top_});
  for (int k = 0; k < this->top_.count(); ++k)
    EXPECT_NEAR(
        this->top_.cpu_data()[k],
        bottom[0]->cpu_data()[k] - 0.5 * bottom[1]->cpu_data()[k] + 2 * bottom[2]->cpu_data()[k],
        1e-6);
  this->top_.set_diff(3);
  layer->Backward({&this->top_}, {true, true, true}, bottom);
  EXPECT_EQ(bottom[0]->cpu_diff()[5], Dtype(3));
  EXPECT_EQ(bottom[1]->cpu_diff()[5], Dtype(-1.5));
  EXPECT_EQ(bottom[2]->cpu_diff()[5], Dtype(6));
}

TYPED_TEST(EltwiseTest, SumIsTheDefault) {
  using Dtype = TypeParam;
  const auto bottom = this->Bottoms();
  auto layer = MakeLayer<Dtype>("name: 'e' type: 'Eltwise'", &this->context_);
  layer->SetUp(bottom, {&this->top_});
  layer->Forward(bottom, {&this->top_});
  EXPECT_NEAR(this->top_.cpu_data()[3],
              bottom[0]->cpu_data()[3] + bottom[1]->cpu_data()[3] + bottom[2]->cpu_data()[3], 1e-6);
}

TYPED_TEST(EltwiseTest, MaxForwardAndBackward) {
  using Dtype = TypeParam;
  const auto bottom = this->Bottoms();
  auto layer = this->Make("operation: MAX");
  layer->SetUp(bottom, {&this->top_});
  layer->Forward(bottom, {&this->top_});
  FillUniform<Dtype>(&this->top_, 1, 2, 4);
  cpu_copy(this->top_.count(), this->top_.cpu_data(), this->top_.mutable_cpu_diff());
  layer->Forward(bottom, {&this->top_});
  layer->Backward({&this->top_}, {true, true, true}, bottom);
  for (int k = 0; k < this->top_.count(); ++k) {
    const Dtype values[] = {bottom[0]->cpu_data()[k], bottom[1]->cpu_data()[k],
                            bottom[2]->cpu_data()[k]};
    const int winner = static_cast<int>(std::max_element(values, values + 3) - values);
    EXPECT_EQ(this->top_.cpu_data()[k], values[winner]);
    for (int i = 0; i < 3; ++i)
      EXPECT_EQ(bottom[i]->cpu_diff()[k], i == winner ? this->top_.cpu_diff()[k] : Dtype(0));
  }
}

TYPED_TEST(EltwiseTest, MaxTiesFollowCaffe) {
  using Dtype = TypeParam;
  Blob<Dtype> a(Shape{3}), b(Shape{3}), c(Shape{3});
  const Dtype va[] = {1, 2, 0}, vb[] = {1, 0, 2}, vc[] = {0, 2, 2};
  std::copy(va, va + 3, a.mutable_cpu_data());
  std::copy(vb, vb + 3, b.mutable_cpu_data());
  std::copy(vc, vc + 3, c.mutable_cpu_data());
  auto layer = this->Make("operation: MAX");
  layer->SetUp({&a, &b, &c}, {&this->top_});
  layer->Forward({&a, &b, &c}, {&this->top_});
  this->top_.set_diff(1);
  layer->Backward({&this->top_}, {true, true, true}, {&a, &b, &c});
  // Element 0: a == b, the second bottom wins. Elements 1 and 2: a later equal bottom loses.
  const Dtype da[] = {0, 1, 0}, db[] = {1, 0, 1}, dc[] = {0, 0, 0};
  for (int k = 0; k < 3; ++k) {
    EXPECT_EQ(a.cpu_diff()[k], da[k]) << k;
    EXPECT_EQ(b.cpu_diff()[k], db[k]) << k;
    EXPECT_EQ(c.cpu_diff()[k], dc[k]) << k;
  }
}

TYPED_TEST(EltwiseTest, LargeBlobsMatchCaffeBitForBitOnAnyThreadCount) {
  using Dtype = TypeParam;
  // Large enough for the task pool, and not a whole number of packs.
  const Shape shape{1, 3, 301, 601};
  Blob<Dtype> a(shape), b(shape), c(shape);
  FillUniform<Dtype>(&a, -2, 2, 31);
  FillUniform<Dtype>(&b, -2, 2, 32);
  FillUniform<Dtype>(&c, -2, 2, 33);
  // Exact zeros of both signs and ties, for the signs of sums and the MAX rule.
  for (int k = 0; k < a.count(); k += 97) {
    a.mutable_cpu_data()[k] = Dtype(-0.0);
    b.mutable_cpu_data()[k] = Dtype(-0.0);
    c.mutable_cpu_data()[k] = Dtype(-0.0);
    c.mutable_cpu_data()[k + 1] = b.cpu_data()[k + 1];
    a.mutable_cpu_data()[k + 2] = b.cpu_data()[k + 2];
  }
  const std::vector<Blob<Dtype>*> bottom = {&a, &b, &c};
  Blob<Dtype> gradient(shape);
  FillUniform<Dtype>(&gradient, -1, 1, 34);
  for (const char* op : {"SUM", "PROD", "MAX"}) {
    SCOPED_TRACE(op);
    Blob<Dtype> top, single_top;
    std::vector<Blob<Dtype>> diffs(3);
    for (const bool single_thread : {false, true}) {
      SingleThreadedBlas single(single_thread);
      Blob<Dtype>& out = single_thread ? single_top : top;
      auto layer = this->Make(std::string("operation: ") + op);
      layer->SetUp(bottom, {&out});
      layer->Forward(bottom, {&out});
      cpu_copy(out.count(), gradient.cpu_data(), out.mutable_cpu_diff());
      layer->Backward({&out}, {true, true, true}, bottom);
      for (int i = 0; i < 3; ++i) {
        if (single_thread) {
          for (int k = 0; k < out.count(); ++k) {
            ASSERT_EQ(bottom[i]->cpu_diff()[k], diffs[i].cpu_diff()[k]) << i << " " << k;
          }
        } else {
          diffs[i].CopyFrom(*bottom[i], true, true);
        }
      }
    }
    const Dtype* x = a.cpu_data();
    const Dtype* y = b.cpu_data();
    const Dtype* z = c.cpu_data();
    const Dtype* dy = gradient.cpu_data();
    for (int k = 0; k < top.count(); ++k) {
      ASSERT_EQ(std::signbit(top.cpu_data()[k]), std::signbit(single_top.cpu_data()[k])) << k;
      ASSERT_EQ(top.cpu_data()[k], single_top.cpu_data()[k]) << k;
      Dtype expected;
      int winner = -1;
      if (op[0] == 'S') {
        expected = ((Dtype(0) + x[k]) + y[k]) + z[k];  // Caffe clears the top, then adds
        ASSERT_EQ(diffs[0].cpu_diff()[k], dy[k]) << k;
      } else if (op[0] == 'P') {
        expected = (x[k] * y[k]) * z[k];
      } else {
        winner = x[k] > y[k] ? 0 : 1;
        expected = winner == 0 ? x[k] : y[k];
        if (z[k] > expected) expected = z[k], winner = 2;
        for (int i = 0; i < 3; ++i) {
          ASSERT_EQ(diffs[i].cpu_diff()[k], i == winner ? dy[k] : Dtype(0)) << i << " " << k;
        }
      }
      ASSERT_EQ(top.cpu_data()[k], expected) << k;
      ASSERT_EQ(std::signbit(top.cpu_data()[k]), std::signbit(expected)) << k;
    }
  }
}

TYPED_TEST(EltwiseTest, Errors) {
  using Dtype = TypeParam;
  const auto bottom = this->Bottoms();
  EXPECT_THROW(this->Make("operation: SUM coeff: 1 coeff: 2")->SetUp(bottom, {&this->top_}),
               ConfigError);
  EXPECT_THROW(
      this->Make("operation: PROD coeff: 1 coeff: 2 coeff: 3")->SetUp(bottom, {&this->top_}),
      ConfigError);
  EXPECT_THROW(this->Make("operation: SUM")->SetUp(bottom, {bottom[0]}), ConfigError);
  EXPECT_THROW(MakeLayer<Dtype>("name: 'e' type: 'Eltwise'", &this->context_)
                   ->SetUp({bottom[0]}, {&this->top_}),
               ConfigError);
  Blob<Dtype> other(Shape{2, 3, 5});
  EXPECT_THROW(this->Make("operation: MAX")->SetUp({bottom[0], &other}, {&this->top_}), ShapeError);
}

TYPED_TEST(EltwiseTest, InPlaceForwardOnFirstBottom) {
  using Dtype = TypeParam;
  const auto bottom = this->Bottoms();
  auto reference = this->Make("operation: MAX");
  reference->SetUp(bottom, {&this->top_});
  reference->Forward(bottom, {&this->top_});
  auto layer = this->Make("operation: MAX");
  layer->SetUp(bottom, {bottom[0]});
  layer->Forward(bottom, {bottom[0]});
  for (int k = 0; k < this->top_.count(); ++k)
    EXPECT_EQ(bottom[0]->cpu_data()[k], this->top_.cpu_data()[k]);
  EXPECT_THROW(layer->Backward({bottom[0]}, {true, true, true}, bottom), ConfigError);
}

TYPED_TEST(EltwiseTest, GradientProd) {
  using Dtype = TypeParam;
  auto layer = this->Make("operation: PROD");
  GradientChecker<Dtype>().Check(layer.get(), this->Bottoms(), {&this->top_});
}

TYPED_TEST(EltwiseTest, GradientProdUnstable) {
  using Dtype = TypeParam;
  // Division by an input needs inputs away from zero.
  for (auto& b : this->bottoms_) {
    for (int k = 0; k < b.count(); ++k) {
      Dtype& v = b.mutable_cpu_data()[k];
      v = v < 0 ? v - Dtype(0.5) : v + Dtype(0.5);
    }
  }
  auto layer = this->Make("operation: PROD stable_prod_grad: false");
  GradientChecker<Dtype>().Check(layer.get(), this->Bottoms(), {&this->top_});
}

TYPED_TEST(EltwiseTest, GradientSumWithCoefficients) {
  using Dtype = TypeParam;
  auto layer = this->Make("operation: SUM coeff: 1 coeff: -0.5 coeff: 2");
  GradientChecker<Dtype>().Check(layer.get(), this->Bottoms(), {&this->top_});
}

TYPED_TEST(EltwiseTest, GradientMax) {
  using Dtype = TypeParam;
  this->MakeDistinct();
  auto layer = this->Make("operation: MAX");
  GradientChecker<Dtype>().Check(layer.get(), this->Bottoms(), {&this->top_});
}

}  // namespace
}  // namespace moka::test
