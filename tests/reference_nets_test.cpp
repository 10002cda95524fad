// Acceptance: every net definition Caffe ships (../shared/caffe-reference, examples/ and models/)
// builds in moka in each phase (and stage) it defines, runs one Forward (and a Backward in TRAIN),
// and every deploy net (one fed by Input layers) runs through `moka time`. The data layers are
// pointed at small local data made here (LMDB and LevelDB databases of Datum records, image and
// HDF5 lists, a window file, mean files of the right shape) and every batch is cut to 2 (1 for
// ImageNet-sized deploy inputs), so the whole run stays within seconds per net. The files covered
// are printed as a table, one line per net and phase.
#include <gflags/gflags.h>
#include <gtest/gtest.h>
#include <hdf5.h>
#include <hdf5_hl.h>
#include <leveldb/db.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "db.hpp"
#include "net.hpp"
#include "proto_io.hpp"
#include "temp_dir.hpp"
#include "test_util.hpp"
#include "tools/cli.hpp"
#include "tools/verbs.hpp"

namespace moka {
namespace {

namespace fs = std::filesystem;

constexpr int kBatch = 2;
/// Records per database and list: enough for a batch and a wrap-around.
constexpr int kRecords = 3;
/// Deploy inputs at least this wide run with batch 1 (AlexNet, GoogLeNet and their relatives).
constexpr int kLargeInput = 200;

struct DatumShape {
  int channels, height, width;
};

/// What each database the reference nets read holds, by the name of its folder.
const std::map<std::string, DatumShape> kDatabases = {
    {"mnist_train_lmdb", {1, 28, 28}},
    {"mnist_test_lmdb", {1, 28, 28}},
    {"cifar10_train_lmdb", {3, 32, 32}},
    {"cifar10_test_lmdb", {3, 32, 32}},
    {"mnist_siamese_train_leveldb", {2, 28, 28}},
    {"mnist_siamese_test_leveldb", {2, 28, 28}},
    {"ilsvrc12_train_lmdb", {3, 256, 256}},
    {"ilsvrc12_val_lmdb", {3, 256, 256}},
};

/// The feature width of the HDF5 lists (hdf5_classification's four-feature toy problem).
const std::map<std::string, int> kHdf5Features = {{"train.txt", 4}, {"test.txt", 4}};

/// One build of one file: the phase and the stages it is built with.
struct NetCase {
  std::string file;  // relative to caffe-reference
  Phase phase;
  std::vector<std::string> stages;

  std::string Label() const {
    std::string label = phase == TRAIN ? "TRAIN" : "TEST";
    for (const auto& stage : stages) label += "+" + stage;
    return label;
  }
};

/// The small local data the reference nets are pointed at, made on first use.
class LocalData {
 public:
  explicit LocalData(const std::string& root) : root_(root) {}

  std::string Database(const std::string& name, bool leveldb) {
    const std::string path = root_ + "/" + name + (leveldb ? ".leveldb" : ".lmdb");
    if (made_.count(path)) return path;
    const auto it = kDatabases.find(name);
    if (it == kDatabases.end()) {
      ADD_FAILURE() << "no local data recipe for the database '" << name
                    << "': add its Datum shape to kDatabases";
      return path;
    }
    std::vector<std::pair<std::string, std::string>> records;
    for (int i = 0; i < kRecords; ++i) {
      char key[16];
      std::snprintf(key, sizeof(key), "%08d", i);
      records.emplace_back(key, MakeDatum(it->second, i).SerializeAsString());
    }
    if (leveldb) {
      leveldb::Options options;
      options.create_if_missing = true;
      options.error_if_exists = true;
      leveldb::DB* raw = nullptr;
      const leveldb::Status status = leveldb::DB::Open(options, path, &raw);
      EXPECT_TRUE(status.ok()) << path << ": " << status.ToString();
      std::unique_ptr<leveldb::DB> db(raw);
      for (const auto& record : records) {
        if (db) EXPECT_TRUE(db->Put(leveldb::WriteOptions(), record.first, record.second).ok());
      }
    } else {
      db::LmdbWriter writer(path);
      for (const auto& record : records) writer.Put(record.first, record.second);
      writer.Commit();
    }
    made_.insert(path);
    return path;
  }

