// HDF5 I/O: blob, int and string round trips in Caffe's layout, nets written and read as
// .caffemodel.h5 (shared parameters stored once), and HDF5 solver snapshots that resume exactly
// as binaryproto ones do.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "hdf5_io.hpp"
#include "net.hpp"
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
class Hdf5IoTest : public ::testing::Test {
 protected:
  TempDir dir_;
};

TYPED_TEST_SUITE(Hdf5IoTest, test::TestDtypes);

TYPED_TEST(Hdf5IoTest, BlobIntAndStringRoundTrip) {
  const std::string path = this->dir_ / "round.h5";
  Blob<TypeParam> blob({2, 3, 1, 5});
  for (int i = 0; i < blob.count(); ++i) blob.mutable_cpu_data()[i] = TypeParam(0.25) * i - 1;
  for (int i = 0; i < blob.count(); ++i) blob.mutable_cpu_diff()[i] = TypeParam(-3) * i;
  {
    Hdf5Handle file = Hdf5CreateFile(path);
    Hdf5WriteBlob(file, "data", blob);
    Hdf5Handle group = Hdf5CreateGroup(file, "nested/inner");
    Hdf5WriteBlob(group, "diff", blob, true);
    Hdf5WriteInt(file, "iter", 1234);
    Hdf5WriteString(file, "learned_net", "snapshots/x_iter_3.caffemodel.h5");
  }
  Hdf5Handle file = Hdf5OpenFile(path);
  Blob<TypeParam> data;
  Hdf5ReadBlob(file, "data", &data);
  EXPECT_EQ(blob.shape(), data.shape());
  for (int i = 0; i < blob.count(); ++i) EXPECT_EQ(blob.cpu_data()[i], data.cpu_data()[i]);
  EXPECT_TRUE(Hdf5HasLink(file, "nested/inner/diff"));
  EXPECT_FALSE(Hdf5HasLink(file, "nested/absent/diff"));
  Hdf5Handle inner = Hdf5OpenGroup(file, "nested/inner");
  Blob<TypeParam> diff(blob.shape());
  Hdf5ReadBlob(inner, "diff", &diff, false);
  for (int i = 0; i < blob.count(); ++i) EXPECT_EQ(blob.cpu_diff()[i], diff.cpu_data()[i]);
  EXPECT_EQ(1234, Hdf5ReadInt(file, "iter"));
  EXPECT_EQ("snapshots/x_iter_3.caffemodel.h5", Hdf5ReadString(file, "learned_net"));
  EXPECT_EQ((std::vector<std::string>{"data", "iter", "learned_net", "nested"}),
            Hdf5ChildNames(file));
  EXPECT_EQ((std::vector<int>{2, 3, 1, 5}), Hdf5DatasetShape(file, "data"));
}

TYPED_TEST(Hdf5IoTest, ErrorsNameTheFileAndDataset) {
  EXPECT_THROW(Hdf5OpenFile(this->dir_ / "absent.h5"), IoError);
  const std::string not_hdf5 = this->dir_ / "text.h5";
  WriteProtoToTextFile(NetParameter(), not_hdf5);
  EXPECT_THROW(Hdf5OpenFile(not_hdf5), IoError);

  const std::string path = this->dir_ / "shapes.h5";
  {
    Hdf5Handle file = Hdf5CreateFile(path);
    Blob<TypeParam> blob({2, 3});
    blob.set_data(1);
    Hdf5WriteBlob(file, "m", blob);
    Hdf5WriteString(file, "s", "text");
  }
  Hdf5Handle file = Hdf5OpenFile(path);
  Blob<TypeParam> target({3, 2});
  try {
    Hdf5ReadBlob(file, "m", &target, false);
    FAIL() << "expected ShapeError";
  } catch (const ShapeError& error) {
    const std::string what = error.what();
    EXPECT_NE(what.find("'m'"), std::string::npos) << what;
    EXPECT_NE(what.find("2 3 (6)"), std::string::npos) << what;
    EXPECT_NE(what.find("3 2 (6)"), std::string::npos) << what;
  }
  EXPECT_THROW(Hdf5ReadBlob(file, "m", &target, true, 3, 4), ShapeError);
  try {
    Hdf5ReadBlob(file, "absent", &target);
    FAIL() << "expected IoError";
  } catch (const IoError& error) {
    EXPECT_NE(std::string(error.what()).find(path), std::string::npos) << error.what();
  }
  EXPECT_THROW(Hdf5ReadBlob(file, "s", &target), IoError);
  EXPECT_THROW(Hdf5ReadString(file, "m"), IoError);
  EXPECT_THROW(Hdf5ReadInt(file, "m"), ShapeError);
}

