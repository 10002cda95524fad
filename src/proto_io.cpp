#include "proto_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <google/protobuf/text_format.h>

#include "error.hpp"
#include "upgrade.hpp"

namespace moka {
namespace {

// Collects the first parse error as "origin:line:col: message" (1-based, as editors count).
class FirstErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  explicit FirstErrorCollector(std::string origin) : origin_(std::move(origin)) {}
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (!first_.empty()) return;
    first_ = origin_ + ":" + std::to_string(line + 1) + ":" + std::to_string(column + 1) + ": " +
             message;
  }
  void AddWarning(int, google::protobuf::io::ColumnNumber, const std::string&) override {}
  const std::string& first() const { return first_; }

 private:
  std::string origin_;
  std::string first_;
};

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  MOKA_CHECK(in.good(), IoError, "cannot open '" << path << "' for reading");
  std::ostringstream contents;
  contents << in.rdbuf();
  MOKA_CHECK(!in.bad(), IoError, "error while reading '" << path << "'");
  return contents.str();
}

// Writes through a sibling temporary file and renames it into place.
void WriteAtomically(const std::string& path, const std::string& bytes) {
  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    MOKA_CHECK(out.good(), IoError, "cannot open '" << temp << "' for writing");
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    MOKA_CHECK(out.good(), IoError, "error while writing '" << temp << "' (disk full?)");
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    std::remove(temp.c_str());
    MOKA_THROW(IoError, "cannot rename '" << temp << "' to '" << path << "'");
  }
}

}  // namespace

bool FileExists(const std::string& path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0;
}

void ReadProtoFromTextString(const std::string& text, const std::string& origin,
                             google::protobuf::Message* message) {
  FirstErrorCollector errors(origin);
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text, message)) {
    MOKA_THROW(ParseError, (errors.first().empty() ? origin + ": cannot parse as " +
                                                          message->GetTypeName()
                                                    : errors.first()));
  }
}

void ReadProtoFromTextFile(const std::string& path, google::protobuf::Message* message) {
  ReadProtoFromTextString(ReadWholeFile(path), path, message);
}

void ReadProtoFromBinaryFile(const std::string& path, google::protobuf::Message* message) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  MOKA_CHECK(fd >= 0, IoError, "cannot open '" << path << "' for reading");
  bool parsed = false;
  {
    google::protobuf::io::FileInputStream raw(fd);
    google::protobuf::io::CodedInputStream coded(&raw);
    coded.SetTotalBytesLimit(INT_MAX);
    parsed = message->ParseFromCodedStream(&coded) && coded.ConsumedEntireMessage();
  }
  ::close(fd);
  MOKA_CHECK(parsed, IoError,
             "'" << path << "' is not a valid binary " << message->GetTypeName()
                 << " (truncated or corrupt file?)");
}

void WriteProtoToTextFile(const google::protobuf::Message& message, const std::string& path) {
  std::string text;
  MOKA_CHECK(google::protobuf::TextFormat::PrintToString(message, &text), InternalError,
             "cannot print " << message.GetTypeName());
  WriteAtomically(path, text);
}

void WriteProtoToBinaryFile(const google::protobuf::Message& message, const std::string& path) {
  std::string bytes;
  MOKA_CHECK(message.SerializeToString(&bytes), InternalError,
             "cannot serialise " << message.GetTypeName() << " (over 2 GB?)");
  WriteAtomically(path, bytes);
}

NetParameter ReadNetParamFromTextFile(const std::string& path) {
  NetParameter param;
  ReadProtoFromTextFile(path, &param);
  UpgradeNetAsNeeded(path, &param);
  return param;
}

NetParameter ReadNetParamFromBinaryFile(const std::string& path) {
  NetParameter param;
  ReadProtoFromBinaryFile(path, &param);
  UpgradeNetAsNeeded(path, &param);
  return param;
}

SolverParameter ReadSolverParamFromTextFile(const std::string& path) {
  SolverParameter param;
  ReadProtoFromTextFile(path, &param);
  UpgradeSolverAsNeeded(path, &param);
  return param;
}

}  // namespace moka
