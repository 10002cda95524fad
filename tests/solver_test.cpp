// The solver's scaffolding and loop: building train and test nets, the registry, testing,
// display lines, loss smoothing, stop/snapshot requests, seeding and divergence.
#include "solver.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "proto_io.hpp"
#include "solver_registry.hpp"
#include "solver_test_util.hpp"

namespace moka {
namespace {

using test::ConstantDataNet;
using test::MakeSolverParam;
using test::MakeTinySolver;
using test::ParamValues;
using test::ParseNet;
using test::ParseSolver;
using test::TempDir;
using test::TinyNet;

std::string ErrorText(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& error) {
    return error.what();
  }
  return "";
}

template <typename Dtype>
class SolverTest : public ::testing::Test {
 protected:
  test::QuietLogs quiet_;
  std::string Path(const std::string& name) const { return dir_ / name; }

  TempDir dir_;
};

TYPED_TEST_SUITE(SolverTest, test::TestDtypes);

TYPED_TEST(SolverTest, RegistryKnowsCaffesSolvers) {
  for (const char* type : {"SGD", "Nesterov", "AdaGrad", "RMSProp", "AdaDelta", "Adam"}) {
    EXPECT_TRUE(SolverRegistry<TypeParam>::Has(type)) << type;
    auto solver = SolverRegistry<TypeParam>::Create(
        MakeSolverParam(ConstantDataNet(), std::string("base_lr: 0.1 type: '") + type + "'"));
    EXPECT_STREQ(type, solver->type());
  }
  const std::string text = ErrorText([] {
    SolverRegistry<TypeParam>::Create(MakeSolverParam(ConstantDataNet(), "type: 'LBFGS'"));
  });
  EXPECT_NE(text.find("unknown solver type 'LBFGS'"), std::string::npos) << text;
  EXPECT_NE(text.find("AdaDelta"), std::string::npos) << text;
}

TYPED_TEST(SolverTest, DeprecatedSolverTypeEnumIsUpgraded) {
  auto solver = SolverRegistry<TypeParam>::Create(
      MakeSolverParam(ConstantDataNet(), "base_lr: 0.1 solver_type: RMSPROP"));
  EXPECT_STREQ("RMSProp", solver->type());
  EXPECT_EQ("RMSProp", solver->param().type());
  EXPECT_FALSE(solver->param().has_solver_type());
  EXPECT_THROW(SolverRegistry<TypeParam>::Create(MakeSolverParam(
                   ConstantDataNet(), "base_lr: 0.1 solver_type: ADAM type: 'Adam'")),
               ConfigError);
}

TYPED_TEST(SolverTest, SolverSpecificChecks) {
  EXPECT_THROW(SolverRegistry<TypeParam>::Create(
                   MakeSolverParam(ConstantDataNet(), "type: 'AdaGrad' momentum: 0.9")),
               ConfigError);
  EXPECT_THROW(SolverRegistry<TypeParam>::Create(
                   MakeSolverParam(ConstantDataNet(), "type: 'RMSProp' momentum: 0.9")),
               ConfigError);
  EXPECT_THROW(SolverRegistry<TypeParam>::Create(
                   MakeSolverParam(ConstantDataNet(), "type: 'RMSProp' rms_decay: 1.5")),
               ConfigError);
  EXPECT_THROW(SolverRegistry<TypeParam>::Create(MakeSolverParam(
                   ConstantDataNet(), "type: 'SGD' weight_decay: 0.1 regularization_type: 'L3'")),
               ConfigError);
  EXPECT_THROW(SolverRegistry<TypeParam>::Create(
                   MakeSolverParam(ConstantDataNet(), "type: 'SGD' average_loss: 0")),
               ConfigError);
}

TYPED_TEST(SolverTest, TrainNetMustBeGivenExactlyOnce) {
  const std::string none =
      ErrorText([] { SolverRegistry<TypeParam>::Create(ParseSolver("base_lr: 0.1")); });
  EXPECT_NE(none.find("train net"), std::string::npos) << none;
  SolverParameter two = MakeSolverParam(ConstantDataNet(), "base_lr: 0.1");
  *two.mutable_train_net_param() = ParseNet(ConstantDataNet());
  EXPECT_THROW(SolverRegistry<TypeParam>::Create(two), ConfigError);
}

TYPED_TEST(SolverTest, TestIterMustMatchTestNets) {
  SolverParameter param = ParseSolver("base_lr: 0.1 test_interval: 5 test_iter: 2 test_iter: 2");
  *param.mutable_train_net_param() = ParseNet(ConstantDataNet());
  *param.add_test_net_param() = ParseNet(ConstantDataNet());
  const std::string text = ErrorText([&] { SolverRegistry<TypeParam>::Create(param); });
  EXPECT_NE(text.find("test_iter"), std::string::npos) << text;

  param.mutable_test_iter()->RemoveLast();
  auto solver = SolverRegistry<TypeParam>::Create(param);
  EXPECT_EQ(1u, solver->test_nets().size());

  // A generic net serves as one test net per test_iter entry; test_state must then match too.
  SolverParameter generic =
      MakeSolverParam(ConstantDataNet(), "base_lr: 0.1 test_interval: 5 test_iter: 1 test_iter: 3");
  EXPECT_EQ(2u, SolverRegistry<TypeParam>::Create(generic)->test_nets().size());
  generic.add_test_state();
  EXPECT_THROW(SolverRegistry<TypeParam>::Create(generic), ConfigError);

  SolverParameter no_interval = MakeSolverParam(ConstantDataNet(), "base_lr: 0.1 test_iter: 1");
  EXPECT_THROW(SolverRegistry<TypeParam>::Create(no_interval), ConfigError);
}

TYPED_TEST(SolverTest, NetStatesFollowPhaseAndSolverStates) {
  // Layers kept only in some states; each adds an output blob we can look for.
  const std::string net = ConstantDataNet() + R"(
    layer { name: "train_only" type: "Silence" bottom: "out" include { phase: TRAIN } }
    layer { name: "staged" type: "Split" bottom: "label" top: "staged_copy"
            include { stage: "extra" } }
    layer { name: "test_only" type: "Split" bottom: "label" top: "test_copy"
            include { phase: TEST } }
  )";
  SolverParameter param = MakeSolverParam(
      net,
      "base_lr: 0.1 test_interval: 10 test_iter: 1 test_iter: 1 "
      "train_state { stage: 'extra' } test_state { } test_state { stage: 'extra' }");
  auto solver = SolverRegistry<TypeParam>::Create(param);
  const Net<TypeParam>& train = *solver->net();
  EXPECT_EQ(TRAIN, train.phase());
  EXPECT_TRUE(train.has_layer("train_only"));
  EXPECT_TRUE(train.has_layer("staged"));
  EXPECT_FALSE(train.has_layer("test_only"));
  ASSERT_EQ(2u, solver->test_nets().size());
  const Net<TypeParam>& test0 = *solver->test_nets()[0];
  const Net<TypeParam>& test1 = *solver->test_nets()[1];
  EXPECT_EQ(TEST, test0.phase());
  EXPECT_FALSE(test0.has_layer("train_only"));
  EXPECT_FALSE(test0.has_layer("staged"));
  EXPECT_TRUE(test0.has_layer("test_only"));
  EXPECT_TRUE(test1.has_layer("staged"));
}

