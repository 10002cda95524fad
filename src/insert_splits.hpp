#pragma once
// Where one top feeds several bottoms (or a bottom and a loss), Caffe inserts a Split layer so
// each consumer gets its own diff to accumulate into. Names follow Caffe's scheme so snapshots
// stay interchangeable: layer "<blob>_<layer>_<top index>_split", tops "..._split_<k>".
#include "moka.pb.h"

namespace moka {

/// Returns `param` with Split layers inserted. Throws ConfigError naming the layer and blob when a
/// bottom is produced by no earlier layer.
NetParameter InsertSplits(const NetParameter& param);

std::string SplitLayerName(const std::string& layer_name, const std::string& blob_name, int top_index);
std::string SplitBlobName(const std::string& layer_name, const std::string& blob_name, int top_index,
                          int split_index);

}  // namespace moka
