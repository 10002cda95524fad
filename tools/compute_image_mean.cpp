// moka compute_image_mean: the per-pixel mean of a database of Datum records, written as the
// BlobProto (1 x C x H x W, legacy dimension fields) that Caffe's compute_image_mean writes and
// transform_param.mean_file reads, with the per-channel means logged as Caffe logs them.
#include <glog/logging.h>

#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "error.hpp"
#include "moka.pb.h"
#include "proto_io.hpp"
#include "tools/datum_io.hpp"
#include "tools/progress.hpp"
#include "tools/verb_args.hpp"
#include "tools/verbs.hpp"

namespace moka {

namespace {

const char kUsage[] = "usage: moka compute_image_mean [--backend=lmdb|leveldb] INPUT_DB [OUTPUT_FILE]";

int Run(const VerbArgs& args) {
  MOKA_CHECK(args.positional().size() == 1 || args.positional().size() == 2, ConfigError,
             "expected 1 or 2 arguments, got " << args.positional().size() << "\n" << kUsage);
  const std::string db_path = args.positional()[0];
  std::unique_ptr<db::Reader> reader = OpenDatabase(args.GetString("backend"), db_path);
  const size_t total = reader->size();
  MOKA_CHECK(total > 0, IoError, "database '" << db_path << "' holds no records");
  std::unique_ptr<db::Cursor> cursor = reader->NewCursor();

  Datum datum;
  MOKA_CHECK(datum.ParseFromString(cursor->value()), IoError,
             "record '" << cursor->key() << "' of '" << db_path << "' is not a Datum");
  if (DecodeDatumNative(&datum)) LOG(INFO) << "Decoding Datum";
  const int channels = datum.channels(), height = datum.height(), width = datum.width();
  const size_t size = static_cast<size_t>(channels) * height * width;
  MOKA_CHECK(size > 0, IoError,
             "the first record of '" << db_path << "' has no pixels (" << channels << " x "
                                     << height << " x " << width << ")");
  // Sums in float, as Caffe does: past 2^24 per pixel the rounding differs from an exact sum, and
  // matching Caffe's mean files bit for bit matters more here than the last digit.
  std::vector<float> sum(size, 0.0f);

  LOG(INFO) << "Starting iteration";
  ProgressBar progress("compute_image_mean", static_cast<int64_t>(total), "images");
  size_t count = 0;
  for (size_t record = 0; record < total; ++record) {
    if (record > 0) {
      MOKA_CHECK(datum.ParseFromString(cursor->value()), IoError,
                 "record '" << cursor->key() << "' of '" << db_path << "' is not a Datum");
      try {
        DecodeDatumNative(&datum);
      } catch (const IoError& error) {
        MOKA_THROW(IoError, "record '" << cursor->key() << "' of '" << db_path
                                       << "': " << error.what());
      }
    }
    const std::string& data = datum.data();
    const size_t in_datum = std::max<size_t>(data.size(), datum.float_data_size());
    MOKA_CHECK(in_datum == size, IoError,
               "record '" << cursor->key() << "' of '" << db_path << "' holds " << in_datum
                          << " values, but the first record is " << channels << " x " << height
                          << " x " << width << " = " << size);
    if (!data.empty()) {
      for (size_t i = 0; i < size; ++i) sum[i] += static_cast<uint8_t>(data[i]);
    } else {
      for (size_t i = 0; i < size; ++i) sum[i] += datum.float_data(static_cast<int>(i));
    }
    ++count;
    progress.Add();
    cursor->Next();
  }
  progress.Finish();
  LOG(INFO) << "Processed " << count << " files.";

  BlobProto mean;
  mean.set_num(1);
  mean.set_channels(channels);
  mean.set_height(height);
  mean.set_width(width);
  for (size_t i = 0; i < size; ++i) mean.add_data(sum[i] / count);
  if (args.positional().size() == 2) {
    LOG(INFO) << "Write to " << args.positional()[1];
    WriteProtoToBinaryFile(mean, args.positional()[1]);
  }

  const int dim = height * width;
  LOG(INFO) << "Number of channels: " << channels;
  for (int c = 0; c < channels; ++c) {
    float channel_sum = 0.0f;
    for (int i = 0; i < dim; ++i) channel_sum += mean.data(dim * c + i);
    LOG(INFO) << "mean_value channel [" << c << "]: " << channel_sum / dim;
  }
  return 0;
}

}  // namespace

int ComputeImageMeanMain(int argc, char** argv) {
  const VerbArgs args("compute_image_mean", argc, argv,
                      {{"backend", VerbArgs::Kind::kString, "lmdb"}});
  if (args.help()) {
    std::cout << kUsage << "\n";
    return 0;
  }
  return Run(args);
}

}  // namespace moka
