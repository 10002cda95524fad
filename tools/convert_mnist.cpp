// moka convert_mnist: MNIST-format IDX files to an LMDB of Datum records, as Caffe's
// convert_mnist_data writes them (1 x rows x cols uint8 pixels, the label, keys "%08d").
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "db.hpp"
#include "error.hpp"
#include "moka.pb.h"
#include "tools/verbs.hpp"

namespace moka {

namespace {

constexpr uint32_t kImagesMagic = 2051;
constexpr uint32_t kLabelsMagic = 2049;

const char kUsage[] =
    "usage: moka convert_mnist IMAGES LABELS OUTPUT_DB [--backend=lmdb|leveldb]\n"
    "  IMAGES, LABELS: MNIST IDX files (idx3 images, idx1 labels), plain or gzipped\n"
    "  OUTPUT_DB: the database to create; it must not exist yet\n";

/// An IDX file read through zlib, which passes plain files through unchanged.
class IdxFile {
 public:
  explicit IdxFile(const std::string& path) : path_(path), file_(gzopen(path.c_str(), "rb")) {
    MOKA_CHECK(file_ != nullptr, IoError, "cannot open '" << path << "' for reading");
  }
  ~IdxFile() { gzclose(file_); }
  IdxFile(const IdxFile&) = delete;
  IdxFile& operator=(const IdxFile&) = delete;

  /// Reads exactly `size` bytes; `what` names them in the error for a short file.
  void Read(void* buffer, size_t size, const std::string& what) {
    const int got = gzread(file_, buffer, static_cast<unsigned>(size));
    if (got < 0) {
      int code = 0;
      const char* message = gzerror(file_, &code);
      MOKA_THROW(IoError, "cannot read '" << path_ << "': " << message);
    }
    MOKA_CHECK(static_cast<size_t>(got) == size, IoError,
               "'" << path_ << "' ends early: it is truncated while reading " << what);
  }

  /// IDX header fields are big-endian 32-bit integers.
  uint32_t ReadBigEndian(const std::string& what) {
    unsigned char bytes[4];
    Read(bytes, 4, what);
    return (uint32_t(bytes[0]) << 24) | (uint32_t(bytes[1]) << 16) | (uint32_t(bytes[2]) << 8) |
           uint32_t(bytes[3]);
  }

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  gzFile file_;
};

void CheckMagic(IdxFile* file, uint32_t expected, const char* kind) {
  const uint32_t magic = file->ReadBigEndian("the magic number");
  if (magic == expected) return;
  const char* hint = "";
  if (magic == kImagesMagic) hint = " (this looks like an images file)";
  if (magic == kLabelsMagic) hint = " (this looks like a labels file)";
  MOKA_THROW(IoError, "'" << file->path() << "' is not an MNIST " << kind << " file: magic number "
                          << magic << ", expected " << expected << hint);
}

struct Options {
  std::string images, labels, output;
  db::Backend backend = db::Backend::kLmdb;
  bool help = false;
};

Options ParseArgs(int argc, char** argv) {
  Options options;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help" || arg == "-help") {
      options.help = true;
      return options;
    }
    std::string backend;
    bool is_backend = false;
    for (const std::string prefix : {"--backend=", "-backend="}) {
      if (arg.compare(0, prefix.size(), prefix) == 0) {
        backend = arg.substr(prefix.size());
        is_backend = true;
      }
    }
    if (arg == "--backend" || arg == "-backend") {
      MOKA_CHECK(i + 1 < argc, ConfigError, arg << " needs a value\n" << kUsage);
      backend = argv[++i];
      is_backend = true;
    }
    if (is_backend) {
      options.backend = db::ParseBackend(backend);
      continue;
    }
    MOKA_CHECK(arg.empty() || arg[0] != '-', ConfigError,
               "unknown flag '" << arg << "'\n"
                                << kUsage);
    positional.push_back(arg);
  }
  MOKA_CHECK(positional.size() == 3, ConfigError,
             "expected 3 arguments, got " << positional.size() << "\n"
                                          << kUsage);
  options.images = positional[0];
  options.labels = positional[1];
  options.output = positional[2];
  return options;
}

/// Writes the database and returns the number of records.
uint32_t Convert(const Options& options) {
  IdxFile images(options.images);
  IdxFile labels(options.labels);
  CheckMagic(&images, kImagesMagic, "images");
  CheckMagic(&labels, kLabelsMagic, "labels");
  const uint32_t num_images = images.ReadBigEndian("the image count");
  const uint32_t num_labels = labels.ReadBigEndian("the label count");
  MOKA_CHECK(num_images == num_labels, IoError,
             "'" << options.images << "' holds " << num_images << " images but '" << options.labels
                 << "' holds " << num_labels << " labels");
  const uint32_t rows = images.ReadBigEndian("the row count");
  const uint32_t cols = images.ReadBigEndian("the column count");
  MOKA_CHECK(rows > 0 && cols > 0 && rows <= 65536 && cols <= 65536 && rows * cols <= (1u << 28),
             IoError,
             "'" << options.images << "' has implausible image size " << rows << " x " << cols);

  std::unique_ptr<db::Writer> writer = db::OpenWriter(options.backend, options.output);
  Datum datum;
  datum.set_channels(1);
  datum.set_height(static_cast<int>(rows));
  datum.set_width(static_cast<int>(cols));
  std::string pixels(static_cast<size_t>(rows) * cols, '\0');
  std::string value;
  char key[16];
  for (uint32_t i = 0; i < num_images; ++i) {
    const std::string item = "image " + std::to_string(i) + " of " + std::to_string(num_images);
    images.Read(pixels.data(), pixels.size(), item);
    unsigned char label = 0;
    labels.Read(&label, 1, "label " + std::to_string(i) + " of " + std::to_string(num_labels));
    datum.set_data(pixels);
    datum.set_label(label);
    MOKA_CHECK(datum.SerializeToString(&value), InternalError, "cannot serialize a Datum");
    std::snprintf(key, sizeof(key), "%08u", i);
    writer->Put(key, value);
  }
  writer->Commit();
  return num_images;
}

}  // namespace

int ConvertMnistMain(int argc, char** argv) {
  bool created_output = false;
  Options options;
  try {
    options = ParseArgs(argc, argv);
    if (options.help) {
      std::cout << kUsage;
      return 0;
    }
    MOKA_CHECK(!std::filesystem::exists(options.output), IoError,
               "output database '" << options.output
                                   << "' already exists; remove it or choose another path");
    created_output = true;
    const uint32_t count = Convert(options);
    std::cout << "Processed " << count << " items." << std::endl;
    return 0;
  } catch (const std::exception& error) {
    // A half-written database would pass for a finished one on the next run.
    if (created_output) {
      std::error_code ignored;
      std::filesystem::remove_all(options.output, ignored);
    }
    std::cerr << "convert_mnist: " << error.what() << std::endl;
    return 1;
  }
}

}  // namespace moka