TYPED_TEST(SolverTest, NetFilesAreRelativeToTheWorkingDirectory) {
  { std::ofstream(this->Path("net.prototxt")) << ConstantDataNet(); }
  const std::string saved = std::filesystem::current_path().string();
  std::filesystem::current_path(this->dir_.path());
  std::string error;
  try {
    auto solver = SolverRegistry<TypeParam>::Create(
        ParseSolver("net: 'net.prototxt' base_lr: 0.1 test_iter: 1 test_interval: 3"));
    EXPECT_EQ("constant", solver->net()->name());
    EXPECT_EQ(1u, solver->test_nets().size());
  } catch (const Error& e) {
    error = e.what();
  }
  std::filesystem::current_path(saved);
  EXPECT_EQ("", error);
}

TYPED_TEST(SolverTest, TestNetsShareTrainedWeightsAndAverageOutputs) {
  // The test net sees the same constant batch, so its mean loss equals the train net's loss at
  // the weights of that iteration.
  SolverParameter param = MakeSolverParam(
      ConstantDataNet(),
      "base_lr: 0.05 lr_policy: 'fixed' random_seed: 3 test_iter: 3 test_interval: 2 "
      "test_initialization: false");
  auto solver = SolverRegistry<TypeParam>::Create(param);
  solver->Step(2);
  solver->TestAll();
  const TypeParam train_loss = solver->net()->Forward();
  ASSERT_EQ(1u, solver->mean_scores().size());
  ASSERT_EQ(1u, solver->mean_scores()[0].size());
  EXPECT_NEAR(train_loss, solver->mean_scores()[0][0], 1e-6 * (1 + std::abs(train_loss)));
  const Net<TypeParam>& test_net = *solver->test_nets()[0];
  EXPECT_EQ(solver->net()->layer_by_name("ip")->blobs()[0]->cpu_data(),
            test_net.layer_by_name("ip")->blobs()[0]->cpu_data());
}

