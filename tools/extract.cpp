// moka extract / moka extract_features: runs a net's forward pass over its data layer's records and
// saves the values of chosen blobs for every image. Only the layers the chosen blobs depend on run
// (a classifier's head is skipped when pool5 is asked for). Outputs: a database of Datum records
// with float_data, laid out as Caffe's extract_features writes them (keys "%010d", the blob's
// C, H, W), a NumPy .npy array (float32, N x the blob's per-image shape), or CSV (a row per image).
#include <glog/logging.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "error.hpp"
#include "moka.pb.h"
#include "net.hpp"
#include "tools/cli.hpp"
#include "tools/datum_io.hpp"
#include "tools/progress.hpp"
#include "tools/verb_args.hpp"
#include "tools/verbs.hpp"

namespace moka {

namespace {

const char kExtractUsage[] =
    "usage: moka extract --model=NET.prototxt --weights=W.caffemodel --blobs=fc7[,pool5...]\n"
    "                    --output=DIR [--format=lmdb|leveldb|npy|csv] [--iterations=N] [--gpu=N]";

const char kExtractFeaturesUsage[] =
    "usage: moka extract_features WEIGHTS.caffemodel NET.prototxt BLOB[,BLOB...] DB[,DB...] "
    "NUM_BATCHES lmdb|leveldb [CPU|GPU] [DEVICE_ID]";

/// Where one blob's values go, a batch at a time.
class FeatureSink {
 public:
  virtual ~FeatureSink() = default;
  virtual void Write(const Blob<float>& blob) = 0;
  /// Flushes and closes; the output is complete only after this.
  virtual void Finish() = 0;
};

/// Caffe's extract_features layout: one Datum per image, float_data, the blob's legacy C, H, W.
class DatabaseSink : public FeatureSink {
 public:
  DatabaseSink(const std::string& backend, const std::string& path)
      : writer_(NewDatabase(backend, path)) {}
  void Write(const Blob<float>& blob) override {
    const int num = blob.num_axes() > 0 ? blob.shape(0) : 1;
    const int dim = num > 0 ? blob.count() / num : 0;
    Datum datum;
    if (blob.num_axes() <= 4) {
      datum.set_channels(blob.channels());
      datum.set_height(blob.height());
      datum.set_width(blob.width());
    } else {
      // Caffe's legacy accessors stop at 4 axes; the values per image still fit one channel axis.
      datum.set_channels(dim);
      datum.set_height(1);
      datum.set_width(1);
    }
    const float* data = blob.cpu_data();
    std::string value;
    char key[32];
    for (int n = 0; n < num; ++n) {
      datum.clear_float_data();
      datum.mutable_float_data()->Reserve(dim);
      for (int d = 0; d < dim; ++d) datum.add_float_data(data[static_cast<size_t>(n) * dim + d]);
      MOKA_CHECK(datum.SerializeToString(&value), InternalError, "cannot serialize a Datum");
      std::snprintf(key, sizeof(key), "%010lld", static_cast<long long>(index_++));
      writer_->Put(key, value);
    }
  }
  void Finish() override { writer_->Commit(); }

 private:
  std::unique_ptr<db::Writer> writer_;
  int64_t index_ = 0;
};

/// A float32 .npy array of `total` rows; the header is written with the first batch, whose shape
/// gives the per-image dimensions.
class NpySink : public FeatureSink {
 public:
  NpySink(const std::string& path, int64_t total) : path_(path), total_(total) {
    file_.open(path, std::ios::binary | std::ios::trunc);
    MOKA_CHECK(file_, IoError, "cannot create '" << path << "'");
  }
  void Write(const Blob<float>& blob) override {
    std::vector<int> per_image(blob.shape().begin() + (blob.num_axes() > 0 ? 1 : 0),
                               blob.shape().end());
    if (!header_written_) {
      WriteHeader(per_image);
      per_image_ = per_image;
      header_written_ = true;
    }
    MOKA_CHECK(per_image == per_image_, ShapeError,
               "blob changed shape between batches: " << blob.shape_string()
                                                      << "; a .npy array needs one shape");
    file_.write(reinterpret_cast<const char*>(blob.cpu_data()),
                static_cast<std::streamsize>(blob.count() * sizeof(float)));
    MOKA_CHECK(file_, IoError, "cannot write '" << path_ << "'");
  }
  void Finish() override {
    file_.close();
    MOKA_CHECK(file_, IoError, "cannot write '" << path_ << "'");
  }

