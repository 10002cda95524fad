#pragma once
// Running a verb function (ConvertImagesetMain, ExtractMain, ...) in-process as `moka` would, with
// what it prints captured, for the tests of the image tools.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "error.hpp"

namespace moka::test {

struct VerbResult {
  /// The exit status `moka` would have: the verb's return value, or 1 when it threw.
  int status = -1;
  std::string out;
  std::string err;
  /// The message of the moka::Error the verb threw ("" when it returned).
  std::string error;
};

inline VerbResult RunVerb(int (*verb_main)(int, char**), const std::string& verb,
                          const std::vector<std::string>& args) {
  std::vector<std::string> storage = {verb};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : storage) argv.push_back(arg.data());
  argv.push_back(nullptr);
  VerbResult result;
  ::testing::internal::CaptureStderr();
  ::testing::internal::CaptureStdout();
  try {
    result.status = verb_main(static_cast<int>(storage.size()), argv.data());
  } catch (const Error& error) {
    result.status = 1;
    result.error = error.what();
  }
  result.out = ::testing::internal::GetCapturedStdout();
  result.err = ::testing::internal::GetCapturedStderr();
  return result;
}

inline bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace moka::test
