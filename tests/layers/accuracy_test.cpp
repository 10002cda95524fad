#include <vector>

#include "test_util.hpp"

namespace moka {
namespace {

template <typename Dtype>
class AccuracyTest : public ::testing::Test {
 protected:
  // Five items, four classes. Labels: 0, 1, 2, 3, 1.
  AccuracyTest() : scores_({5, 4}), labels_({5}) {
    const double s[5][4] = {
        {0.9, 0.1, 0.5, 0.2},  // label 0 ranks 1st
        {0.3, 0.2, 0.6, 0.1},  // label 1 ranks 3rd
        {0.2, 0.7, 0.4, 0.1},  // label 2 ranks 2nd
        {0.4, 0.3, 0.2, 0.1},  // label 3 ranks 4th
        {0.5, 0.5, 0.1, 0.0},  // label 1 ties with class 0 for 1st
    };
    for (int i = 0; i < 5; ++i)
      for (int c = 0; c < 4; ++c) scores_.mutable_cpu_data()[i * 4 + c] = static_cast<Dtype>(s[i][c]);
    const int l[] = {0, 1, 2, 3, 1};
    for (int i = 0; i < 5; ++i) labels_.mutable_cpu_data()[i] = static_cast<Dtype>(l[i]);
  }

  void Run(const std::string& param, bool per_class) {
    layer_ = test::MakeLayer<Dtype>("type: 'Accuracy' " + param, &context_);
    std::vector<Blob<Dtype>*> tops = {&accuracy_};
    if (per_class) tops.push_back(&per_class_);
    layer_->SetUp({&scores_, &labels_}, tops);
    layer_->Forward({&scores_, &labels_}, tops);
  }

  Context context_;
  Blob<Dtype> scores_, labels_, accuracy_, per_class_;
  std::shared_ptr<Layer<Dtype>> layer_;
};

TYPED_TEST_SUITE(AccuracyTest, test::TestDtypes);

TYPED_TEST(AccuracyTest, TopOne) {
  this->Run("", true);
  EXPECT_EQ(this->accuracy_.num_axes(), 0);
  // Only item 0 is right: the tie of item 4 counts against the label, as in Caffe.
  EXPECT_NEAR(this->accuracy_.cpu_data()[0], 1.0 / 5, 1e-6);
  ASSERT_EQ(this->per_class_.shape(), std::vector<int>({4}));
  const double expected[] = {1, 0, 0, 0};
  for (int c = 0; c < 4; ++c) EXPECT_NEAR(this->per_class_.cpu_data()[c], expected[c], 1e-6);
}

TYPED_TEST(AccuracyTest, TopThree) {
  this->Run("accuracy_param { top_k: 3 }", true);
  // Items 0, 1, 2 and 4 are within the top 3; item 3 is 4th.
  EXPECT_NEAR(this->accuracy_.cpu_data()[0], 4.0 / 5, 1e-6);
  const double expected[] = {1, 1, 1, 0};  // class 1 occurs twice, right both times
  for (int c = 0; c < 4; ++c) EXPECT_NEAR(this->per_class_.cpu_data()[c], expected[c], 1e-6);
}

TYPED_TEST(AccuracyTest, TopTwoWithIgnoreLabel) {
  this->Run("accuracy_param { top_k: 2 ignore_label: 1 }", true);
  // Items 1 and 4 ignored; of 0, 2, 3 the first two are within the top 2.
  EXPECT_NEAR(this->accuracy_.cpu_data()[0], 2.0 / 3, 1e-6);
  const double expected[] = {1, 0, 1, 0};  // class 1 never counted
  for (int c = 0; c < 4; ++c) EXPECT_NEAR(this->per_class_.cpu_data()[c], expected[c], 1e-6);
}

TYPED_TEST(AccuracyTest, AllIgnoredGivesZero) {
  for (int i = 0; i < 5; ++i) this->labels_.mutable_cpu_data()[i] = -1;
  this->Run("accuracy_param { ignore_label: -1 }", false);
  EXPECT_EQ(this->accuracy_.cpu_data()[0], 0);
}

TYPED_TEST(AccuracyTest, SpatialAxis) {
  using Dtype = TypeParam;
  // Scores (1, 3, 2): classes on axis 1, two positions; also axis given negatively.
  Blob<Dtype> scores({1, 3, 2}), labels({1, 2}), accuracy;
  const double s[] = {0.1, 0.9, 0.8, 0.05, 0.1, 0.05};
  for (int i = 0; i < 6; ++i) scores.mutable_cpu_data()[i] = static_cast<Dtype>(s[i]);
  labels.mutable_cpu_data()[0] = 1;  // position 0: class 1 (0.8) is the best
  labels.mutable_cpu_data()[1] = 2;  // position 1: class 2 (0.05) ties class 1, below class 0
  auto layer = test::MakeLayer<Dtype>("type: 'Accuracy' accuracy_param { axis: -2 }",
                                      &this->context_);
  layer->SetUp({&scores, &labels}, {&accuracy});
  layer->Forward({&scores, &labels}, {&accuracy});
  EXPECT_NEAR(accuracy.cpu_data()[0], 0.5, 1e-6);
}

TYPED_TEST(AccuracyTest, BadConfigurationsThrow) {
  EXPECT_THROW(this->Run("accuracy_param { top_k: 5 }", false), ShapeError);
  this->labels_.mutable_cpu_data()[2] = 4;
  EXPECT_THROW(this->Run("", false), ShapeError);
  Blob<TypeParam> labels({4});
  auto layer = test::MakeLayer<TypeParam>("type: 'Accuracy'", &this->context_);
  EXPECT_THROW(layer->SetUp({&this->scores_, &labels}, {&this->accuracy_}), ShapeError);
}

TYPED_TEST(AccuracyTest, BackwardRefusesGradients) {
  this->Run("", false);
  std::vector<Blob<TypeParam>*> bottoms = {&this->scores_, &this->labels_};
  std::vector<Blob<TypeParam>*> tops = {&this->accuracy_};
  EXPECT_NO_THROW(this->layer_->Backward(tops, {false, false}, bottoms));
  EXPECT_THROW(this->layer_->Backward(tops, {true, false}, bottoms), ConfigError);
}

}  // namespace
}  // namespace moka
