#pragma once
// Typed errors for user-facing failures (bad prototxt, shape mismatch, missing file). The library
// never exits or aborts on bad input: it throws one of these, and the CLI prints what() and exits
// non-zero. MOKA_ASSERT guards internal invariants and throws InternalError.
#include <sstream>
#include <stdexcept>
#include <string>

namespace moka {

class Error : public std::exception {
 public:
  Error(const std::string& message, const char* source_file, int source_line)
      : message_(message), source_file_(source_file), source_line_(source_line) {}
  const char* what() const noexcept override { return message_.c_str(); }
  /// Prefixes what the error happened in ("layer 'conv1' (Convolution)"), as it propagates out.
  void AddContext(const std::string& context) { message_ = context + ": " + message_; }
  /// Where in moka's source the error was raised (for bug reports; not part of the message).
  std::string origin() const { return std::string(source_file_) + ":" + std::to_string(source_line_); }

 private:
  std::string message_;
  const char* source_file_;
  int source_line_;
};

#define MOKA_DECLARE_ERROR(Name)                                      \
  class Name : public Error {                                         \
   public:                                                            \
    using Error::Error;                                               \
  }

MOKA_DECLARE_ERROR(ParseError);     // malformed prototxt or binary proto
MOKA_DECLARE_ERROR(ConfigError);    // a well-formed definition that makes no sense
MOKA_DECLARE_ERROR(ShapeError);     // incompatible blob shapes
MOKA_DECLARE_ERROR(IoError);        // missing, unreadable or corrupt files and databases
MOKA_DECLARE_ERROR(NumericError);   // NaN or infinite values where they must not be
MOKA_DECLARE_ERROR(DeviceError);    // GPU unavailable or a CUDA call failed
MOKA_DECLARE_ERROR(InternalError);  // a broken invariant of moka itself

}  // namespace moka

#define MOKA_THROW(ErrorType, stream_expr)                  \
  do {                                                      \
    std::ostringstream moka_message_;                       \
    moka_message_ << stream_expr;                           \
    throw ErrorType(moka_message_.str(), __FILE__, __LINE__); \
  } while (0)

#define MOKA_CHECK(condition, ErrorType, stream_expr) \
  do {                                                \
    if (!(condition)) MOKA_THROW(ErrorType, stream_expr); \
  } while (0)

#define MOKA_ASSERT(condition)                                                          \
  do {                                                                                  \
    if (!(condition)) MOKA_THROW(::moka::InternalError, "internal check failed: " #condition); \
  } while (0)