TYPED_TEST(SolverTest, LogLinesMatchCaffe) {
  SolverParameter param = MakeSolverParam(
      ConstantDataNet(),
      "base_lr: 0.01 lr_policy: 'fixed' random_seed: 3 max_iter: 4 display: 2 test_iter: 2 "
      "test_interval: 2 clip_gradients: 0.000001");
  param.set_snapshot_prefix(this->Path("logged"));
  auto solver = SolverRegistry<TypeParam>::Create(param);
  test::LogCapture capture;
  solver->Solve();
  const std::regex display(
      R"(^Iteration 2 \([-+0-9.e]+ iter/s, [-+0-9.e]+s/2 iters\), loss = [-+0-9.e]+$)");
  bool found_display = false;
  for (const auto& line : capture.lines()) found_display |= std::regex_match(line, display);
  EXPECT_TRUE(found_display);
  EXPECT_TRUE(capture.Contains("Iteration 0, lr = 0.01"));
  EXPECT_TRUE(capture.Contains("Iteration 2, lr = 0.01"));
  EXPECT_FALSE(capture.Contains("Iteration 1, lr"));
  const std::regex train_output(
      R"(^    Train net output #0: loss = ([-+0-9.e]+) \(\* 1 = ([-+0-9.e]+) loss\)$)");
  int train_outputs = 0;
  for (const auto& line : capture.lines()) train_outputs += std::regex_match(line, train_output);
  EXPECT_EQ(2, train_outputs);
  EXPECT_TRUE(capture.Contains("Iteration 0, Testing net (#0)"));
  EXPECT_TRUE(capture.Contains("Iteration 2, Testing net (#0)"));
  EXPECT_TRUE(capture.Contains("Iteration 4, Testing net (#0)"));
  const std::regex test_output(
      R"(^    Test net output #0: loss = [-+0-9.e]+ \(\* 1 = [-+0-9.e]+ loss\)$)");
  int test_outputs = 0;
  for (const auto& line : capture.lines()) test_outputs += std::regex_match(line, test_output);
  EXPECT_EQ(3, test_outputs);
  EXPECT_TRUE(capture.Contains("Gradient clipping: scaling down gradients (L2 norm "));
  EXPECT_TRUE(capture.Contains("Iteration 4, loss = "));
  EXPECT_TRUE(capture.Contains("Snapshotting to binary proto file " +
                               this->Path("logged_iter_4.caffemodel")));
  EXPECT_TRUE(capture.Contains("Snapshotting solver state to binary proto file " +
                               this->Path("logged_iter_4.solverstate")));
  EXPECT_EQ("Optimization Done.", capture.lines().back());
}

TYPED_TEST(SolverTest, SmoothedLossAveragesTheLastIterations) {
  const SolverParameter single =
      MakeSolverParam(TinyNet(), "base_lr: 0.1 lr_policy: 'fixed' momentum: 0.5 random_seed: 8");
  auto reference = MakeTinySolver<TypeParam>(single);
  std::vector<double> losses;
  for (int i = 0; i < 5; ++i) {
    reference->Step(1);
    losses.push_back(reference->smoothed_loss());
  }
  SolverParameter averaged = single;
  averaged.set_average_loss(3);
  auto solver = MakeTinySolver<TypeParam>(averaged);
  solver->Step(5);
  const double expected = (losses[2] + losses[3] + losses[4]) / 3;
  EXPECT_NEAR(expected, solver->smoothed_loss(), 1e-5 * (1 + std::abs(expected)));
}

