// The model zoo verbs (zoo list / zoo fetch, from a local file:// URL so no network is needed),
// init_weights and forward, and the finetuning summary that `moka train --weights` logs.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "error.hpp"
#include "temp_dir.hpp"
#include "tools/verbs.hpp"
#include "tools/zoo.hpp"

namespace moka {
namespace {

namespace fs = std::filesystem;

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

/// Runs a verb function on the given arguments (argv[0] is the verb), returning its stdout.
std::string RunVerb(int (*verb)(int, char**), std::vector<std::string> args) {
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  ::testing::internal::CaptureStdout();
  try {
    EXPECT_EQ(verb(static_cast<int>(args.size()), argv.data()), 0);
  } catch (...) {
    ::testing::internal::GetCapturedStdout();
    throw;
  }
  return ::testing::internal::GetCapturedStdout();
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

const char kWeights[] = "moka weights\n";

TEST(FrontMatterTest, ReadsKeysAndValues) {
  const auto values = ParseFrontMatter(
      "\n---\nname: \"A model\"\ncaffemodel: a.caffemodel\n# a comment\n\n"
      "caffemodel_url: http://example.org:8080/a.caffemodel\nsha1: ABC\n---\n# Body: not: read\n",
      "README.md");
  EXPECT_EQ(values.at("name"), "A model");
  EXPECT_EQ(values.at("caffemodel"), "a.caffemodel");
  EXPECT_EQ(values.at("caffemodel_url"), "http://example.org:8080/a.caffemodel");
  EXPECT_EQ(values.at("sha1"), "ABC");
  EXPECT_EQ(values.count("Body"), 0u);
}

TEST(FrontMatterTest, MalformedFrontMatterNamesTheLine) {
  EXPECT_THROW(ParseFrontMatter("# Title\n", "R.md"), ParseError);
  EXPECT_THROW(ParseFrontMatter("---\nname: x\n", "R.md"), ParseError);
  try {
    ParseFrontMatter("---\nname: x\njust words\n---\n", "R.md");
    FAIL() << "expected a ParseError";
  } catch (const ParseError& error) {
    EXPECT_TRUE(Contains(error.what(), "R.md:3")) << error.what();
  }
}

TEST(ZooSha1Test, KnownDigest) {
  test::TempDir dir;
  WriteFile(dir / "abc", "abc");
  EXPECT_EQ(FileSha1(dir / "abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
}

class ZooTest : public ::testing::Test {
 protected:
  void SetUp() override {
    models_ = dir_ / "models";
    fs::create_directories(models_);
    WriteFile(dir_ / "weights.bin", kWeights);
    sha1_ = FileSha1(dir_ / "weights.bin");
  }
  /// models/NAME/README.md with the given URL and SHA-1.
  void AddModel(const std::string& name, const std::string& url, const std::string& sha1) {
    fs::create_directories(models_ + "/" + name);
    WriteFile(models_ + "/" + name + "/README.md",
              "---\nname: " + name + " model\ncaffemodel: " + name + ".caffemodel\n" +
                  "caffemodel_url: " + url + "\nsha1: " + sha1 + "\nlicense: BSD\n---\n\n# " +
                  name + "\n");
  }
  std::string Target(const std::string& name) const {
    return models_ + "/" + name + "/" + name + ".caffemodel";
  }
  std::string Fetch(const std::string& name, const std::string& path = "") {
    std::vector<std::string> args = {"zoo", "fetch", name, "--models=" + models_};
    if (!path.empty()) args.push_back("--path=" + path);
    return RunVerb(ZooMain, args);
  }
  std::string FileUrl() const { return "file://" + (dir_ / "weights.bin"); }

  test::TempDir dir_;
  std::string models_;
  std::string sha1_;
};

TEST_F(ZooTest, ListShowsPresenceAndVerification) {
  AddModel("alpha", FileUrl(), sha1_);
  AddModel("beta", FileUrl(), sha1_);
  AddModel("gamma", FileUrl(), sha1_);
  AddModel("delta", "none", "none");
  fs::create_directories(models_ + "/no_readme");
  fs::create_directories(models_ + "/example");
  WriteFile(models_ + "/example/README.md", "# An example without front matter\n");
  WriteFile(Target("alpha"), kWeights);
  WriteFile(Target("gamma"), "something else\n");
  WriteFile(Target("delta"), "local weights\n");
  const std::string out = RunVerb(ZooMain, {"zoo", "list", "--models=" + models_});
  std::vector<std::string> lines;
  std::string line;
  std::istringstream stream(out);
  while (std::getline(stream, line)) lines.push_back(line);
  ASSERT_EQ(lines.size(), 5u) << out;  // a header and four models, sorted; no_readme and example are skipped
  EXPECT_TRUE(Contains(lines[1], "alpha") && Contains(lines[1], "alpha.caffemodel") &&
              Contains(lines[1], "verified")) << out;
  EXPECT_TRUE(Contains(lines[2], "beta") && Contains(lines[2], "missing")) << out;
  EXPECT_TRUE(Contains(lines[3], "delta") && Contains(lines[3], "no SHA-1")) << out;
  EXPECT_TRUE(Contains(lines[4], "gamma") && Contains(lines[4], "mismatch")) << out;
}

TEST_F(ZooTest, FetchFromFileUrlChecksSha1) {
  AddModel("good", FileUrl(), sha1_);
  const std::string out = Fetch("good");
  EXPECT_TRUE(Contains(out, "verified")) << out;
  EXPECT_EQ(ReadFile(Target("good")), kWeights);
  EXPECT_FALSE(fs::exists(Target("good") + ".part"));
  // A second fetch finds the verified file and does nothing.
  EXPECT_TRUE(Contains(Fetch("good"), "already present and verified"));
}

TEST_F(ZooTest, FetchRefusesWrongSha1AndKeepsNoFile) {
  AddModel("bad", FileUrl(), std::string(40, '0'));
  try {
    Fetch("bad");
    FAIL() << "expected an IoError";
  } catch (const IoError& error) {
    EXPECT_TRUE(Contains(error.what(), sha1_)) << error.what();
  }
  EXPECT_FALSE(fs::exists(Target("bad")));
  EXPECT_FALSE(fs::exists(Target("bad") + ".part"));
}

TEST_F(ZooTest, FetchResumesPartialDownload) {
  AddModel("partial", FileUrl(), sha1_);
  const std::string weights = kWeights;
  WriteFile(Target("partial") + ".part", weights.substr(0, 5));
  Fetch("partial");
  EXPECT_EQ(ReadFile(Target("partial")), kWeights);
}

TEST_F(ZooTest, FetchMissingUrlFailsClearly) {
  AddModel("gone", "file://" + (dir_ / "no_such_file"), sha1_);
  EXPECT_THROW(Fetch("gone"), IoError);
  EXPECT_FALSE(fs::exists(Target("gone")));
  EXPECT_THROW(Fetch("no_such_model"), ConfigError);
}

TEST_F(ZooTest, PathInstallsGoodFileAndRefusesBadOne) {
  AddModel("offline", "none", sha1_);
  WriteFile(dir_ / "bad.bin", "not the weights\n");
  EXPECT_THROW(Fetch("offline", dir_ / "bad.bin"), IoError);
  EXPECT_FALSE(fs::exists(Target("offline")));
  EXPECT_TRUE(fs::exists(dir_ / "bad.bin"));  // the user's own file is left alone

  const std::string out = Fetch("offline", dir_ / "weights.bin");
  EXPECT_TRUE(Contains(out, "verified")) << out;
  EXPECT_EQ(ReadFile(Target("offline")), kWeights);
  EXPECT_TRUE(fs::exists(dir_ / "weights.bin"));
  // Without --path and without a URL there is nothing to fetch from.
  fs::remove(Target("offline"));
  EXPECT_THROW(Fetch("offline"), ConfigError);
}

// Every model of the repository's zoo describes its weights and preprocessing, and ships the
// three prototxts.
TEST(ZooModelsTest, EveryReadmeHasTheZooKeys) {
  const std::set<std::string> zoo = {
      "bvlc_alexnet",    "bvlc_googlenet",  "bvlc_reference_caffenet", "cifar10_full",
      "cifar10_quick",   "lenet",           "mobilenet_v1",            "mobilenet_v2",
      "resnet101",       "resnet152",       "resnet50",                "squeezenet_v1.0",
      "squeezenet_v1.1", "vgg16",           "vgg19"};
  size_t found = 0;
  for (const ZooModel& model : FindZooModels(MOKA_SOURCE_DIR "/models")) {
    if (zoo.count(model.name) == 0) continue;
    ++found;
    std::ifstream file(model.directory + "/README.md");
    const std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    const auto values = ParseFrontMatter(text, model.directory + "/README.md");
    for (const char* key : {"name", "caffemodel", "caffemodel_url", "sha1", "license",
                            "input_size", "crop_size", "scale", "channel_order", "accuracy"}) {
      EXPECT_EQ(values.count(key), 1u) << model.name << " lacks " << key;
    }
    EXPECT_TRUE(values.count("mean_value") + values.count("mean_file") > 0) << model.name;
    if (model.name == "lenet") continue;
    for (const char* prototxt : {"deploy.prototxt", "train_val.prototxt", "solver.prototxt"}) {
      EXPECT_TRUE(fs::exists(model.directory + "/" + prototxt)) << model.name << " " << prototxt;
    }
  }
  EXPECT_EQ(found, zoo.size());
}

// --- init_weights and forward ---

const char kDeployNet[] = R"(
name: "small"
layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 } } }
layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip"
        inner_product_param { num_output: 4 } }
layer { name: "prob" type: "Softmax" bottom: "ip" top: "prob" }
)";

