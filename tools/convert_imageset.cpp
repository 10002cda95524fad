// moka convert_imageset: a folder of images and a list of "FILE LABEL" lines to a database of Datum
// records, with the flags, keys ("%08d_FILE") and record layout of Caffe's convert_imageset.
// Images are decoded on a few threads and written in list order; an image that cannot be read is
// reported by name and skipped, as Caffe skips it, and the run goes on.
#include <glog/logging.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "error.hpp"
#include "moka.pb.h"
#include "tools/datum_io.hpp"
#include "tools/progress.hpp"
#include "tools/verb_args.hpp"
#include "tools/verbs.hpp"

namespace moka {

namespace {

const char kUsage[] =
    "usage: moka convert_imageset [FLAGS] ROOTFOLDER/ LISTFILE DB_NAME\n"
    "  LISTFILE lines are 'FILE LABEL'; FILE is appended to ROOTFOLDER as given (keep its '/')";

/// Runs work(0), work(1), ... on `threads` threads, at most `window` items ahead of the consumer,
/// and hands the results out strictly in index order.
template <typename Result>
class OrderedPool {
 public:
  OrderedPool(size_t count, int threads, size_t window, std::function<Result(size_t)> work)
      : count_(count), window_(window), work_(std::move(work)), slots_(window) {
    for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { Loop(); });
  }
  ~OrderedPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    space_.notify_all();
    for (std::thread& worker : workers_) worker.join();
  }
  OrderedPool(const OrderedPool&) = delete;
  OrderedPool& operator=(const OrderedPool&) = delete;

  /// The result of item `index`; call with index 0, 1, 2, ... in turn.
  Result Take(size_t index) {
    std::unique_lock<std::mutex> lock(mutex_);
    std::optional<Result>& slot = slots_[index % window_];
    ready_.wait(lock, [&] { return slot.has_value(); });
    Result result = std::move(*slot);
    slot.reset();
    taken_ = index + 1;
    lock.unlock();
    space_.notify_all();
    return result;
  }

 private:
  void Loop() {
    for (;;) {
      size_t index;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        space_.wait(lock, [&] { return stop_ || next_ >= count_ || next_ < taken_ + window_; });
        if (stop_ || next_ >= count_) return;
        index = next_++;
      }
      Result result = work_(index);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        slots_[index % window_] = std::move(result);
      }
      ready_.notify_all();
    }
  }

  size_t count_;
  size_t window_;
  std::function<Result(size_t)> work_;
  std::vector<std::optional<Result>> slots_;
  size_t next_ = 0;
  size_t taken_ = 0;
  bool stop_ = false;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::condition_variable space_;
  std::vector<std::thread> workers_;
};

struct ListEntry {
  std::string file;
  int label = 0;
  /// Non-empty when the line could not be parsed.
  std::string error;
};

/// Lines "FILE LABEL", split at the last space as Caffe does, so file names may hold spaces.
std::vector<ListEntry> ReadList(const std::string& path) {
  std::ifstream list(path);
  MOKA_CHECK(list, IoError, "cannot open list file '" << path << "'");
  std::vector<ListEntry> entries;
  std::string line;
  int line_number = 0;
  while (std::getline(list, line)) {
    ++line_number;
    // Trailing blanks and a Windows '\r' would otherwise end up in the label.
    line.erase(line.find_last_not_of(" \t\r\n") + 1);
    if (line.empty()) continue;
    ListEntry entry;
    const size_t space = line.find_last_of(' ');
    entry.file = line.substr(0, space);
    const std::string label = space == std::string::npos ? "" : line.substr(space + 1);
    char* end = nullptr;
    const long value = std::strtol(label.c_str(), &end, 10);
    if (space == std::string::npos || label.empty() || *end != '\0') {
      std::ostringstream error;
      error << "line " << line_number << " of '" << path << "' is not 'FILE LABEL': '" << line
            << "'";
      entry.error = error.str();
    } else {
      entry.label = static_cast<int>(value);
    }
    entries.push_back(std::move(entry));
  }
  MOKA_CHECK(!list.bad(), IoError, "cannot read list file '" << path << "'");
  return entries;
}

struct Converted {
  std::string value;        // the serialized Datum
  std::vector<int> shape;   // {C, H, W} of the stored image
  std::string error;        // why the image was skipped
};

std::string Key(size_t line_id, const std::string& file) {
  char number[32];
  std::snprintf(number, sizeof(number), "%08zu", line_id);
  return std::string(number) + "_" + file;
}

std::string ShapeText(const std::vector<int>& shape) {
  std::ostringstream text;
  text << shape[0] << " x " << shape[1] << " x " << shape[2];
  return text.str();
}

