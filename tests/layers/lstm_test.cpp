#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "db.hpp"
#include "gradient_checker.hpp"
#include "layers/recurrent_test_util.hpp"
#include "net.hpp"
#include "proto_io.hpp"
#include "solver_registry.hpp"
#include "temp_dir.hpp"
#include "test_util.hpp"

namespace moka::test {
namespace {

using Shape = std::vector<int>;

/// Keeps a parameter out of template deduction (so that nullptr can be passed).
template <typename T>
struct NoDeduce {
  using type = T;
};

double Sigmoid(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}

/// Caffe's LSTM written out in double from the layer's parameter blobs.
struct LstmReference {
  std::vector<double> h;  // T x N x H
  std::vector<double> h_last, c_last;
};

template <typename Dtype>
LstmReference RunReference(Layer<Dtype>& layer, const Blob<Dtype>& x, const Blob<Dtype>& cont,
                           const typename NoDeduce<Blob<Dtype>>::type* x_static,
                           std::vector<double> h, std::vector<double> c) {
  const int T = x.shape(0), N = x.shape(1), I = x.count(2);
  const auto& blobs = layer.blobs();
  const int G = blobs[0]->shape(0), H = G / 4;
  const int S = x_static == nullptr ? 0 : x_static->count(1);
  const Dtype* w_x = blobs[0]->cpu_data();
  const Dtype* b = blobs[1]->cpu_data();
  const Dtype* w_s = x_static == nullptr ? nullptr : blobs[2]->cpu_data();
  const Dtype* w_h = blobs[x_static == nullptr ? 2 : 3]->cpu_data();
  if (h.empty()) h.assign(N * H, 0.0);
  if (c.empty()) c.assign(N * H, 0.0);
  LstmReference out;
  for (int t = 0; t < T; ++t) {
    std::vector<double> h_next(N * H), c_next(N * H);
    for (int n = 0; n < N; ++n) {
      const double k = cont.cpu_data()[t * N + n];
      std::vector<double> gate(G);
      for (int r = 0; r < G; ++r) {
        double sum = b[r];
        for (int i = 0; i < I; ++i) sum += w_x[r * I + i] * x.cpu_data()[(t * N + n) * I + i];
        for (int s = 0; s < S; ++s) sum += w_s[r * S + s] * x_static->cpu_data()[n * S + s];
        for (int j = 0; j < H; ++j) sum += w_h[r * H + j] * k * h[n * H + j];
        gate[r] = sum;
      }
      for (int d = 0; d < H; ++d) {
        const double i = Sigmoid(gate[d]), f = k * Sigmoid(gate[H + d]);
        const double o = Sigmoid(gate[2 * H + d]), g = std::tanh(gate[3 * H + d]);
        c_next[n * H + d] = f * c[n * H + d] + i * g;
        h_next[n * H + d] = o * std::tanh(c_next[n * H + d]);
      }
    }
    h = h_next;
    c = c_next;
    out.h.insert(out.h.end(), h.begin(), h.end());
  }
  out.h_last = h;
  out.c_last = c;
  return out;
}

const char kLstm[] =
    "name: 'lstm' type: 'LSTM' recurrent_param { num_output: 3 "
    "weight_filler { type: 'gaussian' std: 0.5 } bias_filler { type: 'gaussian' std: 0.5 } ";

template <typename Dtype>
class LstmTest : public ::testing::Test {
 protected:
  LstmTest() : x_(Shape{4, 2, 3}), cont_(Shape{4, 2}), static_(Shape{2, 2}) {
    FillGaussian(&x_, Dtype(1), 3);
    FillGaussian(&static_, Dtype(1), 4);
    // A new sequence in every stream at t = 0, and one in stream 1 at t = 2.
    SetCont<Dtype>(&cont_, {0, 0, 1, 1, 1, 0, 1, 1});
  }
  std::shared_ptr<Layer<Dtype>> Make(const std::string& extra = "") {
    return MakeLayer<Dtype>(std::string(kLstm) + extra + "}", &context_);
  }
  Context context_{Device::kCpu, 0, 1701};
  Blob<Dtype> x_, cont_, static_, top_, h_last_, c_last_;
};
TYPED_TEST_SUITE(LstmTest, TestDtypes);

TYPED_TEST(LstmTest, SetUpMakesCaffesParameterBlobs) {
  using Dtype = TypeParam;
  Blob<Dtype> x(Shape{4, 2, 3, 2});  // features may span several axes
  auto layer = this->Make();
  layer->SetUp({&x, &this->cont_}, {&this->top_});
  EXPECT_EQ(this->top_.shape(), (Shape{4, 2, 3}));
  ASSERT_EQ(layer->blobs().size(), 3u);
  EXPECT_EQ(layer->blobs()[0]->shape(), (Shape{12, 6}));  // W_xc
  EXPECT_EQ(layer->blobs()[1]->shape(), (Shape{12}));     // b_c
  EXPECT_EQ(layer->blobs()[2]->shape(), (Shape{12, 3}));  // W_hc

  auto with_static = this->Make();
  with_static->SetUp({&this->x_, &this->cont_, &this->static_}, {&this->top_});
  ASSERT_EQ(with_static->blobs().size(), 4u);
  EXPECT_EQ(with_static->blobs()[2]->shape(), (Shape{12, 2}));  // W_xc_static
  EXPECT_EQ(with_static->blobs()[3]->shape(), (Shape{12, 3}));  // W_hc
}

TYPED_TEST(LstmTest, ForwardMatchesTheEquationsAndCarriesState) {
  using Dtype = TypeParam;
  auto layer = this->Make();
  layer->SetUp({&this->x_, &this->cont_}, {&this->top_});
  layer->Forward({&this->x_, &this->cont_}, {&this->top_});
  const LstmReference first = RunReference(*layer, this->x_, this->cont_, nullptr, {}, {});
  ExpectNear(this->top_, first.h, "first pass");
  // Continuing every stream: the second batch starts from the first one's final state.
  SetCont<Dtype>(&this->cont_, {1, 1, 1, 1, 0, 1, 1, 1});
  layer->Forward({&this->x_, &this->cont_}, {&this->top_});
  ExpectNear(this->top_,
             RunReference(*layer, this->x_, this->cont_, nullptr, first.h_last, first.c_last).h,
             "second pass");
}

TYPED_TEST(LstmTest, ForwardWithStaticInput) {
  auto layer = this->Make();
  const std::vector<Blob<TypeParam>*> bottom = {&this->x_, &this->cont_, &this->static_};
  layer->SetUp(bottom, {&this->top_});
  layer->Forward(bottom, {&this->top_});
  ExpectNear(this->top_, RunReference(*layer, this->x_, this->cont_, &this->static_, {}, {}).h,
             "static input");
}

TYPED_TEST(LstmTest, OneStepAtATimeEqualsTheWholeSequence) {
  using Dtype = TypeParam;
  auto whole = this->Make();
  whole->SetUp({&this->x_, &this->cont_}, {&this->top_});
  whole->Forward({&this->x_, &this->cont_}, {&this->top_});
  auto stepwise = this->Make();
  Blob<Dtype> x(Shape{1, 2, 3}), cont(Shape{1, 2}), top;
  stepwise->SetUp({&x, &cont}, {&top});
  for (size_t i = 0; i < whole->blobs().size(); ++i) {
    stepwise->blobs()[i]->CopyFrom(*whole->blobs()[i]);
  }
  for (int t = 0; t < 4; ++t) {
    std::copy(this->x_.cpu_data() + t * 6, this->x_.cpu_data() + (t + 1) * 6, x.mutable_cpu_data());
    std::copy(this->cont_.cpu_data() + t * 2, this->cont_.cpu_data() + (t + 1) * 2,
              cont.mutable_cpu_data());
    stepwise->Forward({&x, &cont}, {&top});
    for (int i = 0; i < 6; ++i) {
      EXPECT_NEAR(top.cpu_data()[i], this->top_.cpu_data()[t * 6 + i], 1e-6) << "t " << t;
    }
  }
}

TYPED_TEST(LstmTest, ExposedHiddenStatesAreBottomsAndTops) {
  using Dtype = TypeParam;
  Blob<Dtype> h0(Shape{1, 2, 3}), c0(Shape{1, 2, 3});
  FillGaussian(&h0, Dtype(0.5), 5);
  FillGaussian(&c0, Dtype(0.5), 6);
  SetCont<Dtype>(&this->cont_, {1, 1, 1, 0, 1, 1, 0, 1});
  auto layer = this->Make("expose_hidden: true");
  const std::vector<Blob<Dtype>*> bottom = {&this->x_, &this->cont_, &h0, &c0};
  const std::vector<Blob<Dtype>*> top = {&this->top_, &this->h_last_, &this->c_last_};
  layer->SetUp(bottom, top);
  EXPECT_EQ(this->h_last_.shape(), (Shape{1, 2, 3}));
  for (int pass = 0; pass < 2; ++pass) {  // nothing is carried over: both passes agree
    layer->Forward(bottom, top);
    const LstmReference expected =
        RunReference(*layer, this->x_, this->cont_, nullptr,
                     std::vector<double>(h0.cpu_data(), h0.cpu_data() + 6),
                     std::vector<double>(c0.cpu_data(), c0.cpu_data() + 6));
    ExpectNear(this->top_, expected.h, "h");
    ExpectNear(this->h_last_, expected.h_last, "h_T");
    ExpectNear(this->c_last_, expected.c_last, "c_T");
  }
  EXPECT_THROW(layer->SetUp({&this->x_, &this->cont_, &h0}, top), ConfigError);
}

TYPED_TEST(LstmTest, Gradient) {
  auto layer = this->Make();
  GradientCheckOptions<TypeParam> options;
  options.check_bottoms = {0};
  GradientChecker<TypeParam>(options).Check(layer.get(), {&this->x_, &this->cont_}, {&this->top_});
}

TYPED_TEST(LstmTest, GradientWithStaticInput) {
  auto layer = this->Make();
  GradientCheckOptions<TypeParam> options;
  options.check_bottoms = {0, 2};
  GradientChecker<TypeParam>(options).Check(layer.get(), {&this->x_, &this->cont_, &this->static_},
                                            {&this->top_});
}

TYPED_TEST(LstmTest, GradientWithExposedHiddenFollowsCaffe) {
  using Dtype = TypeParam;
  Blob<Dtype> h0(Shape{1, 2, 3}), c0(Shape{1, 2, 3});
  FillGaussian(&h0, Dtype(0.5), 5);
  FillGaussian(&c0, Dtype(0.5), 6);
  SetCont<Dtype>(&this->cont_, {1, 1, 1, 0, 1, 1, 0, 1});
  auto layer = this->Make("expose_hidden: true");
  const std::vector<Blob<Dtype>*> bottom = {&this->x_, &this->cont_, &h0, &c0};
  const std::vector<Blob<Dtype>*> top = {&this->top_, &this->h_last_, &this->c_last_};
  layer->SetUp(bottom, top);
  CheckFirstTopGradient(layer.get(), bottom, top);
  // Caffe's unrolled net shares only the data of the exposed states: no gradient reaches them.
  h0.set_diff(Dtype(3));
  c0.set_diff(Dtype(3));
  layer->Backward(top, {true, false, true, true}, bottom);
  EXPECT_EQ(h0.asum_diff(), Dtype(0));
  EXPECT_EQ(c0.asum_diff(), Dtype(0));
}

TYPED_TEST(LstmTest, DebugInfoRuns) {
  auto layer = this->Make("debug_info: true");
  const std::vector<Blob<TypeParam>*> bottom = {&this->x_, &this->cont_, &this->static_};
  layer->SetUp(bottom, {&this->top_});
  layer->Forward(bottom, {&this->top_});
  std::mt19937_64 rng(2);
  rng_gaussian<TypeParam>(this->top_.count(), 0, 1, rng, this->top_.mutable_cpu_diff());
  layer->Backward({&this->top_}, {true, false, true}, bottom);
}

TYPED_TEST(LstmTest, RefusesBadShapesAndParameters) {
  using Dtype = TypeParam;
  Blob<Dtype> bad_cont(Shape{4, 3});
  EXPECT_THROW(this->Make()->SetUp({&this->x_, &bad_cont}, {&this->top_}), ShapeError);
  Blob<Dtype> flat(Shape{4, 2});
  EXPECT_THROW(this->Make()->SetUp({&flat, &this->cont_}, {&this->top_}), ShapeError);
  EXPECT_THROW(MakeLayer<Dtype>("type: 'LSTM' recurrent_param { num_output: 0 }", &this->context_)
                   ->SetUp({&this->x_, &this->cont_}, {&this->top_}),
               ConfigError);
  // Weights from a model with another input width.
  LayerParameter param = ParseLayer(std::string(kLstm) + "}");
  for (const Shape& shape : {Shape{12, 5}, Shape{12}, Shape{12, 3}}) {
    BlobProto* proto = param.add_blobs();
    int count = 1;
    for (int dim : shape) {
      proto->mutable_shape()->add_dim(dim);
      count *= dim;
    }
    for (int i = 0; i < count; ++i) proto->add_data(0.1f);
  }
  auto loaded = LayerRegistry<Dtype>::Create(param);
  loaded->set_context(&this->context_);
  EXPECT_THROW(loaded->SetUp({&this->x_, &this->cont_}, {&this->top_}), ShapeError);
}

// Caffe's own small LSTM definitions (shared/caffe-derived/caffe-lstm) build and train.
TEST(LstmCaffeNets, TrainAndDeploy) {
  MOKA_REQUIRE_SHARED(shared);
  const std::string dir = shared + "/caffe-derived/caffe-lstm/";
  SolverParameter solver = ReadSolverParamFromTextFile(dir + "solver.prototxt");
  *solver.mutable_net_param() = ReadNetParamFromTextFile(dir + solver.net());
  solver.clear_net();
  solver.set_max_iter(30);
  solver.set_display(0);
  solver.set_snapshot_after_train(false);
  auto trainer = SolverRegistry<float>::Create(solver);
  auto& net = *trainer->net();
  // The Input layer leaves its blobs as set: a task where the label is the sign pattern of two
  // features, with a sequence start at t = 0 and t = 3.
  FillGaussian(net.blob_by_name("data").get(), 1.0f, 21);
  const float* x = net.blob_by_name("data")->cpu_data();
  float* cont = net.blob_by_name("cont")->mutable_cpu_data();
  float* label = net.blob_by_name("label")->mutable_cpu_data();
  for (int i = 0; i < 12; ++i) {
    cont[i] = (i / 2) % 3 == 0 ? 0.0f : 1.0f;
    label[i] = static_cast<float>((x[i * 5] > 0) + (x[i * 5 + 1] > 0));
  }
  trainer->Step(1);
  const float initial = trainer->smoothed_loss();
  trainer->Step(29);
  EXPECT_TRUE(std::isfinite(trainer->smoothed_loss()));
  EXPECT_LT(trainer->smoothed_loss(), initial);
  NetParameter trained;
  net.ToProto(&trained);

  auto context = std::make_shared<Context>(Device::kCpu, 0, 1);
  Net<float> deploy(dir + "deploy.prototxt", TEST, context);
  deploy.CopyTrainedLayersFrom(trained);
  auto lstm = deploy.layer_by_name("lstm1");
  ASSERT_EQ(lstm->blobs().size(), 3u);
  EXPECT_EQ(lstm->blobs()[0]->shape(), (Shape{32, 5}));
  EXPECT_EQ(lstm->blobs()[2]->shape(), (Shape{32, 8}));
  deploy.blob_by_name("data")->CopyFrom(*net.blob_by_name("data"));
  deploy.blob_by_name("cont")->CopyFrom(*net.blob_by_name("cont"));
  deploy.Forward();
  auto prob = deploy.blob_by_name("prob");
  EXPECT_EQ(prob->shape(), (Shape{6, 2, 3}));
  for (int row = 0; row < 12; ++row) {
    float sum = 0;
    for (int k = 0; k < 3; ++k) sum += prob->cpu_data()[row * 3 + k];
    EXPECT_NEAR(sum, 1.0f, 1e-5);
  }
}

// models/lstm_sequence: the nets build on a few chunks laid out as data/lstm_sequence.py writes
// them, the train net runs a pass, and the deploy net steps one stream.
TEST(LstmSequenceExample, NetsBuildAndRun) {
  const std::string dir = std::string(MOKA_SOURCE_DIR) + "/models/lstm_sequence/";
  TempDir tmp;
  {
    db::LmdbWriter writer(tmp / "chunks");
    int total = 0;
    for (int chunk = 0; chunk < 3; ++chunk) {
      std::string bytes(20 * 16 * 7, '\0');
      for (int t = 0; t < 20; ++t) {
        for (int n = 0; n < 16; ++n) {
          const int step = chunk * 20 + t, digit = (step * 7 + n) % 5;
          const bool start = (step + n) % 9 == 0;
          total = start ? digit : (total + digit) % 5;
          char* cell = &bytes[(t * 16 + n) * 7];
          cell[digit] = 1;
          cell[5] = start ? 0 : 1;
          cell[6] = static_cast<char>(total);
        }
      }
      Datum datum;
      datum.set_channels(20);
      datum.set_height(16);
      datum.set_width(7);
      datum.set_data(bytes);
      writer.Put("0000000" + std::to_string(chunk), datum.SerializeAsString());
    }
    writer.Commit();
  }
  auto context = std::make_shared<Context>(Device::kCpu, 0, 3);
  for (Phase phase : {TRAIN, TEST}) {
    NetParameter param = ReadNetParamFromTextFile(dir + "train_val.prototxt");
    for (auto& layer : *param.mutable_layer()) {
      if (layer.has_data_param()) layer.mutable_data_param()->set_source(tmp / "chunks");
    }
    param.mutable_state()->set_phase(phase);
    Net<float> net(param, context);
    const float loss = net.Forward();
    EXPECT_TRUE(std::isfinite(loss));
    EXPECT_EQ(net.blob_by_name("x")->shape(), (Shape{20, 16, 5}));
    EXPECT_EQ(net.blob_by_name("cont")->shape(), (Shape{20, 16}));
    EXPECT_EQ(net.blob_by_name("label")->shape(), (Shape{20, 16}));
    if (phase == TRAIN) {
      net.Backward();
    } else {
      EXPECT_TRUE(net.has_blob("accuracy"));
    }
  }
  Net<float> deploy(dir + "deploy.prototxt", TEST, context);
  deploy.blob_by_name("x")->mutable_cpu_data()[2] = 1;
  for (int step = 0; step < 3; ++step) {
    deploy.blob_by_name("cont")->mutable_cpu_data()[0] = step == 0 ? 0.0f : 1.0f;
    deploy.Forward();
    const float* prob = deploy.blob_by_name("prob")->cpu_data();
    EXPECT_NEAR(prob[0] + prob[1] + prob[2] + prob[3] + prob[4], 1.0f, 1e-5);
  }
}

}  // namespace
}  // namespace moka::test
