#include <vector>

#include "test_util.hpp"

namespace moka {
namespace {

template <typename Dtype>
class DummyDataTest : public ::testing::Test {
 protected:
  Context context_;
};

TYPED_TEST_SUITE(DummyDataTest, test::TestDtypes);

TYPED_TEST(DummyDataTest, DefaultIsConstantZeroWithLegacyShape) {
  using Dtype = TypeParam;
  Blob<Dtype> a, b;
  auto layer = test::MakeLayer<Dtype>(
      "type: 'DummyData' dummy_data_param { num: 2 channels: 3 channels: 1 height: 4 width: 5 }",
      &this->context_);
  std::vector<Blob<Dtype>*> tops = {&a, &b};
  layer->SetUp({}, tops);
  EXPECT_EQ(a.shape(), std::vector<int>({2, 3, 4, 5}));
  EXPECT_EQ(b.shape(), std::vector<int>({2, 1, 4, 5}));
  for (int i = 0; i < a.count(); ++i) EXPECT_EQ(a.cpu_data()[i], Dtype(0));
  // Constant tops are not refilled: a value written by a caller survives a forward.
  a.mutable_cpu_data()[3] = Dtype(7);
  layer->Forward({}, tops);
  EXPECT_EQ(a.cpu_data()[3], Dtype(7));
}

TYPED_TEST(DummyDataTest, RandomTopsRefillEachForward) {
  using Dtype = TypeParam;
  Blob<Dtype> a, b;
  auto layer = test::MakeLayer<Dtype>(
      "type: 'DummyData' dummy_data_param { shape { dim: 3 dim: 4 } shape { dim: 6 } "
      "data_filler { type: 'constant' value: 1.5 } "
      "data_filler { type: 'uniform' min: 2 max: 3 } }",
      &this->context_);
  std::vector<Blob<Dtype>*> tops = {&a, &b};
  layer->SetUp({}, tops);
  EXPECT_EQ(a.shape(), std::vector<int>({3, 4}));
  EXPECT_EQ(b.shape(), std::vector<int>({6}));
  for (int i = 0; i < a.count(); ++i) EXPECT_EQ(a.cpu_data()[i], Dtype(1.5));
  layer->Forward({}, tops);
  std::vector<Dtype> first(b.cpu_data(), b.cpu_data() + b.count());
  for (Dtype v : first) {
    EXPECT_GE(v, Dtype(2));
    EXPECT_LE(v, Dtype(3));
  }
  layer->Forward({}, tops);
  EXPECT_NE(std::vector<Dtype>(b.cpu_data(), b.cpu_data() + b.count()), first);
  // The draws come from the context's stream: reseeding reproduces them.
  this->context_.Seed(42);
  layer->Forward({}, tops);
  std::vector<Dtype> seeded(b.cpu_data(), b.cpu_data() + b.count());
  this->context_.Seed(42);
  layer->Forward({}, tops);
  EXPECT_EQ(std::vector<Dtype>(b.cpu_data(), b.cpu_data() + b.count()), seeded);
}

TYPED_TEST(DummyDataTest, OneFillerForAllTops) {
  using Dtype = TypeParam;
  Blob<Dtype> a, b;
  auto layer = test::MakeLayer<Dtype>(
      "type: 'DummyData' dummy_data_param { shape { dim: 5 } "
      "data_filler { type: 'gaussian' std: 0.5 } }",
      &this->context_);
  std::vector<Blob<Dtype>*> tops = {&a, &b};
  layer->SetUp({}, tops);
  layer->Forward({}, tops);
  EXPECT_EQ(b.shape(), std::vector<int>({5}));
  EXPECT_GT(a.asum_data(), Dtype(0));
  EXPECT_GT(b.asum_data(), Dtype(0));
}

TYPED_TEST(DummyDataTest, BadConfigurationsThrow) {
  Blob<TypeParam> a, b, c;
  const char* bad[] = {
      "type: 'DummyData' dummy_data_param { }",
      "type: 'DummyData' dummy_data_param { shape { dim: 1 } shape { dim: 2 } }",
      "type: 'DummyData' dummy_data_param { shape { dim: 1 } num: 1 channels: 1 height: 1 width: 1 }",
      "type: 'DummyData' dummy_data_param { num: 1 channels: 1 height: 1 }",
      "type: 'DummyData' dummy_data_param { shape { dim: 1 } data_filler { } data_filler { } }",
  };
  for (const char* text : bad) {
    SCOPED_TRACE(text);
    auto layer = test::MakeLayer<TypeParam>(text, &this->context_);
    EXPECT_THROW(layer->SetUp({}, {&a, &b, &c}), ConfigError);
  }
}

}  // namespace
}  // namespace moka
