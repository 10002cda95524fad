#pragma once
// Argument parsing for the verbs that take their own flags (convert_imageset, compute_image_mean,
// extract, classify). They keep their flags out of the process-wide gflags table, where two verbs
// defining a flag of the same name would stop every verb from starting.
//
// Accepted forms, as gflags accepts them: --name=value, -name=value, --name value (not for bools),
// --flag, --noflag, --flag=true|false|1|0. "--" ends the flags.
#include <map>
#include <string>
#include <vector>

namespace moka {

class VerbArgs {
 public:
  enum class Kind { kBool, kInt, kDouble, kString };
  struct Flag {
    std::string name;
    Kind kind;
    std::string default_value;
  };

  /// Parses argv[1..argc) (argv[0] is the verb) against `flags`; throws ConfigError naming the
  /// verb for an unknown flag or a missing value.
  VerbArgs(const std::string& verb, int argc, char** argv, const std::vector<Flag>& flags);

  const std::vector<std::string>& positional() const { return positional_; }
  bool help() const { return help_; }
  /// Whether the flag was given on the command line.
  bool has(const std::string& name) const;

  bool GetBool(const std::string& name) const;
  int GetInt(const std::string& name) const;
  double GetDouble(const std::string& name) const;
  const std::string& GetString(const std::string& name) const;

 private:
  const Flag& Find(const std::string& name) const;

  std::string verb_;
  std::vector<Flag> flags_;
  std::map<std::string, std::string> given_;
  std::vector<std::string> positional_;
  bool help_ = false;
};

}  // namespace moka