// A net with a parameter shared between two layers: Caffe writes the shared blob once, under its
// owner, and the reader accepts the missing copy.
const char kSharedNet[] = R"(
  name: "shared"
  layer { name: "input" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 } } }
  layer { name: "ip/a" type: "InnerProduct" bottom: "data" top: "a"
          param { name: "w" } param { name: "b" }
          inner_product_param { num_output: 3 weight_filler { type: "gaussian" std: 1 }
                                bias_filler { type: "gaussian" std: 1 } } }
  layer { name: "ip/b" type: "InnerProduct" bottom: "a" top: "b"
          param { name: "w" } param { name: "b" }
          inner_product_param { num_output: 3 } }
  layer { name: "ip" type: "InnerProduct" bottom: "b" top: "c"
          inner_product_param { num_output: 4 weight_filler { type: "gaussian" std: 1 } } }
)";

template <typename Dtype>
std::shared_ptr<Net<Dtype>> MakeNet(const std::string& text, uint64_t seed) {
  auto context = std::make_shared<Context>();
  context->rng().seed(seed);
  return std::make_shared<Net<Dtype>>(test::ParseNet(text), context);
}

TYPED_TEST(Hdf5IoTest, NetWeightsRoundTripWithSharedParams) {
  const std::string path = this->dir_ / "w.caffemodel.h5";
  auto source = MakeNet<TypeParam>(kSharedNet, 1);
  source->ToHdf5(path);
  {
    Hdf5Handle file = Hdf5OpenFile(path);
    EXPECT_FALSE(Hdf5HasLink(file, "diff"));
    Hdf5Handle data = Hdf5OpenGroup(file, "data");
    EXPECT_TRUE(Hdf5HasLink(data, "input"));
    EXPECT_TRUE(Hdf5HasLink(data, "ip/a/0"));
    EXPECT_TRUE(Hdf5HasLink(data, "ip/a/1"));
    EXPECT_FALSE(Hdf5HasLink(data, "ip/b/0"));
    EXPECT_EQ((std::vector<int>{4, 3}), Hdf5DatasetShape(data, "ip/0"));
  }
  auto target = MakeNet<TypeParam>(kSharedNet, 2);
  ASSERT_NE(ParamValues(*source), ParamValues(*target));
  target->CopyTrainedLayersFrom(path);
  EXPECT_EQ(ParamValues(*source), ParamValues(*target));
  for (size_t i = 0; i < source->params().size(); ++i) {
    const auto& a = *source->params()[i];
    const auto& b = *target->params()[i];
    for (int j = 0; j < a.count(); ++j) EXPECT_EQ(a.cpu_data()[j], b.cpu_data()[j]);
  }

  // With diffs, every layer's diff is written, shared ones included.
  source->ToHdf5(path, true);
  Hdf5Handle file = Hdf5OpenFile(path);
  EXPECT_TRUE(Hdf5HasLink(file, "diff/ip/b/0"));
}

TYPED_TEST(Hdf5IoTest, WeightShapeMismatchNamesLayerAndShapes) {
  const std::string path = this->dir_ / "w.caffemodel.h5";
  MakeNet<TypeParam>(kSharedNet, 1)->ToHdf5(path);
  std::string other = kSharedNet;
  other.replace(other.find("num_output: 4"), 13, "num_output: 5");
  auto target = MakeNet<TypeParam>(other, 2);
  try {
    target->CopyTrainedLayersFrom(path);
    FAIL() << "expected ShapeError";
  } catch (const ShapeError& error) {
    const std::string what = error.what();
    EXPECT_NE(what.find("layer 'ip'"), std::string::npos) << what;
    EXPECT_NE(what.find("4 3 (12)"), std::string::npos) << what;
    EXPECT_NE(what.find("5 3 (15)"), std::string::npos) << what;
    EXPECT_NE(what.find(path), std::string::npos) << what;
  }
}

template <typename Dtype>
std::vector<std::vector<Dtype>> HistoryValues(const Solver<Dtype>& solver) {
  std::vector<std::vector<Dtype>> values;
  const auto* sgd = dynamic_cast<const SgdSolver<Dtype>*>(&solver);
  if (sgd == nullptr) return values;
  for (const auto& blob : sgd->history()) {
    values.emplace_back(blob->cpu_data(), blob->cpu_data() + blob->count());
  }
  return values;
}

