#pragma once
// Weight initialisation from a FillerParameter, as Caffe defines each type:
//   constant, uniform, gaussian (optionally sparse), positive_unitball, xavier, msra, bilinear.
// For xavier and msra, fan_in = count / shape(0) and fan_out = count / shape(1); variance_norm
// picks fan_in, fan_out or their average as n. xavier draws U(-sqrt(3/n), sqrt(3/n)); msra draws
// N(0, sqrt(2/n)).
#include <random>

#include "blob.hpp"

namespace moka {

template <typename Dtype>
void Fill(const FillerParameter& filler, std::mt19937_64& rng, Blob<Dtype>* blob);

}  // namespace moka
