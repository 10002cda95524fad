#pragma once
// The verbs of the `moka` command line, one function each, returning the exit status.
// ConvertMnistMain takes the arguments after the program name (argv[0] is the verb itself) and
// prints its own errors; the Caffe verbs below throw moka::Error, which main reports.

namespace moka {

/// `moka convert_mnist IMAGES LABELS OUTPUT_DB [--backend=lmdb]`: MNIST IDX files (plain or
/// gzipped) to an LMDB of Datum records keyed "%08d".
int ConvertMnistMain(int argc, char** argv);

// These read their options from the flags in tools/cli.hpp, parsed before they run.

/// `moka train --solver=S [--weights=W[,W2] | --snapshot=S.solverstate] [--gpu=N]`.
int TrainMain();
/// `moka test --model=M [--weights=W] [--iterations=N] [--gpu=N]`: scores a net in TEST phase.
int TestMain();
/// `moka time --model=M [--iterations=N] [--phase=TRAIN|TEST] [--gpu=N]`: per-layer timings.
int TimeMain();
/// `moka device_query --gpu=N`: the properties of a GPU.
int DeviceQueryMain();

}  // namespace moka