TYPED_TEST(SolverTest, RandomSeedMakesRunsRepeatable) {
  // Gaussian weights, and a dropout mask on every forward pass, both drawn from the context.
  const std::string net = TinyNet(
      R"(layer { name: "drop" type: "Dropout" bottom: "out" top: "dropped"
                 dropout_param { dropout_ratio: 0.3 } })",
      "dropped");
  auto run = [&](int seed) {
    auto solver = MakeTinySolver<TypeParam>(MakeSolverParam(
        net,
        "base_lr: 0.05 lr_policy: 'fixed' momentum: 0.9 random_seed: " + std::to_string(seed)));
    std::vector<TypeParam> losses;
    for (int i = 0; i < 6; ++i) {
      solver->Step(1);
      losses.push_back(solver->smoothed_loss());
    }
    return std::make_pair(losses, ParamValues(*solver->net()));
  };
  const auto first = run(1701);
  const auto second = run(1701);
  const auto other = run(1702);
  EXPECT_EQ(first.first, second.first);
  EXPECT_EQ(first.second, second.second);
  EXPECT_NE(first.first, other.first);
}

TYPED_TEST(SolverTest, DivergenceStopsWithNumericErrorAndKeepsGoodSnapshots) {
  SolverParameter param = MakeSolverParam(
      TinyNet(), "base_lr: 1e20 lr_policy: 'fixed' random_seed: 2 max_iter: 200 snapshot: 1");
  param.set_snapshot_prefix(this->Path("div"));
  auto solver = MakeTinySolver<TypeParam>(param);
  std::string text;
  try {
    solver->Solve();
    FAIL() << "expected NumericError";
  } catch (const NumericError& error) {
    text = error.what();
  }
  std::smatch match;
  ASSERT_TRUE(
      std::regex_search(text, match, std::regex(R"(loss is (NaN|infinite) at iteration (\d+))")))
      << text;
  const int bad_iter = std::stoi(match[2]);
  EXPECT_EQ(bad_iter, solver->iter());
  EXPECT_GT(bad_iter, 0);
  EXPECT_TRUE(FileExists(this->Path("div_iter_" + std::to_string(bad_iter) + ".solverstate")));
  EXPECT_FALSE(FileExists(this->Path("div_iter_" + std::to_string(bad_iter + 1) + ".caffemodel")));
}

TYPED_TEST(SolverTest, StopRequestEndsSolveEarlyWithSnapshot) {
  SolverParameter param =
      MakeSolverParam(TinyNet(), "base_lr: 0.01 lr_policy: 'fixed' random_seed: 2 max_iter: 50");
  param.set_snapshot_prefix(this->Path("stop"));
  auto solver = MakeTinySolver<TypeParam>(param);
  int polls = 0;
  solver->set_action_function([&polls] {
    ++polls;
    if (polls == 2) return SolverAction::SNAPSHOT;
    if (polls == 3) return SolverAction::STOP;
    return SolverAction::NONE;
  });
  solver->Solve();
  EXPECT_EQ(3, solver->iter());
  EXPECT_TRUE(solver->requested_early_exit());
  EXPECT_TRUE(FileExists(this->Path("stop_iter_2.caffemodel")));
  EXPECT_TRUE(FileExists(this->Path("stop_iter_3.caffemodel")));  // snapshot_after_train
  EXPECT_FALSE(FileExists(this->Path("stop_iter_50.caffemodel")));
}

TYPED_TEST(SolverTest, StopRequestDuringTestInterruptsIt) {
  SolverParameter param =
      MakeSolverParam(ConstantDataNet(),
                      "base_lr: 0.01 lr_policy: 'fixed' max_iter: 10 test_iter: 5 "
                      "test_interval: 5 snapshot_after_train: false");
  auto solver = SolverRegistry<TypeParam>::Create(param);
  int polls = 0;
  solver->set_action_function(
      [&polls] { return ++polls == 2 ? SolverAction::STOP : SolverAction::NONE; });
  solver->Solve();
  EXPECT_EQ(0, solver->iter());
  EXPECT_TRUE(solver->requested_early_exit());
}

TYPED_TEST(SolverTest, WeightsFieldInitialisesTheTrainNet) {
  SolverParameter param =
      MakeSolverParam(TinyNet(), "base_lr: 0.1 lr_policy: 'fixed' random_seed: 11 max_iter: 2");
  param.set_snapshot_prefix(this->Path("w"));
  auto trained = MakeTinySolver<TypeParam>(param);
  trained->Solve();
  SolverParameter finetune = MakeSolverParam(TinyNet(), "base_lr: 0.1 random_seed: 12");
  finetune.add_weights(this->Path("w_iter_2.caffemodel"));
  auto solver = MakeTinySolver<TypeParam>(finetune);
  EXPECT_EQ(ParamValues(*trained->net()), ParamValues(*solver->net()));
}

}  // namespace
}  // namespace moka
