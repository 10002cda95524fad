#include "tools/verb_args.hpp"

#include <cerrno>
#include <climits>
#include <cstdlib>

#include "error.hpp"

namespace moka {

VerbArgs::VerbArgs(const std::string& verb, int argc, char** argv, const std::vector<Flag>& flags)
    : verb_(verb), flags_(flags) {
  bool flags_ended = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (flags_ended || arg.size() < 2 || arg[0] != '-') {
      positional_.push_back(arg);
      continue;
    }
    if (arg == "--") {
      flags_ended = true;
      continue;
    }
    std::string body = arg.substr(arg[1] == '-' ? 2 : 1);
    if (body == "h" || body == "help") {
      help_ = true;
      continue;
    }
    const size_t equals = body.find('=');
    std::string name = body.substr(0, equals);
    const bool has_value = equals != std::string::npos;
    std::string value = has_value ? body.substr(equals + 1) : "";

    const Flag* flag = nullptr;
    for (const Flag& candidate : flags_) {
      if (candidate.name == name) flag = &candidate;
    }
    if (flag == nullptr && !has_value && name.compare(0, 2, "no") == 0) {
      for (const Flag& candidate : flags_) {
        if (candidate.kind == Kind::kBool && candidate.name == name.substr(2)) {
          flag = &candidate;
          value = "false";
        }
      }
      if (flag != nullptr) {
        given_[flag->name] = value;
        continue;
      }
    }
    MOKA_CHECK(flag != nullptr, ConfigError,
               "unknown flag '" << arg << "' for 'moka " << verb_ << "' (see 'moka help " << verb_
                                << "')");
    if (!has_value) {
      if (flag->kind == Kind::kBool) {
        value = "true";
      } else {
        MOKA_CHECK(i + 1 < argc, ConfigError, "flag '" << arg << "' needs a value");
        value = argv[++i];
      }
    }
    given_[name] = value;
    // Values are checked here, so that a typo fails before any work starts.
    switch (flag->kind) {
      case Kind::kBool: GetBool(name); break;
      case Kind::kInt: GetInt(name); break;
      case Kind::kDouble: GetDouble(name); break;
      case Kind::kString: break;
    }
  }
}

const VerbArgs::Flag& VerbArgs::Find(const std::string& name) const {
  for (const Flag& flag : flags_) {
    if (flag.name == name) return flag;
  }
  MOKA_THROW(InternalError, "'moka " << verb_ << "' reads undeclared flag '" << name << "'");
}

bool VerbArgs::has(const std::string& name) const { return given_.count(name) > 0; }

const std::string& VerbArgs::GetString(const std::string& name) const {
  const Flag& flag = Find(name);
  const auto it = given_.find(name);
  return it == given_.end() ? flag.default_value : it->second;
}

bool VerbArgs::GetBool(const std::string& name) const {
  const std::string& value = GetString(name);
  if (value == "true" || value == "1" || value == "yes") return true;
  if (value == "false" || value == "0" || value == "no") return false;
  MOKA_THROW(ConfigError, "--" << name << " takes true or false, not '" << value << "'");
}

int VerbArgs::GetInt(const std::string& name) const {
  const std::string& value = GetString(name);
  char* end = nullptr;
  errno = 0;
  const long number = std::strtol(value.c_str(), &end, 10);
  MOKA_CHECK(!value.empty() && *end == '\0' && errno == 0 && number >= INT_MIN &&
                 number <= INT_MAX,
             ConfigError, "--" << name << " takes an integer, not '" << value << "'");
  return static_cast<int>(number);
}

double VerbArgs::GetDouble(const std::string& name) const {
  const std::string& value = GetString(name);
  char* end = nullptr;
  const double number = std::strtod(value.c_str(), &end);
  MOKA_CHECK(!value.empty() && *end == '\0', ConfigError,
             "--" << name << " takes a number, not '" << value << "'");
  return number;
}

}  // namespace moka