  /// A mean of the given image shape, stored as a (1, C, H, W) BlobProto.
  std::string Mean(const DatumShape& shape) {
    const std::string path = root_ + "/mean_" + std::to_string(shape.channels) + "x" +
                             std::to_string(shape.height) + "x" + std::to_string(shape.width) +
                             ".binaryproto";
    if (made_.count(path)) return path;
    BlobProto proto;
    for (int d : {1, shape.channels, shape.height, shape.width}) proto.mutable_shape()->add_dim(d);
    const int count = shape.channels * shape.height * shape.width;
    for (int i = 0; i < count; ++i) proto.add_data(static_cast<float>(100 + i % 37));
    WriteProtoToBinaryFile(proto, path);
    made_.insert(path);
    return path;
  }

  /// A colour image file, for the image lists and the window file.
  std::string Image(int index, int height, int width) {
    const std::string path = root_ + "/image_" + std::to_string(index) + "_" +
                             std::to_string(height) + "x" + std::to_string(width) + ".png";
    if (made_.count(path)) return path;
    cv::Mat image(height, width, CV_8UC3);
    cv::randu(image, cv::Scalar::all(0), cv::Scalar::all(255));
    EXPECT_TRUE(cv::imwrite(path, image)) << path;
    made_.insert(path);
    return path;
  }

  /// "path label" lines, as ImageData reads them.
  std::string ImageList(int height, int width) {
    const std::string path =
        root_ + "/images_" + std::to_string(height) + "x" + std::to_string(width) + ".txt";
    if (made_.count(path)) return path;
    std::ofstream out(path);
    for (int i = 0; i < kRecords; ++i) out << Image(i, height, width) << " " << i % 2 << "\n";
    made_.insert(path);
    return path;
  }

