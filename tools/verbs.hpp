#pragma once
// The verbs of the `moka` command line, one function each, returning the exit status.
// ConvertMnistMain takes the arguments after the program name (argv[0] is the verb itself) and
// prints its own errors; the Caffe verbs below throw moka::Error, which main reports.

namespace moka {

/// `moka convert_mnist IMAGES LABELS OUTPUT_DB [--backend=lmdb]`: MNIST IDX files (plain or
/// gzipped) to an LMDB of Datum records keyed "%08d".
int ConvertMnistMain(int argc, char** argv);
/// `moka zoo list|fetch NAME [--path=FILE] [--models=DIR]`: the model zoo under models/.
int ZooMain(int argc, char** argv);
/// `moka init_weights --model=M --output=W [--seed=N] [--calibrate]`: initialised weights.
int InitWeightsMain(int argc, char** argv);
/// `moka forward --model=M [--weights=W] --input=IN.npy --output=O.npy[,O2] [--blob=B[,B2]]`.
int ForwardMain(int argc, char** argv);
/// `moka upgrade_net_proto_text IN OUT`, `moka upgrade_net_proto_binary IN OUT`,
/// `moka upgrade_solver_proto_text IN OUT`: old Caffe definitions rewritten in the current format.
int UpgradeNetProtoTextMain(int argc, char** argv);
int UpgradeNetProtoBinaryMain(int argc, char** argv);
int UpgradeSolverProtoTextMain(int argc, char** argv);
/// `moka convert_imageset [FLAGS] ROOTFOLDER/ LISTFILE DB_NAME`: images to Datum records.
int ConvertImagesetMain(int argc, char** argv);
/// `moka compute_image_mean [--backend=lmdb] DB [OUT.binaryproto]`: the per-pixel mean.
int ComputeImageMeanMain(int argc, char** argv);
/// `moka extract --model=M --weights=W --blobs=B[,B2] --output=DIR [--format=lmdb|npy|csv]`.
int ExtractMain(int argc, char** argv);
/// `moka extract_features WEIGHTS MODEL BLOBS DBS N lmdb|leveldb [CPU|GPU] [ID]` (Caffe's form).
int ExtractFeaturesMain(int argc, char** argv);
/// `moka classify --model=M --weights=W [--labels=L] [--mean=F] IMAGE...`: top-k classes.
int ClassifyMain(int argc, char** argv);

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
