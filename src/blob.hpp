#pragma once
// Blob: an N-D array of data and its gradient (diff), each in lazily synced host/device memory.
// Reshaping within the current capacity reuses the buffers.
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "common.hpp"
#include "moka.pb.h"
#include "synced_memory.hpp"

namespace moka {

template <typename Dtype>
class Blob {
 public:
  Blob() = default;
  explicit Blob(const std::vector<int>& shape) { Reshape(shape); }
  explicit Blob(std::initializer_list<int> shape) { Reshape(shape); }
  Blob(int num, int channels, int height, int width) { Reshape({num, channels, height, width}); }
  MOKA_DISABLE_COPY(Blob);

  void Reshape(const std::vector<int>& shape);
  void Reshape(std::initializer_list<int> shape) { Reshape(std::vector<int>(shape)); }
  void Reshape(const BlobShape& shape);
  void ReshapeLike(const Blob& other) { Reshape(other.shape()); }

  const std::vector<int>& shape() const { return shape_; }
  /// Size of one axis; negative indices count from the end.
  int shape(int axis) const { return shape_[CanonicalAxisIndex(axis)]; }
  int num_axes() const { return static_cast<int>(shape_.size()); }
  int count() const { return count_; }
  /// Product of the dimensions in [start_axis, end_axis).
  int count(int start_axis, int end_axis) const;
  int count(int start_axis) const { return count(start_axis, num_axes()); }
  /// Maps a possibly negative axis to [0, num_axes); throws ShapeError when out of range.
  int CanonicalAxisIndex(int axis) const;
  std::string shape_string() const { return ShapeString(shape_); }

  // Caffe's 4-D accessors; missing axes read as 1.
  int num() const { return LegacyShape(0); }
  int channels() const { return LegacyShape(1); }
  int height() const { return LegacyShape(2); }
  int width() const { return LegacyShape(3); }
  int LegacyShape(int index) const;
  int offset(int n, int c = 0, int h = 0, int w = 0) const;
  int offset(const std::vector<int>& indices) const;

  const Dtype* cpu_data() const;
  const Dtype* cpu_diff() const;
  Dtype* mutable_cpu_data();
  Dtype* mutable_cpu_diff();
  const Dtype* gpu_data() const;
  const Dtype* gpu_diff() const;
  Dtype* mutable_gpu_data();
  Dtype* mutable_gpu_diff();

  Dtype data_at(int n, int c, int h, int w) const { return cpu_data()[offset(n, c, h, w)]; }
  Dtype diff_at(int n, int c, int h, int w) const { return cpu_diff()[offset(n, c, h, w)]; }

  const std::shared_ptr<SyncedMemory>& data() const { return data_; }
  const std::shared_ptr<SyncedMemory>& diff() const { return diff_; }

  /// data -= diff, on whichever side holds the newer data.
  void Update();
  Dtype asum_data() const;
  Dtype asum_diff() const;
  Dtype sumsq_data() const;
  Dtype sumsq_diff() const;
  void scale_data(Dtype factor);
  void scale_diff(Dtype factor);
  void set_data(Dtype value);
  void set_diff(Dtype value);

  /// Makes this blob use other's data (or diff) memory; counts must match.
  void ShareData(const Blob& other);
  void ShareDiff(const Blob& other);
  /// Makes this blob's data live in `memory` (at least count() elements), which other blobs may
  /// also use: the net's activation sharing (Net::ShareActivationMemory).
  void SetDataMemory(std::shared_ptr<SyncedMemory> memory);
  /// Copies data (or diff) from source; reshapes when asked, else shapes must match.
  void CopyFrom(const Blob& source, bool copy_diff = false, bool reshape = false);

  /// True when proto's shape (or legacy num/channels/height/width) equals this shape.
  bool ShapeEquals(const BlobProto& proto) const;
  void FromProto(const BlobProto& proto, bool reshape = true);
  void ToProto(BlobProto* proto, bool write_diff = false) const;

 private:
  bool on_gpu_side() const;

  std::shared_ptr<SyncedMemory> data_;
  std::shared_ptr<SyncedMemory> diff_;
  std::vector<int> shape_;
  int count_ = 0;
  size_t capacity_ = 0;
};

/// Shape held by a BlobProto, from `shape` or the legacy 4-D fields.
std::vector<int> BlobProtoShape(const BlobProto& proto);

}  // namespace moka
