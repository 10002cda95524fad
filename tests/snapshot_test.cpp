// Snapshots and restore: a run resumed from a snapshot matches the uninterrupted run exactly,
// snapshot files are Caffe's (.caffemodel NetParameter, .solverstate SolverState), and bad state
// files raise IoError.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "proto_io.hpp"
#include "solver_test_util.hpp"
#include "solvers/sgd.hpp"

namespace moka {
namespace {

using test::MakeSolverParam;
using test::MakeTinySolver;
using test::ParamValues;
using test::TempDir;
using test::TinyNet;

template <typename Dtype>
std::vector<std::vector<Dtype>> HistoryValues(const Solver<Dtype>& solver) {
  std::vector<std::vector<Dtype>> values;
  const auto* sgd = dynamic_cast<const SgdSolver<Dtype>*>(&solver);
  EXPECT_NE(nullptr, sgd);
  if (sgd == nullptr) return values;
  for (const auto& blob : sgd->history()) {
    values.emplace_back(blob->cpu_data(), blob->cpu_data() + blob->count());
  }
  return values;
}

template <typename Dtype>
std::vector<Dtype> RunSteps(Solver<Dtype>* solver, int steps) {
  std::vector<Dtype> losses;
  for (int i = 0; i < steps; ++i) {
    solver->Step(1);
    losses.push_back(solver->smoothed_loss());
  }
  return losses;
}

template <typename Dtype>
class SnapshotTest : public ::testing::Test {
 protected:
  test::QuietLogs quiet_;
  std::string Path(const std::string& name) const { return dir_ / name; }

  TempDir dir_;
};

TYPED_TEST_SUITE(SnapshotTest, test::TestDtypes);

TYPED_TEST(SnapshotTest, ResumeEqualsUninterruptedRun) {
  const std::vector<std::string> cases = {
      "type: 'SGD' base_lr: 0.1 momentum: 0.9 lr_policy: 'multistep' gamma: 0.5 "
      "stepvalue: 1 stepvalue: 2 stepvalue: 4 weight_decay: 0.01",
      "type: 'Nesterov' base_lr: 0.05 momentum: 0.9 lr_policy: 'step' gamma: 0.7 stepsize: 2",
      "type: 'AdaGrad' base_lr: 0.1 lr_policy: 'fixed'",
      "type: 'RMSProp' base_lr: 0.01 lr_policy: 'fixed'",
      "type: 'AdaDelta' base_lr: 1 momentum: 0.95 delta: 0.000001 lr_policy: 'fixed'",
      "type: 'Adam' base_lr: 0.01 momentum: 0.9 lr_policy: 'inv' gamma: 0.1 power: 0.75 "
      "iter_size: 2"};
  for (const std::string& fields : cases) {
    SCOPED_TRACE(fields);
    const SolverParameter base = MakeSolverParam(
        TinyNet(), fields + " random_seed: 5 max_iter: 6 snapshot_after_train: false");

    auto whole = MakeTinySolver<TypeParam>(base);
    const std::vector<TypeParam> whole_losses = RunSteps(whole.get(), 6);

    SolverParameter first_param = base;
    first_param.set_snapshot(3);
    first_param.set_snapshot_prefix(this->Path("run"));
    auto first = MakeTinySolver<TypeParam>(first_param);
    std::vector<TypeParam> losses = RunSteps(first.get(), 3);
    const std::string state_file = this->Path("run_iter_3.solverstate");
    ASSERT_TRUE(FileExists(this->Path("run_iter_3.caffemodel")));
    ASSERT_TRUE(FileExists(state_file));

    // A different seed gives different initial weights: everything must come from the snapshot.
    SolverParameter second_param = base;
    second_param.set_random_seed(77);
    auto second = MakeTinySolver<TypeParam>(second_param);
    second->Restore(state_file);
    EXPECT_EQ(3, second->iter());
    EXPECT_EQ(first->current_step(), second->current_step());
    EXPECT_EQ(ParamValues(*first->net()), ParamValues(*second->net()));
    EXPECT_EQ(HistoryValues(*first), HistoryValues(*second));
    const std::vector<TypeParam> rest = RunSteps(second.get(), 3);
    losses.insert(losses.end(), rest.begin(), rest.end());

    EXPECT_EQ(whole_losses, losses);
    EXPECT_EQ(ParamValues(*whole->net()), ParamValues(*second->net()));
    EXPECT_EQ(HistoryValues(*whole), HistoryValues(*second));

    // Solve(resume_file) takes the same path and trains to max_iter.
    auto resumed = MakeTinySolver<TypeParam>(second_param);
    resumed->Solve(state_file);
    EXPECT_EQ(6, resumed->iter());
    EXPECT_EQ(ParamValues(*whole->net()), ParamValues(*resumed->net()));
  }
}

TYPED_TEST(SnapshotTest, SnapshotFilesHoldCaffesMessages) {
  SolverParameter param =
      MakeSolverParam(TinyNet(),
                      "type: 'Adam' base_lr: 0.01 lr_policy: 'fixed' random_seed: 2 max_iter: 4 "
                      "snapshot: 2 snapshot_diff: true");
  param.set_snapshot_prefix(this->Path("adam"));
  auto solver = MakeTinySolver<TypeParam>(param);
  solver->Solve();
  EXPECT_TRUE(FileExists(this->Path("adam_iter_2.caffemodel")));
  EXPECT_TRUE(FileExists(this->Path("adam_iter_4.solverstate")));
  // max_iter is a multiple of snapshot: no extra final snapshot, and no temporary files left.
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(this->dir_.path())) {
    ++files;
    (void)entry;
  }
  EXPECT_EQ(4, files);

