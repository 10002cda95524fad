// moka upgrade_net_proto_text / upgrade_net_proto_binary / upgrade_solver_proto_text: rewrite an
// old Caffe net or solver definition in the current format, as Caffe's tools of the same names
// do. Each reports whether the file needed an upgrade and writes the output either way. Exit
// status: 0 when done, 1 for a usage error or when some old fields had to be dropped (the output
// is still written), 2 when the input cannot be read or parsed.
#include <glog/logging.h>

#include <iostream>
#include <string>

#include "error.hpp"
#include "moka.pb.h"
#include "proto_io.hpp"
#include "tools/verbs.hpp"
#include "upgrade.hpp"

namespace moka {

namespace {

enum class Encoding { kText, kBinary };

int UpgradeNetProto(int argc, char** argv, Encoding encoding) {
  const char* verb = encoding == Encoding::kText ? "upgrade_net_proto_text"
                                                 : "upgrade_net_proto_binary";
  if (argc != 3) {
    std::cerr << "usage: moka " << verb << " OLD_NET_IN NET_OUT\n";
    return 1;
  }
  const std::string input = argv[1];
  const std::string output = argv[2];
  NetParameter param;
  try {
    if (encoding == Encoding::kText) {
      ReadProtoFromTextFile(input, &param);
    } else {
      ReadProtoFromBinaryFile(input, &param);
    }
  } catch (const Error& error) {
    std::cerr << "moka: error: cannot read '" << input << "' as a NetParameter: " << error.what()
              << "\n";
    return 2;
  }
  bool compatible = true;
  if (NetNeedsUpgrade(param)) {
    compatible = UpgradeNetAsNeeded(input, &param);
    if (!compatible) {
      LOG(WARNING) << "Some fields of " << input
                   << " had no meaning in the current format and were dropped; see above";
    }
    LOG(INFO) << "Upgraded " << input << " to the current format";
  } else {
    LOG(INFO) << "File already in latest proto format: " << input;
  }
  if (encoding == Encoding::kText) {
    WriteProtoToTextFile(param, output);
    LOG(INFO) << "Wrote upgraded NetParameter text proto to " << output;
  } else {
    WriteProtoToBinaryFile(param, output);
    LOG(INFO) << "Wrote upgraded NetParameter binary proto to " << output;
  }
  return compatible ? 0 : 1;
}

}  // namespace

int UpgradeNetProtoTextMain(int argc, char** argv) {
  return UpgradeNetProto(argc, argv, Encoding::kText);
}

int UpgradeNetProtoBinaryMain(int argc, char** argv) {
  return UpgradeNetProto(argc, argv, Encoding::kBinary);
}

int UpgradeSolverProtoTextMain(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: moka upgrade_solver_proto_text OLD_SOLVER_IN SOLVER_OUT\n";
    return 1;
  }
  const std::string input = argv[1];
  const std::string output = argv[2];
  SolverParameter param;
  try {
    ReadProtoFromTextFile(input, &param);
  } catch (const Error& error) {
    std::cerr << "moka: error: cannot read '" << input << "' as a SolverParameter: "
              << error.what() << "\n";
    return 2;
  }
  // Nets written inside the solver are upgraded along with it.
  bool needs_upgrade = SolverNeedsTypeUpgrade(param);
  if (param.has_net_param()) needs_upgrade = needs_upgrade || NetNeedsUpgrade(param.net_param());
  if (param.has_train_net_param())
    needs_upgrade = needs_upgrade || NetNeedsUpgrade(param.train_net_param());
  for (const auto& test_net : param.test_net_param())
    needs_upgrade = needs_upgrade || NetNeedsUpgrade(test_net);
  if (needs_upgrade) {
    UpgradeSolverAsNeeded(input, &param);
    LOG(INFO) << "Upgraded " << input << " to the current format";
  } else {
    LOG(INFO) << "File already in latest proto format: " << input;
  }
  WriteProtoToTextFile(param, output);
  LOG(INFO) << "Wrote upgraded SolverParameter text proto to " << output;
  return 0;
}

}  // namespace moka