TYPED_TEST(Hdf5IoTest, Hdf5SnapshotResumesAsBinaryprotoDoes) {
  test::QuietLogs quiet;
  for (const char* fields :
       {"type: 'SGD' base_lr: 0.1 momentum: 0.9 lr_policy: 'multistep' gamma: 0.5 stepvalue: 1 "
        "stepvalue: 2 stepvalue: 4 weight_decay: 0.01",
        "type: 'Adam' base_lr: 0.01 momentum: 0.9 lr_policy: 'fixed'"}) {
    SCOPED_TRACE(fields);
    const SolverParameter base = MakeSolverParam(
        TinyNet(), std::string(fields) + " random_seed: 5 max_iter: 5 snapshot: 2 "
                                         "snapshot_after_train: false");
    SolverParameter binary_param = base;
    binary_param.set_snapshot_prefix(this->dir_ / "bin");
    SolverParameter hdf5_param = base;
    hdf5_param.set_snapshot_prefix(this->dir_ / "h5");
    hdf5_param.set_snapshot_format(SolverParameter::HDF5);
    auto binary = MakeTinySolver<TypeParam>(binary_param);
    binary->Step(2);
    auto hdf5 = MakeTinySolver<TypeParam>(hdf5_param);
    hdf5->Step(2);
    ASSERT_TRUE(FileExists(this->dir_ / "h5_iter_2.caffemodel.h5"));
    ASSERT_TRUE(FileExists(this->dir_ / "h5_iter_2.solverstate.h5"));
    EXPECT_FALSE(FileExists(this->dir_ / "h5_iter_2.caffemodel"));
    {
      // Caffe's layout: iter, learned_net, current_step and history/<i>.
      Hdf5Handle state = Hdf5OpenFile(this->dir_ / "h5_iter_2.solverstate.h5");
      EXPECT_EQ(2, Hdf5ReadInt(state, "iter"));
      EXPECT_EQ(this->dir_ / "h5_iter_2.caffemodel.h5", Hdf5ReadString(state, "learned_net"));
      EXPECT_EQ(binary->current_step(), Hdf5ReadInt(state, "current_step"));
      Hdf5Handle history = Hdf5OpenGroup(state, "history");
      EXPECT_EQ(HistoryValues(*binary).size(), Hdf5ChildNames(history).size());
    }

    // Resumed in fresh solvers with other seeds: everything must come from the snapshots.
    SolverParameter fresh = base;
    fresh.set_random_seed(99);
    fresh.set_snapshot(0);
    auto from_binary = MakeTinySolver<TypeParam>(fresh);
    from_binary->Restore(this->dir_ / "bin_iter_2.solverstate");
    auto from_hdf5 = MakeTinySolver<TypeParam>(fresh);
    from_hdf5->Restore(this->dir_ / "h5_iter_2.solverstate.h5");
    EXPECT_EQ(2, from_hdf5->iter());
    EXPECT_EQ(from_binary->current_step(), from_hdf5->current_step());
    EXPECT_EQ(ParamValues(*from_binary->net()), ParamValues(*from_hdf5->net()));
    EXPECT_EQ(HistoryValues(*from_binary), HistoryValues(*from_hdf5));
    from_binary->Step(3);
    from_hdf5->Step(3);
    EXPECT_EQ(from_binary->smoothed_loss(), from_hdf5->smoothed_loss());
    EXPECT_EQ(ParamValues(*from_binary->net()), ParamValues(*from_hdf5->net()));
    EXPECT_EQ(HistoryValues(*from_binary), HistoryValues(*from_hdf5));
  }
}

TYPED_TEST(Hdf5IoTest, Hdf5StateOfAnotherSolverIsRejected) {
  test::QuietLogs quiet;
  SolverParameter adam = MakeSolverParam(
      TinyNet(), "type: 'Adam' base_lr: 0.01 lr_policy: 'fixed' max_iter: 1 snapshot: 1 "
                 "snapshot_format: HDF5 snapshot_after_train: false");
  adam.set_snapshot_prefix(this->dir_ / "adam");
  MakeTinySolver<TypeParam>(adam)->Step(1);
  SolverParameter sgd = adam;
  sgd.set_type("SGD");
  auto solver = MakeTinySolver<TypeParam>(sgd);
  EXPECT_THROW(solver->Restore(this->dir_ / "adam_iter_1.solverstate.h5"), IoError);
  EXPECT_THROW(solver->Restore(this->dir_ / "absent.solverstate.h5"), IoError);
}

}  // namespace
}  // namespace moka