 private:
  void WriteHeader(const std::vector<int>& per_image) {
    std::ostringstream shape;
    shape << "(" << total_;
    if (per_image.empty()) shape << ",";
    for (int dim : per_image) shape << ", " << dim;
    shape << ")";
    std::string header =
        "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape.str() + ", }";
    // Format 1.0: magic, version, a 2-byte length, then the header padded with spaces and ended by
    // '\n' so that the data starts on a 64-byte boundary.
    const size_t preamble = 10;
    const size_t padded = (preamble + header.size() + 1 + 63) / 64 * 64;
    header.append(padded - preamble - header.size() - 1, ' ');
    header.push_back('\n');
    const uint16_t length = static_cast<uint16_t>(header.size());
    const char magic[] = {'\x93', 'N', 'U', 'M', 'P', 'Y', '\x01', '\x00'};
    file_.write(magic, sizeof(magic));
    const char length_bytes[] = {static_cast<char>(length & 0xff), static_cast<char>(length >> 8)};
    file_.write(length_bytes, 2);
    file_ << header;
  }

  std::string path_;
  int64_t total_;
  std::ofstream file_;
  bool header_written_ = false;
  std::vector<int> per_image_;
};

/// One line per image, its values separated by commas, with enough digits to read back exactly.
class CsvSink : public FeatureSink {
 public:
  explicit CsvSink(const std::string& path) : path_(path) {
    file_ = std::fopen(path.c_str(), "w");
    MOKA_CHECK(file_ != nullptr, IoError, "cannot create '" << path << "'");
  }
  ~CsvSink() override {
    if (file_ != nullptr) std::fclose(file_);
  }
  void Write(const Blob<float>& blob) override {
    const int num = blob.num_axes() > 0 ? blob.shape(0) : 1;
    const int dim = num > 0 ? blob.count() / num : 0;
    const float* data = blob.cpu_data();
    for (int n = 0; n < num; ++n) {
      for (int d = 0; d < dim; ++d) {
        std::fprintf(file_, d == 0 ? "%.9g" : ",%.9g", data[static_cast<size_t>(n) * dim + d]);
      }
      std::fputc('\n', file_);
    }
    MOKA_CHECK(!std::ferror(file_), IoError, "cannot write '" << path_ << "'");
  }
  void Finish() override {
    const int status = std::fclose(file_);
    file_ = nullptr;
    MOKA_CHECK(status == 0, IoError, "cannot write '" << path_ << "'");
  }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
};

struct ExtractJob {
  std::string model;
  std::string weights;
  std::vector<std::string> blobs;
  /// One path per blob.
  std::vector<std::string> outputs;
  /// lmdb, leveldb, npy or csv.
  std::string format;
  int iterations = 0;
  std::vector<int> gpus;
};

/// A blob name as a file name: path separators (inception_3a/output) become '_'.
std::string FileNameFor(const std::string& blob) {
  std::string name = blob;
  for (char& c : name) {
    if (c == '/' || c == '\\') c = '_';
  }
  return name;
}

/// The blobs a user can ask for: every blob but those the inserted Split layers make.
std::string ListBlobs(const Net<float>& net) {
  std::set<int> split_tops;
  for (int i = 0; i < net.num_layers(); ++i) {
    if (std::string(net.layers()[i]->type()) != "Split") continue;
    for (int top : net.top_ids(i)) split_tops.insert(top);
  }
  std::ostringstream list;
  for (size_t i = 0; i < net.blob_names().size(); ++i) {
    if (split_tops.count(static_cast<int>(i))) continue;
    list << (list.tellp() > 0 ? ", " : "") << net.blob_names()[i];
  }
  return list.str();
}

int BlobIndex(const Net<float>& net, const std::string& name) {
  for (size_t i = 0; i < net.blob_names().size(); ++i) {
    if (net.blob_names()[i] == name) return static_cast<int>(i);
  }
  return -1;
}

/// The layers whose output the given blobs depend on, in net order. Walking backwards, a layer is
/// needed when it writes a needed blob (in-place layers such as relu7 included, so a blob holds
/// the value a full forward pass leaves in it), and then its bottoms are needed too.
std::vector<int> LayersNeededFor(const Net<float>& net, const std::vector<int>& blob_ids) {
  std::set<int> needed(blob_ids.begin(), blob_ids.end());
  std::vector<bool> run(net.num_layers(), false);
  for (int i = net.num_layers() - 1; i >= 0; --i) {
    for (int top : net.top_ids(i)) run[i] = run[i] || needed.count(top) > 0;
    if (!run[i]) continue;
    for (int bottom : net.bottom_ids(i)) needed.insert(bottom);
  }
  std::vector<int> layers;
  for (int i = 0; i < net.num_layers(); ++i) {
    if (run[i]) layers.push_back(i);
  }
  return layers;
}

int RunExtract(const ExtractJob& job) {
  MOKA_CHECK(job.iterations > 0, ConfigError,
             "the number of batches must be positive, got " << job.iterations);
  MOKA_CHECK(!job.blobs.empty(), ConfigError, "name the blobs to extract (--blobs=fc7,pool5)");
  MOKA_CHECK(job.blobs.size() == job.outputs.size(), ConfigError,
             "got " << job.blobs.size() << " blob names but " << job.outputs.size()
                    << " output names; they must pair up");
  if (job.format == "lmdb" || job.format == "leveldb") db::ParseBackend(job.format);

  if (job.gpus.empty()) {
    LOG(INFO) << "Using CPU";
  } else {
    LOG(INFO) << "Using GPU with device ID " << job.gpus[0];
  }
  Net<float> net(job.model, TEST, MakeContext(job.gpus));
  if (job.weights.empty()) {
    LOG(WARNING) << "No weights given: extracting with the net's initial (filler) weights.";
  }
  for (const std::string& weights : SplitList(job.weights)) net.CopyTrainedLayersFrom(weights);

  std::vector<int> blob_ids;
  for (const std::string& name : job.blobs) {
    const int index = BlobIndex(net, name);
    MOKA_CHECK(index >= 0, ConfigError,
               "unknown blob '" << name << "' in the net " << job.model << " (its blobs: "
                                << ListBlobs(net) << ")");
    blob_ids.push_back(index);
  }
  const std::vector<int> layers = LayersNeededFor(net, blob_ids);
  for (int layer : layers) {
    MOKA_CHECK(std::string(net.layers()[layer]->type()) != "Input", ConfigError,
               "blob '" << net.blob_names()[net.top_ids(layer)[0]] << "' comes from Input layer '"
                        << net.layer_names()[layer]
                        << "', which nothing fills here: extract reads its images through the "
                           "net's data layer (Data, ImageData, ...), as Caffe's extract_features");
  }
  LOG(INFO) << "Running " << layers.size() << " of the net's " << net.num_layers()
            << " layers for the requested blobs";

  const int batch = net.blobs()[blob_ids[0]]->num_axes() > 0 ? net.blobs()[blob_ids[0]]->shape(0)
                                                             : 1;
  const int64_t expected = static_cast<int64_t>(job.iterations) * batch;
  std::vector<std::unique_ptr<FeatureSink>> sinks;
  std::vector<std::string> created;
  bool finished = false;
  struct RemoveUnlessFinished {
    std::vector<std::unique_ptr<FeatureSink>>& sinks;
    std::vector<std::string>& paths;
    bool& finished;
    ~RemoveUnlessFinished() {
      if (finished) return;
      sinks.clear();
      std::error_code ignored;
      for (const std::string& path : paths) std::filesystem::remove_all(path, ignored);
    }
  } cleanup{sinks, created, finished};
  for (size_t i = 0; i < job.blobs.size(); ++i) {
    const std::string& path = job.outputs[i];
    if (job.format == "npy") {
      sinks.push_back(std::make_unique<NpySink>(path, expected));
    } else if (job.format == "csv") {
      sinks.push_back(std::make_unique<CsvSink>(path));
    } else {
      sinks.push_back(std::make_unique<DatabaseSink>(job.format, path));
    }
    created.push_back(path);
    LOG(INFO) << "Writing blob " << job.blobs[i] << " to " << path;
  }

  LOG(INFO) << "Extracting features";
  ProgressBar progress("extract", expected, "images");
  double forward_seconds = 0;
  int64_t images = 0;
  for (int iteration = 0; iteration < job.iterations; ++iteration) {
    const auto start = std::chrono::steady_clock::now();
    for (int layer : layers) net.layers()[layer]->Forward(net.bottom_vecs()[layer], net.top_vecs()[layer]);
    forward_seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (size_t i = 0; i < sinks.size(); ++i) sinks[i]->Write(*net.blobs()[blob_ids[i]]);
    const Blob<float>& first = *net.blobs()[blob_ids[0]];
    const int num = first.num_axes() > 0 ? first.shape(0) : 1;
    images += num;
    progress.Add(num);
  }
  for (auto& sink : sinks) sink->Finish();
  progress.Finish();
  finished = true;

  const double seconds = progress.elapsed_seconds();
  for (const std::string& name : job.blobs) {
    LOG(INFO) << "Extracted features of " << images << " query images for feature blob " << name;
  }
  MOKA_CHECK(images == expected || job.format != "npy", ShapeError,
             "the batch size changed during the run (" << images << " images, " << expected
                                                       << " expected): the .npy files are wrong");
  std::cout << "Extracted " << images << " images in " << job.iterations << " batches of "
            << batch << ": " << (seconds > 0 ? images / seconds : 0.0) << " images/s overall, "
            << (forward_seconds > 0 ? images / forward_seconds : 0.0)
            << " images/s in the forward pass" << std::endl;
  for (size_t i = 0; i < job.blobs.size(); ++i) {
    std::cout << "  " << job.blobs[i] << " " << net.blobs()[blob_ids[i]]->shape_string() << " -> "
              << job.outputs[i] << std::endl;
  }
  return 0;
}

}  // namespace

