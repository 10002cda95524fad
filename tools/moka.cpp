// The `moka` command line: one binary, a table of verbs (as Caffe's `caffe <command>`), each a
// function with its help text and the flags it reads. main turns every moka::Error into one line
// on stderr and a non-zero exit status.
#include <gflags/gflags.h>
#include <glog/logging.h>

#include <algorithm>
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
      {"convert_mnist", "convert MNIST IDX files to an LMDB or LevelDB",
       "moka convert_mnist IMAGES LABELS OUTPUT_DB [--backend=lmdb|leveldb]",
       "Reads MNIST-format IDX files (idx3 images, idx1 labels; plain or gzipped) and writes an\n"
       "LMDB of Datum records keyed \"%08d\", as Caffe's convert_mnist_data does. OUTPUT_DB must\n"
       "not exist yet.",
       {}, false, ConvertMnistMain},
      {"zoo", "list the model zoo or fetch a model's weights",
       "moka zoo list [--models=DIR] | moka zoo fetch NAME [--path=FILE] [--models=DIR]",
       "list: the models under models/ (or DIR), their weights file and whether it is present and\n"
       "matches the SHA-1 in the model's README.md. fetch: downloads NAME's weights (resuming a\n"
       "partial download) into models/NAME/, or installs FILE given by --path; a file whose SHA-1\n"
       "does not match is refused.",
       {}, false, ZooMain},
      {"init_weights", "write a net's initialised weights as a caffemodel",
       "moka init_weights --model=NET.prototxt --output=W.caffemodel [--seed=N] [--calibrate]",
       "Builds the net (TEST phase) and writes its parameters as its fillers set them. With\n"
       "--calibrate, random weights are scaled on a random input so that every Convolution and\n"
       "InnerProduct output has unit variance and every BatchNorm holds near-true statistics.",
       {}, false, InitWeightsMain},
      {"forward", "run a net on a .npy input and save a blob as .npy",
       "moka forward --model=NET.prototxt [--weights=W.caffemodel] --input=IN.npy[,IN2.npy] "
       "--output=OUT.npy[,OUT2.npy] [--blob=NAME[,NAME2]]",
       "Feeds IN.npy (float32) to the net's first input (IN2.npy to the second, ...), runs one\n"
       "TEST-phase forward pass and writes each blob named by --blob (default: the first output)\n"
       "to the matching file.",
       {}, false, ForwardMain},
      {"upgrade_net_proto_text", "upgrade an old net prototxt to the current format",
       "moka upgrade_net_proto_text OLD_NET.prototxt NEW_NET.prototxt",
       "Reads a net definition in any older Caffe format (V0 'layers { layer {...} }', V1\n"
       "'layers' with enum types, input/input_dim fields, ...) and writes it in the current one.\n"
       "Exit 1 when some old fields had to be dropped, 2 when the input cannot be parsed.",
       {}, false, UpgradeNetProtoTextMain},
      {"upgrade_net_proto_binary", "upgrade an old binary caffemodel to the current format",
       "moka upgrade_net_proto_binary OLD.caffemodel NEW.caffemodel",
       "As upgrade_net_proto_text, for a binary NetParameter (trained weights included).", {},
       false, UpgradeNetProtoBinaryMain},
      {"upgrade_solver_proto_text", "upgrade an old solver prototxt to the current format",
       "moka upgrade_solver_proto_text OLD_SOLVER.prototxt NEW_SOLVER.prototxt",
       "Replaces the deprecated solver_type enum by the type string and upgrades any net\n"
       "written inside the solver.",
       {}, false, UpgradeSolverProtoTextMain},
      {"convert_imageset", "convert a folder of images to a database of Datum records",
       "moka convert_imageset [FLAGS] ROOTFOLDER/ LISTFILE DB_NAME",
       "LISTFILE lines are 'FILE LABEL' (split at the last space); each FILE is read from\n"
       "ROOTFOLDER + FILE and stored under the key \"%08d_FILE\" (its line number), as Caffe's\n"
       "convert_imageset does: uint8 C x H x W pixels in BGR order, or the encoded image with\n"
       "--encoded. Images that cannot be read are reported and skipped. DB_NAME must not exist.\n"
       "flags: --gray --shuffle --backend=lmdb|leveldb (lmdb) --resize_width=W --resize_height=H\n"
       "       --check_size --encoded --encode_type=png|jpg|... --threads=N (decoding threads)",
       {}, false, ConvertImagesetMain},
      {"compute_image_mean", "compute the mean image of a database",
       "moka compute_image_mean [--backend=lmdb|leveldb] INPUT_DB [OUTPUT.binaryproto]",
       "Averages every record (raw, float or encoded) of INPUT_DB pixel by pixel, writes the mean\n"
       "as a 1 x C x H x W BlobProto (for transform_param { mean_file }) and logs each channel's\n"
       "mean, as Caffe's compute_image_mean does.",
       {}, false, ComputeImageMeanMain},
      {"extract", "save the values of chosen blobs for every image",
       "moka extract --model=NET.prototxt --weights=W.caffemodel --blobs=fc7[,pool5] "
       "--output=DIR [--format=lmdb|leveldb|npy|csv] [--iterations=N] [--gpu=N]",
       "Runs N batches (default 50) of the net's data layer in TEST phase through the layers the\n"
       "blobs need, and writes each blob to DIR/BLOB_lmdb (Datum records with float_data, keys\n"
       "\"%010d\", as Caffe's extract_features), DIR/BLOB.npy (float32, N x per-image shape) or\n"
       "DIR/BLOB.csv (one row per image).",
       {}, false, ExtractMain},
      {"extract_features", "Caffe's extract_features command line",
       "moka extract_features WEIGHTS.caffemodel NET.prototxt BLOB[,BLOB] DB[,DB] NUM_BATCHES "
       "lmdb|leveldb [CPU|GPU] [DEVICE_ID]",
       "As 'moka extract' with database output, taking Caffe's positional arguments.", {}, false,
       ExtractFeaturesMain},
      {"classify", "print the top classes of images",
       "moka classify --model=DEPLOY.prototxt --weights=W.caffemodel [--labels=LABELS.txt] "
       "[--mean=MEAN.binaryproto | --mean_value=B,G,R] [--scale=S] [--top_k=5] [--gpu=N] "
       "IMAGE...",
       "As Caffe's cpp_classification example: each image is converted to the input's channels\n"
       "(BGR), resized to its size, the mean of each channel (of the mean file, or --mean_value)\n"
       "subtracted, multiplied by --scale (default 1, moka's addition), and the top_k scores of\n"
       "the net's single output printed with their labels (one per line of LABELS.txt).",
       {}, false, ClassifyMain},
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
  size_t width = 16;
  for (const Verb& verb : Verbs()) width = std::max(width, std::strlen(verb.name) + 2);
  for (const Verb& verb : Verbs()) {
    text << "  " << std::left << std::setw(static_cast<int>(width)) << verb.name << verb.summary
         << "\n";
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