/// A float32 .npy of shape {rows, cols} holding 0, 1, 2, ...
void WriteNpy(const std::string& path, int rows, int cols) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" +
                       std::to_string(rows) + ", " + std::to_string(cols) + "), }";
  header.append(64 - (10 + header.size() + 1) % 64, ' ');
  header.push_back('\n');
  std::ofstream file(path, std::ios::binary);
  file.write("\x93NUMPY\x01\x00", 8);
  const char length[2] = {static_cast<char>(header.size() & 0xff),
                          static_cast<char>(header.size() >> 8)};
  file.write(length, 2);
  file << header;
  for (int i = 0; i < rows * cols; ++i) {
    const float value = static_cast<float>(i);
    file.write(reinterpret_cast<const char*>(&value), sizeof(value));
  }
}

TEST(InitWeightsForwardTest, CalibratedWeightsThenForwardToNpy) {
  test::TempDir dir;
  WriteFile(dir / "deploy.prototxt", kDeployNet);
  RunVerb(InitWeightsMain, {"init_weights", "--model=" + (dir / "deploy.prototxt"),
                            "--output=" + (dir / "w.caffemodel"), "--calibrate", "--seed=3"});
  ASSERT_TRUE(fs::exists(dir / "w.caffemodel"));
  WriteNpy(dir / "in.npy", 5, 3);
  RunVerb(ForwardMain, {"forward", "--model=" + (dir / "deploy.prototxt"),
                        "--weights=" + (dir / "w.caffemodel"), "--input=" + (dir / "in.npy"),
                        "--output=" + (dir / "out.npy")});
  const std::string out = ReadFile(dir / "out.npy");
  ASSERT_GT(out.size(), 10u);
  EXPECT_EQ(out.compare(0, 6, "\x93NUMPY"), 0);
  EXPECT_TRUE(Contains(out, "'shape': (5,4)")) << out.substr(0, 80);
  const size_t data_start = out.size() - 20 * sizeof(float);
  EXPECT_EQ(data_start % 64, 0u);  // the header is padded to a 64-byte boundary
  // Softmax rows sum to one, and calibrated weights do not leave every class equal.
  const float* prob = reinterpret_cast<const float*>(out.data() + data_start);
  for (int row = 0; row < 5; ++row) {
    EXPECT_NEAR(prob[4 * row] + prob[4 * row + 1] + prob[4 * row + 2] + prob[4 * row + 3], 1.f,
                1e-5f);
  }
  EXPECT_GT(std::abs(prob[0] - prob[1]), 1e-4f);

  EXPECT_THROW(RunVerb(ForwardMain, {"forward", "--model=" + (dir / "deploy.prototxt")}),
               ConfigError);
  WriteFile(dir / "not.npy", "plain text");
  EXPECT_THROW(RunVerb(ForwardMain, {"forward", "--model=" + (dir / "deploy.prototxt"),
                                     "--input=" + (dir / "not.npy"),
                                     "--output=" + (dir / "o.npy")}),
               ParseError);
}