int ExtractMain(int argc, char** argv) {
  const VerbArgs args("extract", argc, argv,
                      {{"model", VerbArgs::Kind::kString, ""},
                       {"weights", VerbArgs::Kind::kString, ""},
                       {"blobs", VerbArgs::Kind::kString, ""},
                       {"output", VerbArgs::Kind::kString, ""},
                       {"format", VerbArgs::Kind::kString, "lmdb"},
                       {"iterations", VerbArgs::Kind::kInt, "50"},
                       {"gpu", VerbArgs::Kind::kString, ""}});
  if (args.help()) {
    std::cout << kExtractUsage << "\n";
    return 0;
  }
  MOKA_CHECK(args.positional().empty(), ConfigError,
             "unexpected argument '" << args.positional()[0] << "'\n" << kExtractUsage);
  ExtractJob job;
  job.model = args.GetString("model");
  job.weights = args.GetString("weights");
  job.blobs = SplitList(args.GetString("blobs"));
  job.format = args.GetString("format");
  job.iterations = args.GetInt("iterations");
  MOKA_CHECK(!job.model.empty(), ConfigError, "give the net: --model=NET.prototxt");
  MOKA_CHECK(!args.GetString("output").empty(), ConfigError,
             "give the output folder: --output=DIR");
  MOKA_CHECK(job.format == "lmdb" || job.format == "leveldb" || job.format == "npy" ||
                 job.format == "csv",
             ConfigError, "--format must be lmdb, leveldb, npy or csv, not '" << job.format << "'");
  FLAGS_gpu = args.GetString("gpu");
  job.gpus = GpusFromFlags();
  if (job.gpus.size() > 1) job.gpus = {job.gpus[0]};

  const std::string dir = args.GetString("output");
  std::filesystem::create_directories(dir);
  const std::string suffix =
      job.format == "npy" ? ".npy" : job.format == "csv" ? ".csv" : "_" + job.format;
  for (const std::string& blob : job.blobs) job.outputs.push_back(dir + "/" + FileNameFor(blob) + suffix);
  return RunExtract(job);
}

