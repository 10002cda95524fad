#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "gradient_checker.hpp"
#include "layers/recurrent_test_util.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

using Shape = std::vector<int>;

/// Keeps a parameter out of template deduction (so that nullptr can be passed).
template <typename T>
struct NoDeduce {
  using type = T;
};

/// Caffe's RNN written out in double from the layer's parameter blobs.
struct RnnReference {
  std::vector<double> o;  // T x N x H
  std::vector<double> h_last;
};

template <typename Dtype>
RnnReference RunReference(Layer<Dtype>& layer, const Blob<Dtype>& x, const Blob<Dtype>& cont,
                          const typename NoDeduce<Blob<Dtype>>::type* x_static,
                          std::vector<double> h) {
  const int T = x.shape(0), N = x.shape(1), I = x.count(2);
  const auto& blobs = layer.blobs();
  const int H = blobs[0]->shape(0);
  const int S = x_static == nullptr ? 0 : x_static->count(1);
  const int r = x_static == nullptr ? 2 : 3;
  const Dtype* w_xh = blobs[0]->cpu_data();
  const Dtype* b_h = blobs[1]->cpu_data();
  const Dtype* w_s = x_static == nullptr ? nullptr : blobs[2]->cpu_data();
  const Dtype* w_hh = blobs[r]->cpu_data();
  const Dtype* w_ho = blobs[r + 1]->cpu_data();
  const Dtype* b_o = blobs[r + 2]->cpu_data();
  if (h.empty()) h.assign(N * H, 0.0);
  RnnReference out;
  for (int t = 0; t < T; ++t) {
    std::vector<double> h_next(N * H);
    for (int n = 0; n < N; ++n) {
      const double k = cont.cpu_data()[t * N + n];
      for (int d = 0; d < H; ++d) {
        double sum = b_h[d];
        for (int i = 0; i < I; ++i) sum += w_xh[d * I + i] * x.cpu_data()[(t * N + n) * I + i];
        for (int s = 0; s < S; ++s) sum += w_s[d * S + s] * x_static->cpu_data()[n * S + s];
        for (int j = 0; j < H; ++j) sum += w_hh[d * H + j] * k * h[n * H + j];
        h_next[n * H + d] = std::tanh(sum);
      }
      for (int d = 0; d < H; ++d) {
        double sum = b_o[d];
        for (int j = 0; j < H; ++j) sum += w_ho[d * H + j] * h_next[n * H + j];
        out.o.push_back(std::tanh(sum));
      }
    }
    h = h_next;
  }
  out.h_last = h;
  return out;
}

const char kRnn[] =
    "name: 'rnn' type: 'RNN' recurrent_param { num_output: 3 "
    "weight_filler { type: 'gaussian' std: 0.5 } bias_filler { type: 'gaussian' std: 0.5 } ";

template <typename Dtype>
class RnnTest : public ::testing::Test {
 protected:
  RnnTest() : x_(Shape{4, 2, 3}), cont_(Shape{4, 2}), static_(Shape{2, 2}) {
    FillGaussian(&x_, Dtype(1), 3);
    FillGaussian(&static_, Dtype(1), 4);
    // A new sequence in every stream at t = 0, and one in stream 1 at t = 2.
    SetCont<Dtype>(&cont_, {0, 0, 1, 1, 1, 0, 1, 1});
  }
  std::shared_ptr<Layer<Dtype>> Make(const std::string& extra = "") {
    return MakeLayer<Dtype>(std::string(kRnn) + extra + "}", &context_);
  }
  Context context_{Device::kCpu, 0, 1701};
  Blob<Dtype> x_, cont_, static_, top_, h_last_;
};
TYPED_TEST_SUITE(RnnTest, TestDtypes);

