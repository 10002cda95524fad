#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "gradient_checker.hpp"
#include "proto_io.hpp"
#include "temp_dir.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

using Shape = std::vector<int>;

template <typename Dtype>
class InfogainLossTest : public ::testing::Test {
 protected:
  InfogainLossTest() : scores_(Shape{4, 3, 2}), labels_(Shape{4, 2}), infogain_(Shape{3, 3}) {
    FillUniform<Dtype>(&scores_, -2, 2);
    const Dtype l[] = {0, 2, 1, 1, 2, 0, 1, 2};
    std::copy(l, l + 8, labels_.mutable_cpu_data());
    FillUniform<Dtype>(&infogain_, 0, 1, 5);
  }

  // The loss by its definition, normalised over the non-ignored positions.
  double Expected(int ignore_label) const {
    double loss = 0;
    int count = 0;
    for (int n = 0; n < 4; ++n) {
      for (int j = 0; j < 2; ++j) {
        const int label = static_cast<int>(labels_.cpu_data()[n * 2 + j]);
        if (label == ignore_label) continue;
        double sum = 0;
        for (int k = 0; k < 3; ++k)
          sum += std::exp(double(scores_.cpu_data()[(n * 3 + k) * 2 + j]));
        for (int k = 0; k < 3; ++k) {
          const double p = std::exp(double(scores_.cpu_data()[(n * 3 + k) * 2 + j])) / sum;
          loss -= infogain_.cpu_data()[label * 3 + k] * std::log(p);
        }
        ++count;
      }
    }
    return loss / count;
  }

  Context context_;
  Blob<Dtype> scores_, labels_, infogain_;
  Blob<Dtype> top_, prob_top_;
};
TYPED_TEST_SUITE(InfogainLossTest, TestDtypes);

TYPED_TEST(InfogainLossTest, MatrixFromBottomAndFromSource) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 'i' type: 'InfogainLoss'", &this->context_);
  const std::vector<Blob<Dtype>*> bottom = {&this->scores_, &this->labels_, &this->infogain_};
  layer->SetUp(bottom, {&this->top_, &this->prob_top_});
  EXPECT_NEAR(layer->Forward(bottom, {&this->top_, &this->prob_top_}), this->Expected(-1), 1e-5);
  EXPECT_EQ(this->prob_top_.shape(), this->scores_.shape());

  TempDir dir;
  BlobProto proto;
  this->infogain_.ToProto(&proto);
  WriteProtoToBinaryFile(proto, dir / "h.binaryproto");
  auto from_file =
      MakeLayer<Dtype>("name: 'i' type: 'InfogainLoss' infogain_loss_param { source: '" +
                           (dir / "h.binaryproto") + "' }",
                       &this->context_);
  from_file->SetUp({&this->scores_, &this->labels_}, {&this->top_});
  EXPECT_NEAR(from_file->Forward({&this->scores_, &this->labels_}, {&this->top_}),
              this->Expected(-1), 1e-5);
}

TYPED_TEST(InfogainLossTest, IgnoreLabel) {
  using Dtype = TypeParam;
  auto layer = MakeLayer<Dtype>("name: 'i' type: 'InfogainLoss' loss_param { ignore_label: 2 }",
                                &this->context_);
  const std::vector<Blob<Dtype>*> bottom = {&this->scores_, &this->labels_, &this->infogain_};
  layer->SetUp(bottom, {&this->top_});
  EXPECT_NEAR(layer->Forward(bottom, {&this->top_}), this->Expected(2), 1e-5);
}

TYPED_TEST(InfogainLossTest, Gradient) {
  using Dtype = TypeParam;
  GradientCheckOptions<Dtype> options;
  options.check_bottoms = {0};
  auto layer = MakeLayer<Dtype>("name: 'i' type: 'InfogainLoss' loss_param { ignore_label: 1 }",
                                &this->context_);
  GradientChecker<Dtype>(options).Check(
      layer.get(), {&this->scores_, &this->labels_, &this->infogain_}, {&this->top_});
}

TYPED_TEST(InfogainLossTest, Errors) {
  using Dtype = TypeParam;
  auto no_matrix = MakeLayer<Dtype>("name: 'i' type: 'InfogainLoss'", &this->context_);
  EXPECT_THROW(no_matrix->SetUp({&this->scores_, &this->labels_}, {&this->top_}), ConfigError);
  auto missing_file = MakeLayer<Dtype>(
      "name: 'i' type: 'InfogainLoss' infogain_loss_param { source: '/nonexistent/h.binaryproto' }",
      &this->context_);
  EXPECT_THROW(missing_file->SetUp({&this->scores_, &this->labels_}, {&this->top_}), IoError);
  Blob<Dtype> small(Shape{2, 2});
  auto layer = MakeLayer<Dtype>("name: 'i' type: 'InfogainLoss'", &this->context_);
  EXPECT_THROW(layer->SetUp({&this->scores_, &this->labels_, &small}, {&this->top_}), ShapeError);
  auto deprecated = MakeLayer<Dtype>(
      "name: 'i' type: 'InfogainLoss' loss_param { normalize: true }", &this->context_);
  EXPECT_THROW(deprecated->SetUp({&this->scores_, &this->labels_, &this->infogain_}, {&this->top_}),
               ConfigError);
}

}  // namespace
}  // namespace moka::test