int Run(const VerbArgs& args) {
  MOKA_CHECK(args.positional().size() == 3, ConfigError,
             "expected 3 arguments, got " << args.positional().size() << "\n" << kUsage);
  const std::string root = args.positional()[0];
  const std::string list_path = args.positional()[1];
  const std::string db_path = args.positional()[2];
  const bool check_size = args.GetBool("check_size");
  const std::string encode_type = args.GetString("encode_type");
  const bool encoded = args.GetBool("encoded") || !encode_type.empty();
  if (!encode_type.empty() && !args.GetBool("encoded")) {
    LOG(INFO) << "encode_type specified, assuming encoded=true.";
  }
  ImageReadOptions base_options;
  base_options.color = !args.GetBool("gray");
  base_options.resize_height = std::max(0, args.GetInt("resize_height"));
  base_options.resize_width = std::max(0, args.GetInt("resize_width"));
  int threads = args.GetInt("threads");
  if (threads <= 0) {
    threads = static_cast<int>(std::min(4u, std::max(1u, std::thread::hardware_concurrency())));
  }

  std::vector<ListEntry> entries = ReadList(list_path);
  if (args.GetBool("shuffle")) {
    LOG(INFO) << "Shuffling data";
    std::mt19937_64 rng(std::random_device{}());
    std::shuffle(entries.begin(), entries.end(), rng);
  }
  LOG(INFO) << "A total of " << entries.size() << " images.";

  std::unique_ptr<db::Writer> writer = NewDatabase(args.GetString("backend"), db_path);
  // A half-written database would pass for a finished one on the next run.
  struct RemoveUnlessFinished {
    std::unique_ptr<db::Writer>& writer;
    const std::string& path;
    bool finished = false;
    ~RemoveUnlessFinished() {
      if (finished) return;
      writer.reset();
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  } cleanup{writer, db_path};

  auto convert = [&](size_t index) {
    Converted result;
    const ListEntry& entry = entries[index];
    if (!entry.error.empty()) {
      result.error = entry.error;
      return result;
    }
    try {
      ImageReadOptions options = base_options;
      if (!encode_type.empty()) {
        options.encoding = encode_type;
      } else if (encoded) {
        options.encoding = FileExtension(entry.file);
        options.reuse_file_bytes = true;
        MOKA_CHECK(!options.encoding.empty(), IoError,
                   "cannot guess its encoding from the file name; give --encode_type");
      }
      Datum datum;
      result.shape = ImageFileToDatum(root + entry.file, entry.label, options, &datum);
      MOKA_CHECK(datum.SerializeToString(&result.value), InternalError,
                 "cannot serialize a Datum");
    } catch (const std::exception& error) {
      result.error = "'" + root + entry.file + "': " + error.what();
    }
    return result;
  };

  ProgressBar progress("convert_imageset", static_cast<int64_t>(entries.size()), "images");
  std::vector<std::string> skipped;
  std::vector<int> first_shape;
  size_t count = 0;
  {
    OrderedPool<Converted> pool(entries.size(), threads, 8 * static_cast<size_t>(threads) + 16,
                                convert);
    for (size_t index = 0; index < entries.size(); ++index) {
      Converted result = pool.Take(index);
      if (result.error.empty() && check_size) {
        if (first_shape.empty()) {
          first_shape = result.shape;
        } else if (result.shape != first_shape) {
          result.error = "'" + root + entries[index].file + "': size " +
                         ShapeText(result.shape) + " differs from the first image's " +
                         ShapeText(first_shape) + " (--check_size)";
        }
      }
      if (!result.error.empty()) {
        progress.Message("convert_imageset: skipping " + result.error);
        skipped.push_back(entries[index].file);
        progress.Add();
        continue;
      }
      writer->Put(Key(index, entries[index].file), result.value);
      ++count;
      progress.Add();
    }
  }
  writer->Commit();
  writer.reset();
  progress.Finish();
  cleanup.finished = true;

  std::cout << "Processed " << count << " files: wrote " << count << " of " << entries.size()
            << " images to " << db_path << " (" << args.GetString("backend") << ")";
  if (!skipped.empty()) {
    std::cout << ", skipped " << skipped.size() << ":";
    const size_t shown = std::min<size_t>(skipped.size(), 10);
    for (size_t i = 0; i < shown; ++i) std::cout << " " << skipped[i];
    if (shown < skipped.size()) std::cout << " ...";
  }
  std::cout << std::endl;
  MOKA_CHECK(count > 0 || entries.empty(), IoError,
             "none of the " << entries.size() << " images in '" << list_path
                            << "' could be converted");
  return 0;
}

}  // namespace

int ConvertImagesetMain(int argc, char** argv) {
  const VerbArgs args("convert_imageset", argc, argv,
                      {{"gray", VerbArgs::Kind::kBool, "false"},
                       {"shuffle", VerbArgs::Kind::kBool, "false"},
                       {"backend", VerbArgs::Kind::kString, "lmdb"},
                       {"resize_width", VerbArgs::Kind::kInt, "0"},
                       {"resize_height", VerbArgs::Kind::kInt, "0"},
                       {"check_size", VerbArgs::Kind::kBool, "false"},
                       {"encoded", VerbArgs::Kind::kBool, "false"},
                       {"encode_type", VerbArgs::Kind::kString, ""},
                       {"threads", VerbArgs::Kind::kInt, "0"}});
  if (args.help()) {
    std::cout << kUsage << "\n";
    return 0;
  }
  return Run(args);
}

}  // namespace moka