  SolverState state;
  ReadProtoFromBinaryFile(this->Path("adam_iter_4.solverstate"), &state);
  EXPECT_EQ(4, state.iter());
  EXPECT_EQ(this->Path("adam_iter_4.caffemodel"), state.learned_net());
  EXPECT_EQ(4, state.history_size());  // m and v for the weight and the bias

  const NetParameter model = ReadNetParamFromBinaryFile(this->Path("adam_iter_4.caffemodel"));
  bool found_ip = false;
  for (const auto& layer : model.layer()) {
    if (layer.name() != "ip") continue;
    found_ip = true;
    ASSERT_EQ(2, layer.blobs_size());
    const auto weights = ParamValues(*solver->net());
    const BlobProto& blob = layer.blobs(0);
    const int stored = std::max(blob.data_size(), blob.double_data_size());
    ASSERT_EQ(static_cast<int>(weights[0].size()), stored);
    const bool has_diff = blob.diff_size() > 0 || blob.double_diff_size() > 0;
    EXPECT_TRUE(has_diff) << "snapshot_diff: true must write diffs";
  }
  EXPECT_TRUE(found_ip);
}

TYPED_TEST(SnapshotTest, FinalSnapshotAfterTrain) {
  SolverParameter param = MakeSolverParam(
      TinyNet(), "type: 'SGD' base_lr: 0.01 lr_policy: 'fixed' max_iter: 5 snapshot: 2");
  param.set_snapshot_prefix(this->Path("final"));
  auto solver = MakeTinySolver<TypeParam>(param);
  solver->Solve();
  EXPECT_TRUE(FileExists(this->Path("final_iter_2.caffemodel")));
  EXPECT_TRUE(FileExists(this->Path("final_iter_4.caffemodel")));
  EXPECT_TRUE(FileExists(this->Path("final_iter_5.caffemodel")));
  EXPECT_TRUE(FileExists(this->Path("final_iter_5.solverstate")));
}

TYPED_TEST(SnapshotTest, RestoreFindsWeightsBesideMovedState) {
  SolverParameter param =
      MakeSolverParam(TinyNet(),
                      "type: 'SGD' base_lr: 0.1 momentum: 0.9 lr_policy: 'fixed' random_seed: 4 "
                      "max_iter: 2 snapshot_after_train: true");
  param.set_snapshot_prefix(this->Path("orig"));
  auto solver = MakeTinySolver<TypeParam>(param);
  solver->Solve();
  const std::string moved = this->Path("moved");
  std::filesystem::create_directory(moved);
  for (const char* ext : {".caffemodel", ".solverstate"}) {
    std::filesystem::rename(this->Path(std::string("orig_iter_2") + ext),
                            moved + "/orig_iter_2" + ext);
  }
  param.set_random_seed(9);
  auto restored = MakeTinySolver<TypeParam>(param);
  restored->Restore(moved + "/orig_iter_2.solverstate");
  EXPECT_EQ(ParamValues(*solver->net()), ParamValues(*restored->net()));
}

TYPED_TEST(SnapshotTest, MissingOrCorruptStateIsIoError) {
  const SolverParameter param =
      MakeSolverParam(TinyNet(), "type: 'SGD' base_lr: 0.1 lr_policy: 'fixed' random_seed: 1");
  auto solver = MakeTinySolver<TypeParam>(param);
  EXPECT_THROW(solver->Restore(this->Path("absent.solverstate")), IoError);

  const std::string garbage = this->Path("garbage.solverstate");
  std::ofstream(garbage) << "this is not a solver state \xff\xff\xff";
  EXPECT_THROW(solver->Restore(garbage), IoError);

  const std::string empty = this->Path("empty.solverstate");
  std::ofstream(empty).close();
  EXPECT_THROW(solver->Restore(empty), IoError);

  // A real state cut in half.
  SolverParameter snap_param = param;
  snap_param.set_max_iter(1);
  snap_param.set_snapshot_prefix(this->Path("cut"));
  auto writer = MakeTinySolver<TypeParam>(snap_param);
  writer->Solve();
  const std::string state_file = this->Path("cut_iter_1.solverstate");
  ASSERT_TRUE(FileExists(state_file));
  const auto size = std::filesystem::file_size(state_file);
  std::filesystem::resize_file(state_file, size / 2);
  EXPECT_THROW(solver->Restore(state_file), IoError);

  // A state whose weights file has gone.
  writer->Snapshot();  // rewrites cut_iter_1.*
  std::filesystem::remove(this->Path("cut_iter_1.caffemodel"));
  EXPECT_THROW(solver->Restore(state_file), IoError);
}

TYPED_TEST(SnapshotTest, StateOfAnotherSolverTypeIsRejected) {
  SolverParameter adam_param = MakeSolverParam(
      TinyNet(), "type: 'Adam' base_lr: 0.01 lr_policy: 'fixed' random_seed: 1 max_iter: 1");
  adam_param.set_snapshot_prefix(this->Path("adam"));
  MakeTinySolver<TypeParam>(adam_param)->Solve();
  const SolverParameter sgd_param =
      MakeSolverParam(TinyNet(), "type: 'SGD' base_lr: 0.01 lr_policy: 'fixed' random_seed: 1");
  auto sgd = MakeTinySolver<TypeParam>(sgd_param);
  try {
    sgd->Restore(this->Path("adam_iter_1.solverstate"));
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("history"), std::string::npos) << error.what();
  }
}

TYPED_TEST(SnapshotTest, SnapshotWithoutPrefixIsConfigError) {
  const SolverParameter param =
      MakeSolverParam(TinyNet(), "type: 'SGD' base_lr: 0.1 lr_policy: 'fixed' snapshot: 5");
  EXPECT_THROW(SolverRegistry<TypeParam>::Create(param), ConfigError);
  SolverParameter unwritable = param;
  unwritable.set_snapshot_prefix(this->Path("no/such/dir/prefix"));
  EXPECT_THROW(SolverRegistry<TypeParam>::Create(unwritable), IoError);
}

}  // namespace
}  // namespace moka
