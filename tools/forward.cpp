// moka forward: one forward pass of a net on an input read from a NumPy .npy file, writing one
// or more blobs back as .npy, so that scripts can compare moka's numbers with other programs' exactly.
#include <glog/logging.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "error.hpp"
#include "net.hpp"
#include "tools/cli.hpp"
#include "tools/verbs.hpp"

namespace moka {
namespace {

const char kNpyMagic[] = "\x93NUMPY";

std::string Usage() {
  return "usage: moka forward --model=NET.prototxt [--weights=W.caffemodel] "
         "--input=IN.npy[,IN2.npy] --output=OUT.npy[,OUT2.npy] [--blob=NAME[,NAME2]]";
}

/// The value that follows `'key':` in a .npy header dictionary, up to the next ',' or ')'.
std::string HeaderValue(const std::string& header, const std::string& key,
                        const std::string& path) {
  const size_t at = header.find("'" + key + "'");
  MOKA_CHECK(at != std::string::npos, ParseError, path << ": .npy header has no '" << key << "'");
  const size_t colon = header.find(':', at);
  MOKA_CHECK(colon != std::string::npos, ParseError, path << ": malformed .npy header");
  return header.substr(colon + 1);
}

/// A little-endian float32, C-ordered array from a .npy file (format versions 1 to 3).
std::vector<float> ReadNpy(const std::string& path, std::vector<int>* shape) {
  std::ifstream file(path, std::ios::binary);
  MOKA_CHECK(file, IoError, "cannot open '" << path << "'");
  char magic[8];
  file.read(magic, 8);
  MOKA_CHECK(file && std::memcmp(magic, kNpyMagic, 6) == 0, ParseError,
             path << ": not a .npy file");
  uint32_t header_length = 0;
  unsigned char length_bytes[4] = {};
  const int length_size = magic[6] == 1 ? 2 : 4;
  file.read(reinterpret_cast<char*>(length_bytes), length_size);
  for (int i = length_size - 1; i >= 0; --i) header_length = header_length * 256 + length_bytes[i];
  std::string header(header_length, '\0');
  file.read(&header[0], header_length);
  MOKA_CHECK(file, ParseError, path << ": truncated .npy header");

  const std::string descr = HeaderValue(header, "descr", path);
  MOKA_CHECK(descr.find("'<f4'") != std::string::npos, ParseError,
             path << ": moka forward reads float32 ('<f4') arrays; this one is" << descr.substr(0, descr.find(',')));
  MOKA_CHECK(HeaderValue(header, "fortran_order", path).find("False") != std::string::npos,
             ParseError, path << ": Fortran-ordered arrays are not supported");
  std::string dims = HeaderValue(header, "shape", path);
  dims = dims.substr(dims.find('(') + 1);
  dims = dims.substr(0, dims.find(')'));
  shape->clear();
  std::stringstream items(dims);
  std::string item;
  int64_t count = 1;
  while (std::getline(items, item, ',')) {
    if (item.find_first_not_of(" ") == std::string::npos) continue;
    shape->push_back(std::stoi(item));
    count *= shape->back();
  }
  std::vector<float> values(count);
  file.read(reinterpret_cast<char*>(values.data()), count * sizeof(float));
  MOKA_CHECK(file, ParseError, path << ": holds fewer values than its shape says");
  return values;
}

void WriteNpy(const std::string& path, const std::vector<int>& shape, const float* values,
              int64_t count) {
  std::ostringstream dims;
  for (size_t i = 0; i < shape.size(); ++i) dims << shape[i] << (shape.size() == 1 || i + 1 < shape.size() ? "," : "");
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims.str() + "), }";
  // Version 1.0: the data starts on a 64-byte boundary; the header ends with a newline.
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  std::ofstream file(path, std::ios::binary);
  MOKA_CHECK(file, IoError, "cannot write '" << path << "'");
  file.write(kNpyMagic, 6);
  const char version[2] = {1, 0};
  file.write(version, 2);
  const uint16_t length = static_cast<uint16_t>(header.size());
  const char length_bytes[2] = {static_cast<char>(length & 0xff), static_cast<char>(length >> 8)};
  file.write(length_bytes, 2);
  file.write(header.data(), header.size());
  file.write(reinterpret_cast<const char*>(values), count * sizeof(float));
  MOKA_CHECK(file, IoError, "error writing '" << path << "'");
}

}  // namespace

int ForwardMain(int argc, char** argv) {
  std::string model, weights, input, output, blob_name;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto take = [&arg](const char* prefix, std::string* value) {
      const size_t length = std::strlen(prefix);
      if (arg.compare(0, length, prefix) != 0) return false;
      *value = arg.substr(length);
      return true;
    };
    if (!(take("--model=", &model) || take("--weights=", &weights) || take("--input=", &input) ||
          take("--output=", &output) || take("--blob=", &blob_name))) {
      MOKA_THROW(ConfigError, "unexpected argument '" << arg << "' for 'moka forward'\n" << Usage());
    }
  }
  MOKA_CHECK(!model.empty() && !input.empty() && !output.empty(), ConfigError,
             "'moka forward' needs --model, --input and --output\n" << Usage());

  Net<float> net(model, TEST, MakeContext({}));
  if (!weights.empty()) net.CopyTrainedLayersFrom(weights);
  MOKA_CHECK(!net.input_blobs().empty(), ConfigError,
             model << " has no input blob (an Input layer) to feed " << input);
  // --input=A.npy,B.npy feeds the net's inputs in order (for example data and cont of an LSTM).
  const std::vector<std::string> inputs = SplitList(input);
  MOKA_CHECK(inputs.size() <= net.input_blobs().size(), ConfigError,
             "--input names " << inputs.size() << " file(s) but " << model << " has "
                              << net.input_blobs().size() << " input blob(s)");
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::vector<int> shape;
    const std::vector<float> values = ReadNpy(inputs[i], &shape);
    Blob<float>* data = net.input_blobs()[i];
    data->Reshape(shape);
    std::copy(values.begin(), values.end(), data->mutable_cpu_data());
  }
  net.Reshape();
  net.Forward();

  // Several blobs from one pass: --blob=A,B with --output=A.npy,B.npy.
  std::vector<std::string> names = SplitList(blob_name);
  const std::vector<std::string> outputs = SplitList(output);
  if (names.empty()) {
    MOKA_CHECK(!net.output_blobs().empty(), ConfigError, model << " has no output blob");
    names.push_back(net.blob_names()[net.output_blob_indices()[0]]);
  }
  MOKA_CHECK(names.size() == outputs.size(), ConfigError,
             "--blob names " << names.size() << " blob(s) but --output " << outputs.size()
                             << " file(s)");
  for (size_t i = 0; i < names.size(); ++i) {
    const Blob<float>& result = *net.blob_by_name(names[i]);
    WriteNpy(outputs[i], result.shape(), result.cpu_data(), result.count());
    LOG(INFO) << "Wrote blob " << names[i] << " (" << result.shape_string() << ") to "
              << outputs[i];
  }
  return 0;
}

}  // namespace moka