  /// A list of one HDF5 file holding each named top: "label" as N class indices, the rest as
  /// N x features values.
  std::string Hdf5List(const std::string& name, int features,
                       const std::vector<std::string>& tops) {
    std::string key = name;
    for (const auto& top : tops) key += "_" + top;
    const std::string list = root_ + "/hdf5_" + key + ".txt";
    if (made_.count(list)) return list;
    const std::string file = root_ + "/hdf5_" + key + ".h5";
    const int rows = 2 * kRecords;
    const hid_t h5 = H5Fcreate(file.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    EXPECT_GE(h5, 0) << file;
    for (const auto& top : tops) {
      std::vector<float> values;
      std::vector<hsize_t> dims;
      if (top == "label") {
        dims = {static_cast<hsize_t>(rows)};
        for (int i = 0; i < rows; ++i) values.push_back(static_cast<float>(i % 2));
      } else {
        dims = {static_cast<hsize_t>(rows), static_cast<hsize_t>(features)};
        std::mt19937_64 rng(rows);
        std::normal_distribution<float> normal;
        for (int i = 0; i < rows * features; ++i) values.push_back(normal(rng));
      }
      EXPECT_GE(H5LTmake_dataset_float(h5, top.c_str(), static_cast<int>(dims.size()), dims.data(),
                                       values.data()),
                0)
          << file << ": dataset " << top;
    }
    H5Fclose(h5);
    std::ofstream(list) << file << "\n";
    made_.insert(list);
    return list;
  }

  /// An R-CNN window file: per image its path, channels, height, width and windows
  /// "class overlap x1 y1 x2 y2", with foreground and background windows.
  std::string WindowFile() {
    const std::string path = root_ + "/windows.txt";
    if (made_.count(path)) return path;
    std::ofstream out(path);
    for (int i = 0; i < 2; ++i) {
      const int height = 120, width = 100;
      out << "# " << i << "\n"
          << Image(10 + i, height, width) << "\n3\n"
          << height << "\n"
          << width << "\n4\n";
      out << "1 0.9 10 12 70 90\n";
      out << "2 0.7 20 5 95 60\n";
      out << "0 0.1 0 0 40 40\n";
      out << "0 0.2 50 60 99 119\n";
    }
    made_.insert(path);
    return path;
  }

 private:
  static Datum MakeDatum(const DatumShape& shape, int index) {
    Datum datum;
    datum.set_channels(shape.channels);
    datum.set_height(shape.height);
    datum.set_width(shape.width);
    datum.set_label(index % 2);
    std::string pixels(static_cast<size_t>(shape.channels) * shape.height * shape.width, '\0');
    std::mt19937_64 rng(index);
    for (char& pixel : pixels) pixel = static_cast<char>(rng() & 0xff);
    datum.set_data(pixels);
    return datum;
  }

  std::string root_;
  std::set<std::string> made_;
};

std::string FileName(const std::string& path) {
  return fs::path(path).filename().string();
}

/// The image shape a layer's transformer sees before cropping, for its mean file.
DatumShape ImageShapeOf(const LayerParameter& layer) {
  if (layer.type() == "Data") {
    const auto it = kDatabases.find(FileName(layer.data_param().source()));
    return it != kDatabases.end() ? it->second : DatumShape{3, 256, 256};
  }
  if (layer.type() == "ImageData" && layer.image_data_param().new_height() > 0) {
    const ImageDataParameter& p = layer.image_data_param();
    return {p.is_color() ? 3 : 1, static_cast<int>(p.new_height()),
            static_cast<int>(p.new_width())};
  }
  // ImageData without resizing reads the 256 x 256 images made for it; WindowData's mean is
  // ImageNet's.
  return {3, 256, 256};
}

bool IsDataLayer(const LayerParameter& layer) {
  static const std::set<std::string> kTypes = {"Data",       "ImageData",  "HDF5Data",
                                               "WindowData", "MemoryData", "DummyData"};
  return kTypes.count(layer.type()) > 0;
}

/// Points every data layer at local data and cuts batches; Input shapes get batch `input_batch`.
void Localize(NetParameter* net, LocalData* data, int input_batch) {
  for (LayerParameter& layer : *net->mutable_layer()) {
    // Read from the original source name, before it is rewritten below.
    const DatumShape image_shape = ImageShapeOf(layer);
    if (layer.has_transform_param() && layer.transform_param().has_mean_file()) {
      layer.mutable_transform_param()->set_mean_file(data->Mean(image_shape));
    }
    if (layer.type() == "Data") {
      DataParameter* p = layer.mutable_data_param();
      const bool leveldb = p->backend() == DataParameter::LEVELDB;
      p->set_source(data->Database(FileName(p->source()), leveldb));
      p->set_batch_size(kBatch);
      if (p->has_mean_file()) p->set_mean_file(data->Mean(image_shape));
    } else if (layer.type() == "ImageData") {
      ImageDataParameter* p = layer.mutable_image_data_param();
      p->set_source(data->ImageList(256, 256));
      p->clear_root_folder();
      p->set_batch_size(kBatch);
      if (p->has_mean_file()) p->set_mean_file(data->Mean(image_shape));
    } else if (layer.type() == "HDF5Data") {
      HDF5DataParameter* p = layer.mutable_hdf5_data_param();
      const std::string name = FileName(p->source());
      const auto it = kHdf5Features.find(name);
      if (it == kHdf5Features.end()) {
        ADD_FAILURE() << "no local data recipe for the HDF5 list '" << p->source() << "'";
        continue;
      }
      std::vector<std::string> tops(layer.top().begin(), layer.top().end());
      p->set_source(data->Hdf5List(name, it->second, tops));
      p->set_batch_size(kBatch);
    } else if (layer.type() == "WindowData") {
      WindowDataParameter* p = layer.mutable_window_data_param();
      p->set_source(data->WindowFile());
      p->set_batch_size(kBatch);
      if (p->has_mean_file()) p->set_mean_file(data->Mean(image_shape));
      p->clear_root_folder();
    } else if (layer.type() == "MemoryData") {
      layer.mutable_memory_data_param()->set_batch_size(kBatch);
    } else if (layer.type() == "DummyData") {
      for (BlobShape& shape : *layer.mutable_dummy_data_param()->mutable_shape()) {
        if (shape.dim_size() > 0) shape.set_dim(0, std::min<int64_t>(shape.dim(0), kBatch));
      }
    } else if (layer.type() == "Input") {
      for (BlobShape& shape : *layer.mutable_input_param()->mutable_shape()) {
        if (shape.dim_size() > 0) shape.set_dim(0, std::min<int64_t>(shape.dim(0), input_batch));
      }
    }
  }
}

/// The batch of a deploy net's inputs: 1 for ImageNet-sized images.
int InputBatch(const NetParameter& net) {
  for (const LayerParameter& layer : net.layer()) {
    if (layer.type() != "Input") continue;
    for (const BlobShape& shape : layer.input_param().shape()) {
      for (int a = 2; a < shape.dim_size(); ++a) {
        if (shape.dim(a) >= kLargeInput) return 1;
      }
    }
  }
  return kBatch;
}

bool IsDeploy(const NetParameter& net) {
  for (const LayerParameter& layer : net.layer()) {
    if (layer.type() == "Input") return true;
  }
  return net.input_size() > 0;
}

bool HasPython(const NetParameter& net) {
  for (const LayerParameter& layer : net.layer()) {
    if (layer.type() == "Python") return true;
  }
  return false;
}

/// The phases (and stages) a file defines: each phase its rules name, and per phase each stage
/// an include rule requires; a file without phase rules is built in the phase its name or use
/// suggests (TEST for deploy nets and *test* files, else TRAIN).
std::vector<NetCase> CasesOf(const std::string& file, const NetParameter& net) {
  std::set<Phase> phases;
  std::map<Phase, std::set<std::string>> stages;
  std::set<std::string> free_stages;
  for (const LayerParameter& layer : net.layer()) {
    for (const NetStateRule& rule : layer.include()) {
      if (rule.has_phase()) phases.insert(rule.phase());
      for (const auto& stage : rule.stage()) {
        if (rule.has_phase()) {
          stages[rule.phase()].insert(stage);
        } else {
          free_stages.insert(stage);
        }
      }
    }
    for (const NetStateRule& rule : layer.exclude()) {
      if (rule.has_phase()) phases.insert(rule.phase());
    }
  }
  if (phases.empty()) {
    if (net.has_state() && net.state().has_phase()) {
      phases.insert(net.state().phase());
    } else {
      const bool test = IsDeploy(net) || FileName(file).find("test") != std::string::npos;
      phases.insert(test ? TEST : TRAIN);
    }
  }
  if (!phases.empty() && phases.size() == 1 && !free_stages.empty()) {
    stages[*phases.begin()] = free_stages;
  }
  std::vector<NetCase> cases;
  for (const Phase phase : {TRAIN, TEST}) {
    if (!phases.count(phase)) continue;
    if (stages[phase].empty()) {
      cases.push_back({file, phase, {}});
    } else {
      for (const auto& stage : stages[phase]) cases.push_back({file, phase, {stage}});
    }
  }
  return cases;
}

/// Every *.prototxt under examples/ and models/, sorted, relative to `root`.
std::vector<std::string> PrototxtFiles(const std::string& root) {
  std::vector<std::string> files;
  for (const char* folder : {"examples", "models"}) {
    const fs::path dir = fs::path(root) / folder;
    if (!fs::exists(dir)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
      if (entry.is_regular_file() && entry.path().extension() == ".prototxt") {
        files.push_back(fs::relative(entry.path(), root).string());
      }
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

/// Sorts the files into nets and solvers, and lists the nets solvers name that are not there
/// (pycaffe's NetSpec writes them at run time).
struct Catalogue {
  std::vector<std::pair<std::string, NetParameter>> nets;
  std::vector<std::string> missing;  // "net (named by solver)"
};

Catalogue ReadCatalogue(const std::string& root) {
  Catalogue catalogue;
  std::set<std::string> names;
  std::vector<std::pair<std::string, std::string>> referenced;  // (net, solver)
  for (const std::string& file : PrototxtFiles(root)) {
    const std::string path = root + "/" + file;
    try {
      NetParameter net = ReadNetParamFromTextFile(path);
      catalogue.nets.emplace_back(file, std::move(net));
      names.insert(file);
      continue;
    } catch (const Error&) {
    }
    SolverParameter solver;
    try {
      solver = ReadSolverParamFromTextFile(path);
    } catch (const Error& error) {
      ADD_FAILURE() << file << " is neither a net nor a solver: " << error.what();
      continue;
    }
    std::vector<std::string> nets;
    if (solver.has_net()) nets.push_back(solver.net());
    if (solver.has_train_net()) nets.push_back(solver.train_net());
    for (const auto& net : solver.test_net()) nets.push_back(net);
    const std::string dir = fs::path(file).parent_path().string();
    for (const auto& net : nets)
      referenced.emplace_back(dir + "/" + FileName(net), file + " names " + net);
  }
  for (const auto& [net, origin] : referenced) {
    if (!names.count(net)) catalogue.missing.push_back(net + " (" + origin + ")");
  }
  std::sort(catalogue.missing.begin(), catalogue.missing.end());
  catalogue.missing.erase(std::unique(catalogue.missing.begin(), catalogue.missing.end()),
                          catalogue.missing.end());
  return catalogue;
}

bool AllFinite(const Blob<float>& blob) {
  const float* data = blob.cpu_data();
  for (int i = 0; i < blob.count(); ++i) {
    if (!std::isfinite(data[i])) return false;
  }
  return true;
}

void PrintTable(const std::string& title, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::ostringstream out;
  out << title << "\n";
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      out << std::left << std::setw(static_cast<int>(widths[i]) + 2) << row[i];
    }
    out << "\n";
  }
  std::cout << out.str() << std::flush;
}

class ReferenceNets : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = test::SharedDir();
    if (root_.empty()) GTEST_SKIP() << "../shared is not present; skipping this check";
    root_ += "/caffe-reference";
    if (!fs::exists(root_)) GTEST_SKIP() << root_ << " is not present";
  }
  std::string root_;
};

TEST_F(ReferenceNets, BuildAndRunInEveryPhase) {
  const Catalogue catalogue = ReadCatalogue(root_);
  ASSERT_FALSE(catalogue.nets.empty());
  for (const auto& missing : catalogue.missing) {
    std::cout << "skipped: " << missing
              << " is not in the reference folder (pycaffe's NetSpec generates it)\n";
  }
  test::TempDir dir;
  LocalData data(dir.path());
  std::vector<std::vector<std::string>> rows = {{"file", "phase", "layers", "result"}};
  for (const auto& [file, original] : catalogue.nets) {
    NetParameter localized = original;
    Localize(&localized, &data, InputBatch(original));
    for (const NetCase& c : CasesOf(file, original)) {
      SCOPED_TRACE(file + " " + c.Label());
      NetParameter param = localized;
      param.mutable_state()->set_phase(c.phase);
      for (const auto& stage : c.stages) param.mutable_state()->add_stage(stage);
      std::string result;
      std::string layers = "-";
      try {
        Net<float> net(param, std::make_shared<Context>(Device::kCpu, 0, 1));
        layers = std::to_string(net.num_layers());
        const float loss = net.Forward();
        EXPECT_TRUE(std::isfinite(loss)) << "loss " << loss;
        for (const Blob<float>* blob : net.output_blobs()) {
          EXPECT_TRUE(AllFinite(*blob))
              << "an output blob of shape " << blob->shape_string() << " holds non-finite values";
        }
        result = "forward";
        if (c.phase == TRAIN) {
          net.Backward();
          result += "+backward";
        }
        result += " ok";
      } catch (const ConfigError& error) {
        if (HasPython(original) && std::string(error.what()).find("Python") != std::string::npos) {
          result = "refused (Python layer)";
        } else {
          ADD_FAILURE() << error.what();
          result = std::string("FAILED: ") + error.what();
        }
      } catch (const std::exception& error) {
        ADD_FAILURE() << error.what();
        result = std::string("FAILED: ") + error.what();
      }
      if (result.size() > 140) result = result.substr(0, 137) + "...";
      rows.push_back({file, c.Label(), layers, result});
    }
  }
  PrintTable("reference nets (" + root_ + ")", rows);
}

TEST_F(ReferenceNets, DeployNetsRunThroughMokaTime) {
  const Catalogue catalogue = ReadCatalogue(root_);
  test::TempDir dir;
  LocalData data(dir.path());
  std::vector<std::vector<std::string>> rows = {{"file", "phase", "batch", "result"}};
  for (const auto& [file, original] : catalogue.nets) {
    if (!IsDeploy(original)) continue;
    SCOPED_TRACE(file);
    NetParameter localized = original;
    const int batch = InputBatch(original);
    Localize(&localized, &data, batch);
    const std::string model = dir / (std::to_string(rows.size()) + "_" + FileName(file));
    WriteProtoToTextFile(localized, model);
    std::string result;
    {
      gflags::FlagSaver saver;
      FLAGS_model = model;
      FLAGS_iterations = 1;
      FLAGS_phase = "";
      FLAGS_gpu = "";
      FLAGS_stage = "";
      FLAGS_level = 0;
      try {
        const int status = TimeMain();
        EXPECT_EQ(status, 0);
        result = status == 0 ? "time ok" : "FAILED: exit status " + std::to_string(status);
      } catch (const std::exception& error) {
        ADD_FAILURE() << error.what();
        result = std::string("FAILED: ") + error.what();
      }
    }
    if (result.size() > 140) result = result.substr(0, 137) + "...";
    rows.push_back({file, "TRAIN", std::to_string(batch), result});
  }
  EXPECT_GT(rows.size(), 1u) << "no deploy nets found";
  PrintTable("moka time over the deploy nets", rows);
}

}  // namespace
}  // namespace moka