TYPED_TEST(RnnTest, SetUpMakesCaffesParameterBlobs) {
  auto layer = this->Make();
  layer->SetUp({&this->x_, &this->cont_}, {&this->top_});
  EXPECT_EQ(this->top_.shape(), (Shape{4, 2, 3}));
  const std::vector<Shape> expected = {{3, 3}, {3}, {3, 3}, {3, 3}, {3}};  // W_xh b_h W_hh W_ho b_o
  ASSERT_EQ(layer->blobs().size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(layer->blobs()[i]->shape(), expected[i]);

  auto with_static = this->Make();
  with_static->SetUp({&this->x_, &this->cont_, &this->static_}, {&this->top_});
  ASSERT_EQ(with_static->blobs().size(), 6u);
  EXPECT_EQ(with_static->blobs()[2]->shape(), (Shape{3, 2}));  // W_xh_static
}

TYPED_TEST(RnnTest, ForwardMatchesTheEquationsAndCarriesState) {
  using Dtype = TypeParam;
  auto layer = this->Make();
  layer->SetUp({&this->x_, &this->cont_}, {&this->top_});
  layer->Forward({&this->x_, &this->cont_}, {&this->top_});
  const RnnReference first = RunReference(*layer, this->x_, this->cont_, nullptr, {});
  ExpectNear(this->top_, first.o, "first pass");
  SetCont<Dtype>(&this->cont_, {1, 1, 1, 1, 0, 1, 1, 1});
  layer->Forward({&this->x_, &this->cont_}, {&this->top_});
  ExpectNear(this->top_, RunReference(*layer, this->x_, this->cont_, nullptr, first.h_last).o,
             "second pass");
}

TYPED_TEST(RnnTest, ForwardWithStaticInput) {
  auto layer = this->Make();
  const std::vector<Blob<TypeParam>*> bottom = {&this->x_, &this->cont_, &this->static_};
  layer->SetUp(bottom, {&this->top_});
  layer->Forward(bottom, {&this->top_});
  ExpectNear(this->top_, RunReference(*layer, this->x_, this->cont_, &this->static_, {}).o,
             "static input");
}

TYPED_TEST(RnnTest, ExposedHiddenStateIsABottomAndATop) {
  using Dtype = TypeParam;
  Blob<Dtype> h0(Shape{1, 2, 3});
  FillGaussian(&h0, Dtype(0.5), 5);
  SetCont<Dtype>(&this->cont_, {1, 1, 1, 0, 1, 1, 0, 1});
  auto layer = this->Make("expose_hidden: true");
  const std::vector<Blob<Dtype>*> bottom = {&this->x_, &this->cont_, &h0};
  const std::vector<Blob<Dtype>*> top = {&this->top_, &this->h_last_};
  layer->SetUp(bottom, top);
  for (int pass = 0; pass < 2; ++pass) {
    layer->Forward(bottom, top);
    const RnnReference expected =
        RunReference(*layer, this->x_, this->cont_, nullptr,
                     std::vector<double>(h0.cpu_data(), h0.cpu_data() + 6));
    ExpectNear(this->top_, expected.o, "o");
    ExpectNear(this->h_last_, expected.h_last, "h_T");
  }
}

TYPED_TEST(RnnTest, Gradient) {
  auto layer = this->Make();
  GradientCheckOptions<TypeParam> options;
  options.check_bottoms = {0};
  GradientChecker<TypeParam>(options).Check(layer.get(), {&this->x_, &this->cont_}, {&this->top_});
}

TYPED_TEST(RnnTest, GradientWithStaticInput) {
  auto layer = this->Make();
  GradientCheckOptions<TypeParam> options;
  options.check_bottoms = {0, 2};
  GradientChecker<TypeParam>(options).Check(layer.get(), {&this->x_, &this->cont_, &this->static_},
                                            {&this->top_});
}

TYPED_TEST(RnnTest, GradientWithExposedHiddenFollowsCaffe) {
  using Dtype = TypeParam;
  Blob<Dtype> h0(Shape{1, 2, 3});
  FillGaussian(&h0, Dtype(0.5), 5);
  SetCont<Dtype>(&this->cont_, {1, 1, 1, 0, 1, 1, 0, 1});
  auto layer = this->Make("expose_hidden: true");
  const std::vector<Blob<Dtype>*> bottom = {&this->x_, &this->cont_, &h0};
  const std::vector<Blob<Dtype>*> top = {&this->top_, &this->h_last_};
  layer->SetUp(bottom, top);
  CheckFirstTopGradient(layer.get(), bottom, top);
  h0.set_diff(Dtype(3));
  layer->Backward(top, {true, false, true}, bottom);
  EXPECT_EQ(h0.asum_diff(), Dtype(0));
}

TYPED_TEST(RnnTest, DebugInfoRuns) {
  auto layer = this->Make("debug_info: true");
  layer->SetUp({&this->x_, &this->cont_}, {&this->top_});
  layer->Forward({&this->x_, &this->cont_}, {&this->top_});
  std::mt19937_64 rng(2);
  rng_gaussian<TypeParam>(this->top_.count(), 0, 1, rng, this->top_.mutable_cpu_diff());
  layer->Backward({&this->top_}, {true, false}, {&this->x_, &this->cont_});
}

TYPED_TEST(RnnTest, RefusesBadShapes) {
  using Dtype = TypeParam;
  Blob<Dtype> bad_static(Shape{3, 2});
  EXPECT_THROW(this->Make()->SetUp({&this->x_, &this->cont_, &bad_static}, {&this->top_}),
               ShapeError);
  Blob<Dtype> h0(Shape{1, 2, 4});
  EXPECT_THROW(this->Make("expose_hidden: true")
                   ->SetUp({&this->x_, &this->cont_, &h0}, {&this->top_, &this->h_last_}),
               ShapeError);
  auto layer = this->Make();
  layer->SetUp({&this->x_, &this->cont_}, {&this->top_});
  Blob<Dtype> wider(Shape{4, 2, 5});
  EXPECT_THROW(layer->Forward({&wider, &this->cont_}, {&this->top_}), ShapeError);
}

}  // namespace
}  // namespace moka::test