int ExtractFeaturesMain(int argc, char** argv) {
  const VerbArgs args("extract_features", argc, argv, {});
  if (args.help()) {
    std::cout << kExtractFeaturesUsage << "\n";
    return 0;
  }
  const std::vector<std::string>& positional = args.positional();
  MOKA_CHECK(positional.size() >= 6 && positional.size() <= 8, ConfigError,
             "expected 6 to 8 arguments, got " << positional.size() << "\n"
                                               << kExtractFeaturesUsage);
  ExtractJob job;
  job.weights = positional[0];
  job.model = positional[1];
  job.blobs = SplitList(positional[2]);
  job.outputs = SplitList(positional[3]);
  char* end = nullptr;
  job.iterations = static_cast<int>(std::strtol(positional[4].c_str(), &end, 10));
  MOKA_CHECK(*end == '\0', ConfigError,
             "NUM_BATCHES must be an integer, not '" << positional[4] << "'");
  job.format = positional[5];
  MOKA_CHECK(job.format == "lmdb" || job.format == "leveldb", ConfigError,
             "the database type must be lmdb or leveldb, not '" << job.format << "'");
  if (positional.size() >= 7) {
    MOKA_CHECK(positional[6] == "CPU" || positional[6] == "GPU", ConfigError,
               "expected CPU or GPU, not '" << positional[6] << "'");
    if (positional[6] == "GPU") {
      FLAGS_gpu = positional.size() == 8 ? positional[7] : "0";
      job.gpus = GpusFromFlags();
      if (job.gpus.size() > 1) job.gpus = {job.gpus[0]};
    }
  }
  return RunExtract(job);
}

}  // namespace moka
