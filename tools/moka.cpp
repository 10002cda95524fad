// The `moka` command line: one binary, a table of verbs (as Caffe's `caffe <command>`), each a
// function with its help text and the flags it reads. main turns every moka::Error into one line
// on stderr and a non-zero exit status.
#include <gflags/gflags.h>
#include <glog/logging.h>

#include <cstring>
#include <exception>
#include <functional>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "error.hpp"
#include "tools/cli.hpp"
#include "tools/verbs.hpp"

namespace moka {
namespace {

struct Verb {
  const char* name;
  const char* summary;
  const char* usage;
  const char* details;
  /// The moka flags this verb reads; shown by its help. Empty for verbs that parse their own.
  std::vector<const char*> flags;
  /// Flag-driven verbs get gflags parsing; the others receive their arguments (argv[0] = verb).
  bool uses_flags;
  std::function<int(int, char**)> run;
};

int HelpMain(int argc, char** argv);

const std::vector<Verb>& Verbs() {
  static const std::vector<Verb> verbs = {
      {"train", "train or finetune a model",
       "moka train --solver=SOLVER.prototxt [--weights=A.caffemodel[,B.caffemodel] | "
       "--snapshot=X.solverstate] [--gpu=N]",
       "Trains the net that the solver names, testing and snapshotting as the solver says.\n"
       "--weights copies layers by name from each model in turn into the train and test nets\n"
       "(finetuning); --snapshot resumes from a solver state. SIGINT and SIGHUP stop or snapshot\n"
       "the run as --sigint_effect and --sighup_effect say.",
       {"solver", "weights", "snapshot", "gpu", "level", "stage", "sigint_effect", "sighup_effect"},
       true, [](int, char**) { return TrainMain(); }},
      {"test", "score a model",
       "moka test --model=NET.prototxt [--weights=W.caffemodel] [--iterations=N] [--gpu=N]",
       "Builds the net in TEST phase, runs N forward passes and logs every output of each batch,\n"
       "then the mean of each output over all batches (with its weighted loss for loss outputs).",
       {"model", "weights", "iterations", "gpu", "level", "stage"}, true,
       [](int, char**) { return TestMain(); }},
      {"time", "benchmark model execution time",
       "moka time --model=NET.prototxt [--iterations=N] [--phase=TRAIN|TEST] [--gpu=N]",
       "Runs one forward-backward pass to warm up, then N timed ones, and logs each layer's mean\n"
       "forward and backward time with the engine it ran on, and the mean of whole passes.",
       {"model", "iterations", "phase", "gpu", "level", "stage"}, true,
       [](int, char**) { return TimeMain(); }},
      {"device_query", "show GPU diagnostic information", "moka device_query --gpu=N[,M...]|all",
       "Logs the properties of each GPU that --gpu names.", {"gpu"}, true,
       [](int, char**) { return DeviceQueryMain(); }},
      {"convert_mnist", "convert MNIST IDX files to an LMDB",
       "moka convert_mnist IMAGES LABELS OUTPUT_DB [--backend=lmdb]",
       "Reads MNIST-format IDX files (idx3 images, idx1 labels; plain or gzipped) and writes an\n"
       "LMDB of Datum records keyed \"%08d\", as Caffe's convert_mnist_data does. OUTPUT_DB must\n"
       "not exist yet.",
       {}, false, ConvertMnistMain},
      {"help", "list the verbs, or show one verb's help", "moka help [VERB]",
       "Without VERB, lists the verbs; with it, shows that verb's usage and flags.", {}, false,
       HelpMain},
  };
  return verbs;
}

const Verb* FindVerb(const std::string& name) {
  for (const Verb& verb : Verbs()) {
    if (name == verb.name) return &verb;
  }
  return nullptr;
}

std::string VerbList() {
  std::ostringstream text;
  text << "moka: train and run Caffe models\n"
       << "usage: moka <verb> [flags]\n\n"
       << "verbs:\n";
  for (const Verb& verb : Verbs()) {
    text << "  " << std::left << std::setw(16) << verb.name << verb.summary << "\n";
  }
  text << "\nRun 'moka help VERB' or 'moka VERB --help' for a verb's flags.\n";
  return text.str();
}

void PrintVerbHelp(const Verb& verb) {
  std::cout << "usage: " << verb.usage << "\n\n" << verb.details << "\n";
  if (!verb.flags.empty()) {
    std::cout << "\nflags:\n";
    for (const char* name : verb.flags) {
      gflags::CommandLineFlagInfo info;
      if (!gflags::GetCommandLineFlagInfo(name, &info)) continue;
      std::cout << "  --" << name << " (" << info.type << ", default: \"" << info.default_value
                << "\")\n      " << info.description << "\n";
    }
  }
}

int HelpMain(int argc, char** argv) {
  if (argc < 2) {
    std::cout << VerbList();
    return 0;
  }
  const Verb* verb = FindVerb(argv[1]);
  if (verb == nullptr) {
    std::cerr << "moka: error: unknown verb '" << argv[1] << "'\n\n" << VerbList();
    return 1;
  }
  PrintVerbHelp(*verb);
  return 0;
}

bool IsFlag(const char* arg) { return arg[0] == '-' && arg[1] != '\0'; }

/// "--name=value", "-name", "--noname" -> "name" (or "noname"), without dashes and value.
std::string FlagName(const char* arg) {
  std::string name = arg + (arg[1] == '-' ? 2 : 1);
  return name.substr(0, name.find('='));
}

bool IsHelpFlag(const char* arg) {
  if (!IsFlag(arg)) return false;
  const std::string name = FlagName(arg);
  return name == "h" || name.compare(0, 4, "help") == 0;
}

/// Rejects flags gflags does not know with a message that names the verb, and warns about moka
/// flags the verb ignores (Caffe ignores them silently, which hides typos such as --model for
/// train).
void CheckFlags(const Verb& verb, const std::vector<char*>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const char* arg = args[i];
    if (!IsFlag(arg)) continue;
    if (std::strcmp(arg, "--") == 0) break;
    std::string name = FlagName(arg);
    gflags::CommandLineFlagInfo info;
    bool known = gflags::GetCommandLineFlagInfo(name.c_str(), &info);
    if (!known && name.compare(0, 2, "no") == 0) {
      known = gflags::GetCommandLineFlagInfo(name.c_str() + 2, &info) && info.type == "bool";
      if (known) name = name.substr(2);
    }
    MOKA_CHECK(known, ConfigError,
               "unknown flag '" << arg << "' for 'moka " << verb.name << "' (see 'moka help "
                                << verb.name << "')");
    if (info.filename.find("tools/cli.cpp") == std::string::npos) continue;
    bool used = false;
    for (const char* flag : verb.flags) used = used || name == flag;
    if (!used) LOG(WARNING) << "--" << name << " is not used by 'moka " << verb.name << "'";
  }
}

int Run(int argc, char** argv) {
  // The verb is the first argument that is not a flag; Caffe accepts flags on either side of it.
  int verb_index = 0;
  for (int i = 1; i < argc && verb_index == 0; ++i) {
    if (!IsFlag(argv[i])) verb_index = i;
  }
  if (verb_index == 0) {
    bool asked_for_help = argc == 1;
    for (int i = 1; i < argc; ++i) asked_for_help = asked_for_help || IsHelpFlag(argv[i]);
    if (asked_for_help) {
      std::cout << VerbList();
      return 0;
    }
    std::cerr << "moka: error: no verb given\n\n" << VerbList();
    return 1;
  }
  const Verb* verb = FindVerb(argv[verb_index]);
  if (verb == nullptr) {
    std::cerr << "moka: error: unknown verb '" << argv[verb_index] << "'\n\n" << VerbList();
    return 1;
  }

  // The verb's arguments, without the program name and the verb itself.
  std::vector<char*> args;
  for (int i = 1; i < argc; ++i) {
    if (i != verb_index) args.push_back(argv[i]);
  }
  for (char* arg : args) {
    if (IsHelpFlag(arg)) {
      PrintVerbHelp(*verb);
      return 0;
    }
  }

  if (!verb->uses_flags) {
    std::vector<char*> verb_argv = {argv[verb_index]};
    verb_argv.insert(verb_argv.end(), args.begin(), args.end());
    verb_argv.push_back(nullptr);
    return verb->run(static_cast<int>(verb_argv.size()) - 1, verb_argv.data());
  }

  CheckFlags(*verb, args);
  std::vector<char*> flag_argv = {argv[0]};
  flag_argv.insert(flag_argv.end(), args.begin(), args.end());
  flag_argv.push_back(nullptr);
  int flag_argc = static_cast<int>(flag_argv.size()) - 1;
  char** flag_argv_ptr = flag_argv.data();
  // Help flags never reach gflags (they were answered above), so its dump of every flag of every
  // linked library is never printed.
  gflags::ParseCommandLineFlags(&flag_argc, &flag_argv_ptr, true);
  MOKA_CHECK(flag_argc <= 1, ConfigError,
             "unexpected argument '" << flag_argv_ptr[1] << "' for 'moka " << verb->name
                                     << "' (see 'moka help " << verb->name << "')");
  return verb->run(flag_argc, flag_argv_ptr);
}

}  // namespace
}  // namespace moka

int main(int argc, char** argv) {
  // Log lines go to stderr, as Caffe's do under GLOG_logtostderr=1, and keep the prefix of the
  // glog Caffe used ("I1126 02:32:06.636000 ..."), which log parsers such as parse_log.py read.
  FLAGS_logtostderr = 1;
  FLAGS_log_year_in_prefix = false;
  google::InitGoogleLogging(argv[0]);
  gflags::SetUsageMessage("moka <verb> [flags]; run 'moka help' for the verbs");
  try {
    return moka::Run(argc, argv);
  } catch (const moka::Error& error) {
    std::cerr << "moka: error: " << error.what() << std::endl;
  } catch (const std::exception& error) {
    std::cerr << "moka: error: " << error.what() << std::endl;
  }
  return 1;
}