// --- moka train --weights: the finetuning summary ---

std::string MokaBinary() {
  const char* from_env = std::getenv("MOKA_CLI");
  return from_env != nullptr && *from_env != '\0' ? from_env : MOKA_BINARY_DIR "/moka";
}

std::string RunMokaOutput(const std::string& args, int* status) {
  const std::string command = "'" + MokaBinary() + "' " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  std::string output;
  if (pipe == nullptr) return output;
  char buffer[4096];
  size_t got;
  while ((got = fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.append(buffer, got);
  const int raw = pclose(pipe);
  *status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return output;
}

std::string NetText(const std::string& extra_layers) {
  return R"(
name: "tiny"
layer { name: "data" type: "DummyData" top: "data" top: "label"
  dummy_data_param { shape { dim: 2 dim: 3 } shape { dim: 2 }
    data_filler { type: "gaussian" } data_filler { type: "constant" value: 1 } } }
)" + extra_layers;
}

std::string SolverText(const test::TempDir& dir, const std::string& net, const std::string& prefix) {
  return "net: \"" + (dir / net) + "\"\nbase_lr: 0.1\nlr_policy: \"fixed\"\nmax_iter: 1\n" +
         "display: 1\nrandom_seed: 1\nsolver_mode: CPU\nsnapshot_prefix: \"" + (dir / prefix) +
         "\"\n";
}

TEST(FinetuneLogTest, NamesCopiedNewAndFrozenLayers) {
  test::TempDir dir;
  WriteFile(dir / "base.prototxt", NetText(R"(
layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip"
        inner_product_param { num_output: 4 weight_filler { type: "gaussian" } } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
)"));
  WriteFile(dir / "base_solver.prototxt", SolverText(dir, "base.prototxt", "base"));
  int status = -1;
  std::string output = RunMokaOutput("train --solver=" + (dir / "base_solver.prototxt"), &status);
  ASSERT_EQ(status, 0) << output;
  ASSERT_TRUE(fs::exists(dir / "base_iter_1.caffemodel")) << output;

  // "ip" is copied and frozen; "head" is new.
  WriteFile(dir / "finetune.prototxt", NetText(R"(
layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip"
        param { lr_mult: 0 } param { lr_mult: 0 }
        inner_product_param { num_output: 4 } }
layer { name: "head" type: "InnerProduct" bottom: "ip" top: "head"
        inner_product_param { num_output: 3 weight_filler { type: "xavier" } } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "head" bottom: "label" top: "loss" }
)"));
  WriteFile(dir / "finetune_solver.prototxt", SolverText(dir, "finetune.prototxt", "finetune"));
  output = RunMokaOutput("train --solver=" + (dir / "finetune_solver.prototxt") +
                             " --weights=" + (dir / "base_iter_1.caffemodel"),
                         &status);
  ASSERT_EQ(status, 0) << output;
  EXPECT_TRUE(Contains(output, "Finetuning: copied 1 layer(s): ip\n")) << output;
  EXPECT_TRUE(Contains(output, "Finetuning: new 1 layer(s) (not in the weights; initialised by "
                               "their fillers): head\n"))
      << output;
  EXPECT_TRUE(Contains(output, "Finetuning: frozen 1 layer(s) (all lr_mult 0): ip\n")) << output;

  // A layer that keeps its name but changes shape cannot take the weights: a clear error.
  WriteFile(dir / "finetune.prototxt", NetText(R"(
layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip"
        inner_product_param { num_output: 5 } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
)"));
  output = RunMokaOutput("train --solver=" + (dir / "finetune_solver.prototxt") +
                             " --weights=" + (dir / "base_iter_1.caffemodel"),
                         &status);
  EXPECT_NE(status, 0) << output;
  EXPECT_TRUE(Contains(output, "moka: error: loading weights from")) << output;
  EXPECT_TRUE(Contains(output, "'ip'")) << output;
}

}  // namespace
}  // namespace moka
