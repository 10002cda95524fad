// Runs the built `moka` binary as a user would and checks what it prints and its exit status.
// ctest passes the binary in MOKA_CLI; a direct run of moka_tests uses the build tree's.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "temp_dir.hpp"
#include "tools/cli.hpp"

namespace moka {
namespace {

std::string MokaBinary() {
  const char* from_env = std::getenv("MOKA_CLI");
  return from_env != nullptr && *from_env != '\0' ? from_env : MOKA_BINARY_DIR "/moka";
}

struct Result {
  int status = -1;        // exit status, or -1 when the process did not exit normally
  bool signaled = false;  // killed by a signal (abort, segfault)
  std::string output;     // stdout and stderr together
};

Result RunMoka(const std::string& args) {
  Result result;
  const std::string command = "'" + MokaBinary() + "' " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    ADD_FAILURE() << "popen failed for " << command;
    return result;
  }
  char buffer[4096];
  size_t got;
  while ((got = fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, got);
  const int status = pclose(pipe);
  if (WIFEXITED(status)) result.status = WEXITSTATUS(status);
  result.signaled = WIFSIGNALED(status);
  return result;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// A failure the CLI reports: non-zero exit, no abort, no uncaught exception, no stack trace.
void ExpectCleanFailure(const Result& result) {
  EXPECT_FALSE(result.signaled) << result.output;
  EXPECT_NE(result.status, 0) << result.output;
  EXPECT_NE(result.status, -1) << result.output;
  for (const char* sign : {"terminate", "Aborted", "Check failed", "stack trace", "*** "}) {
    EXPECT_FALSE(Contains(result.output, sign)) << "'" << sign << "' in:\n" << result.output;
  }
  EXPECT_TRUE(Contains(result.output, "moka: error: ")) << result.output;
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

// 2 samples of 3 constant features, label 0; zero weights make all 4 scores equal, so the loss
// is ln 4 = 1.38629 on every batch.
const char kTinyNet[] = R"(
name: "tiny"
layer {
  name: "data" type: "DummyData" top: "data" top: "label"
  dummy_data_param {
    shape { dim: 2 dim: 3 } shape { dim: 2 }
    data_filler { type: "constant" value: 0.5 } data_filler { type: "constant" value: 0 }
  }
}
layer {
  name: "ip" type: "InnerProduct" bottom: "data" top: "ip"
  inner_product_param { num_output: 4 weight_filler { type: "constant" value: 0 } }
}
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
layer { name: "accuracy" type: "Accuracy" bottom: "ip" bottom: "label" top: "accuracy" }
)";

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override { WriteFile(dir_ / "net.prototxt", kTinyNet); }
  std::string Path(const std::string& name) const { return dir_ / name; }
  /// A solver over the tiny net that snapshots into the temp dir.
  std::string WriteSolver(int max_iter) const {
    const std::string path = Path("solver.prototxt");
    WriteFile(path, "net: \"" + Path("net.prototxt") + "\"\nbase_lr: 0.1\nlr_policy: \"fixed\"\n" +
                        "max_iter: " + std::to_string(max_iter) +
                        "\ndisplay: 1\nrandom_seed: 1\nsolver_mode: CPU\nsnapshot_prefix: \"" +
                        Path("tiny") + "\"\n");
    return path;
  }

  test::TempDir dir_;
};

TEST_F(CliTest, HelpListsVerbs) {
  for (const char* args : {"--help", "help", "", "-h"}) {
    const Result result = RunMoka(args);
    EXPECT_EQ(result.status, 0) << args << "\n" << result.output;
    for (const char* verb : {"train", "test", "time", "device_query", "convert_mnist"}) {
      EXPECT_TRUE(Contains(result.output, verb)) << verb << " missing for '" << args << "'";
    }
  }
}

TEST_F(CliTest, VerbHelpShowsItsFlags) {
  for (const char* args : {"help train", "train --help"}) {
    const Result result = RunMoka(args);
    EXPECT_EQ(result.status, 0) << result.output;
    EXPECT_TRUE(Contains(result.output, "usage: moka train")) << result.output;
    EXPECT_TRUE(Contains(result.output, "--solver")) << result.output;
    EXPECT_TRUE(Contains(result.output, "--sigint_effect")) << result.output;
    // Only this verb's flags, not every flag of every linked library.
    EXPECT_FALSE(Contains(result.output, "--iterations")) << result.output;
    EXPECT_FALSE(Contains(result.output, "logtostderr")) << result.output;
  }
  const Result convert = RunMoka("convert_mnist --help");
  EXPECT_EQ(convert.status, 0);
  EXPECT_TRUE(Contains(convert.output, "IMAGES LABELS OUTPUT_DB")) << convert.output;
}

TEST_F(CliTest, UnknownVerbListsVerbsAndFails) {
  const Result result = RunMoka("trian");
  ExpectCleanFailure(result);
  EXPECT_TRUE(Contains(result.output, "unknown verb 'trian'")) << result.output;
  EXPECT_TRUE(Contains(result.output, "train")) << result.output;
  ExpectCleanFailure(RunMoka("help trian"));
}

TEST_F(CliTest, UnknownFlagAndStrayArgumentFail) {
  const Result flag = RunMoka("test --modle=x");
  ExpectCleanFailure(flag);
  EXPECT_TRUE(Contains(flag.output, "unknown flag '--modle=x'")) << flag.output;
  const Result stray = RunMoka("test --model=x extra");
  ExpectCleanFailure(stray);
  EXPECT_TRUE(Contains(stray.output, "unexpected argument 'extra'")) << stray.output;
}

TEST_F(CliTest, MalformedSolverReportsPosition) {
  const std::string solver = Path("bad_solver.prototxt");
  WriteFile(solver, "base_lr: 0.01\nmax_iter: 10\nlr_policy: \"fixed\n");
  const Result result = RunMoka("train --solver=" + solver);
  ExpectCleanFailure(result);
  EXPECT_TRUE(Contains(result.output, solver + ":3:")) << result.output;
}

TEST_F(CliTest, TrainNeedsSolverAndRefusesWeightsWithSnapshot) {
  const Result none = RunMoka("train");
  ExpectCleanFailure(none);
  EXPECT_TRUE(Contains(none.output, "--solver")) << none.output;
  const Result both = RunMoka("train --solver=" + WriteSolver(1) + " --weights=a --snapshot=b");
  ExpectCleanFailure(both);
  EXPECT_TRUE(Contains(both.output, "not both")) << both.output;
  const Result effect = RunMoka("train --solver=" + WriteSolver(1) + " --sigint_effect=quit");
  ExpectCleanFailure(effect);
  EXPECT_TRUE(Contains(effect.output, "--sigint_effect")) << effect.output;
}

TEST_F(CliTest, TrainSnapshotsAndResumes) {
  const std::string solver = WriteSolver(2);
  const Result train = RunMoka("train --solver=" + solver);
  ASSERT_EQ(train.status, 0) << train.output;
  EXPECT_TRUE(Contains(train.output, "Starting Optimization")) << train.output;
  EXPECT_TRUE(Contains(train.output, "Optimization Done.")) << train.output;
  ASSERT_TRUE(std::ifstream(Path("tiny_iter_2.caffemodel")).good()) << train.output;
  ASSERT_TRUE(std::ifstream(Path("tiny_iter_2.solverstate")).good()) << train.output;

  WriteSolver(3);
  const Result resume = RunMoka("train --solver=" + solver +
                                " --snapshot=" + Path("tiny_iter_2.solverstate"));
  EXPECT_EQ(resume.status, 0) << resume.output;
  EXPECT_TRUE(Contains(resume.output, "Resuming from")) << resume.output;
  EXPECT_TRUE(std::ifstream(Path("tiny_iter_3.caffemodel")).good()) << resume.output;

  const Result finetune = RunMoka("train --solver=" + solver +
                                  " --weights=" + Path("tiny_iter_2.caffemodel"));
  EXPECT_EQ(finetune.status, 0) << finetune.output;
  EXPECT_TRUE(Contains(finetune.output, "Finetuning from " + Path("tiny_iter_2.caffemodel")))
      << finetune.output;
}

TEST_F(CliTest, SighupSnapshotsAndSigintStops) {
  const std::string solver = WriteSolver(1000000000);
  const std::string log = Path("train.log");
  // The signals go only after the handlers are in place (they are before "Starting Optimization");
  // a watchdog ends the run should SIGINT fail to.
  const std::string script =
      "'" + MokaBinary() + "' train --solver=" + solver + " >" + log + " 2>&1 & pid=$!; " +
      "for i in $(seq 300); do grep -q 'Starting Optimization' " + log +
      " && break; sleep 0.1; done; sleep 0.2; kill -HUP $pid; sleep 0.2; kill -INT $pid; " +
      "(sleep 60; kill -KILL $pid) >/dev/null 2>&1 & watchdog=$!; " +
      "wait $pid; status=$?; kill $watchdog; exit $status";
  const int status = std::system(script.c_str());
  std::ifstream log_stream(log);
  const std::string output((std::istreambuf_iterator<char>(log_stream)),
                           std::istreambuf_iterator<char>());
  ASSERT_TRUE(WIFEXITED(status)) << output;
  EXPECT_EQ(WEXITSTATUS(status), 0) << output;
  EXPECT_TRUE(Contains(output, "Optimization stopped early.")) << output;
  EXPECT_TRUE(Contains(output, "Optimization Done.")) << output;
  // One snapshot for SIGHUP, one for the stop (snapshot_after_train).
  size_t snapshots = 0;
  for (size_t at = output.find("Snapshotting to binary proto"); at != std::string::npos;
       at = output.find("Snapshotting to binary proto", at + 1)) {
    ++snapshots;
  }
  EXPECT_EQ(snapshots, 2u) << output;
}

TEST_F(CliTest, TestPrintsBatchesAndMeans) {
  const Result result = RunMoka("test --model=" + Path("net.prototxt") + " --iterations=3");
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_TRUE(Contains(result.output, "Batch 0, loss = 1.38629")) << result.output;
  EXPECT_TRUE(Contains(result.output, "Batch 2, accuracy = ")) << result.output;
  EXPECT_FALSE(Contains(result.output, "Batch 3,")) << result.output;
  EXPECT_TRUE(Contains(result.output, "] loss = 1.38629 (* 1 = 1.38629 loss)")) << result.output;
  EXPECT_TRUE(Contains(result.output, "] accuracy = ")) << result.output;
  EXPECT_FALSE(Contains(result.output, "] accuracy = 0 (*")) << result.output;
  EXPECT_TRUE(Contains(result.output, "Loss: 1.38629")) << result.output;
  EXPECT_TRUE(Contains(result.output, "--weights")) << "no warning about missing weights";
}

TEST_F(CliTest, TestWithTrainedWeights) {
  ASSERT_EQ(RunMoka("train --solver=" + WriteSolver(1)).status, 0);
  const Result result = RunMoka("test --model=" + Path("net.prototxt") + " --iterations=1" +
                                " --weights=" + Path("tiny_iter_1.caffemodel"));
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_TRUE(Contains(result.output, "Copying source layer ip")) << result.output;
  EXPECT_TRUE(Contains(result.output, "Batch 0, loss = ")) << result.output;
}

TEST_F(CliTest, MissingWeightsFileIsClear) {
  const std::string missing = Path("missing.caffemodel");
  const Result result = RunMoka("test --model=" + Path("net.prototxt") + " --weights=" + missing);
  ExpectCleanFailure(result);
  EXPECT_TRUE(Contains(result.output, missing)) << result.output;
}

TEST_F(CliTest, TimePrintsLayersAndAverages) {
  const Result result = RunMoka("time --model=" + Path("net.prototxt") + " --iterations=2");
  ASSERT_EQ(result.status, 0) << result.output;
  for (const char* line : {"Performing Forward", "Initial loss: 1.38629", "Performing Backward",
                           "        ip\tforward: ", "        ip\tbackward: ",
                           "      loss\tforward: ", "  accuracy\tbackward: ",
                           "Average Forward pass: ", "Average Backward pass: ",
                           "Average Forward-Backward: ", "Total Time: ",
                           "*** Benchmark ends ***"}) {
    EXPECT_TRUE(Contains(result.output, line)) << "'" << line << "' missing in:\n" << result.output;
  }
  EXPECT_TRUE(Contains(result.output, " ms. [")) << "no engine in:\n" << result.output;
  const Result bad_phase = RunMoka("time --model=" + Path("net.prototxt") + " --phase=VAL");
  ExpectCleanFailure(bad_phase);
  EXPECT_TRUE(Contains(bad_phase.output, "--phase")) << bad_phase.output;
}

TEST_F(CliTest, UnknownLayerTypeListsKnownTypes) {
  WriteFile(Path("bogus.prototxt"),
            "layer { name: \"in\" type: \"Input\" top: \"x\" input_param { shape { dim: 1 } } }\n"
            "layer { name: \"odd\" type: \"Bogus\" bottom: \"x\" top: \"y\" }\n");
  const Result result = RunMoka("time --model=" + Path("bogus.prototxt"));
  ExpectCleanFailure(result);
  EXPECT_TRUE(Contains(result.output, "unknown layer type 'Bogus' (known: ")) << result.output;
  EXPECT_TRUE(Contains(result.output, "InnerProduct")) << result.output;
}

TEST_F(CliTest, MissingBottomNamesLayerAndBlob) {
  WriteFile(Path("dangling.prototxt"),
            "layer { name: \"in\" type: \"Input\" top: \"x\" input_param { shape { dim: 1 } } }\n"
            "layer { name: \"act\" type: \"ReLU\" bottom: \"nowhere\" top: \"y\" }\n");
  const Result result = RunMoka("test --model=" + Path("dangling.prototxt"));
  ExpectCleanFailure(result);
  EXPECT_TRUE(Contains(result.output, "'act'")) << result.output;
  EXPECT_TRUE(Contains(result.output, "'nowhere'")) << result.output;
}

TEST_F(CliTest, GpuOnCpuBuildFailsWithOneLine) {
  if (BuiltWithCuda()) GTEST_SKIP() << "this build has CUDA";
  const std::string expected =
      "moka: error: GPU requested (--gpu=0) but this moka was built without CUDA support\n";
  EXPECT_EQ(RunMoka("train --solver=" + WriteSolver(1) + " --gpu=0").output, expected);
  EXPECT_EQ(RunMoka("test --model=" + Path("net.prototxt") + " --gpu=0").output, expected);
  EXPECT_EQ(RunMoka("time --model=" + Path("net.prototxt") + " --gpu=0").output, expected);
  ExpectCleanFailure(RunMoka("time --model=" + Path("net.prototxt") + " --gpu=0"));
  const Result query = RunMoka("device_query --gpu=0");
  ExpectCleanFailure(query);
  EXPECT_EQ(query.output, "moka: error: no usable GPU: this moka was built without CUDA support\n");
}

}  // namespace
}  // namespace moka
