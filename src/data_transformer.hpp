#pragma once
// Preprocessing of Datum records, with Caffe's TransformationParameter semantics:
//   crop (random offset in TRAIN, centred in TEST), then mirror (a coin flip, in both phases,
//   when `mirror` is set), then out = (x - mean) * scale,
// where the mean is per pixel (mean_file, a BlobProto of the uncropped C x H x W image) or per
// channel (mean_value: one value, or one per channel).
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "blob.hpp"
#include "common.hpp"
#include "moka.pb.h"

namespace moka {

template <typename Dtype>
class DataTransformer {
 public:
  /// Reads the mean file when one is named; throws ConfigError for mean_file with mean_value.
  DataTransformer(const TransformationParameter& param, Phase phase);

  /// Shape of one transformed record: {1, C, H', W'} (H' = W' = crop_size when cropping).
  std::vector<int> InferBlobShape(const Datum& datum) const;
  /// Writes the transformed record to `out` (count of InferBlobShape(datum) values), drawing
  /// crop offsets and mirror flips from `rng`.
  void Transform(const Datum& datum, std::mt19937_64* rng, Dtype* out) const;

  const TransformationParameter& param() const { return param_; }

 private:
  /// Caffe's Rand(n): a uniform draw in [0, n).
  static int Rand(std::mt19937_64* rng, int n) { return static_cast<int>((*rng)() % n); }
  /// Checks that the record is a raw image this transformer can use.
  void CheckDatum(const Datum& datum) const;

  TransformationParameter param_;
  Phase phase_;
  Blob<Dtype> mean_;  // per-pixel mean from mean_file, empty otherwise
  std::vector<Dtype> mean_values_;
};

/// The transform of a Data layer: its transform_param, or, when that is absent, the deprecated
/// transform fields (scale, mean_file, crop_size, mirror) that older nets give in data_param.
TransformationParameter EffectiveTransformParam(const LayerParameter& param);

}  // namespace moka
