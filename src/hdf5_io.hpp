#pragma once
// Blob and scalar I/O on HDF5 files, in the layout Caffe uses: a blob is an N-D float or double
// dataset whose dimensions are the blob's shape; ints and strings are small datasets (not
// attributes), as in Caffe's snapshot files. Every failure raises IoError (missing file, missing
// dataset, unsupported element type) or ShapeError (dimensions out of bounds or not matching),
// naming the file and the dataset. The serial HDF5 library is not thread-safe, so every call here
// holds one process-wide lock.
#include <hdf5.h>

#include <climits>
#include <functional>
#include <utility>
#include <string>
#include <vector>

#include "blob.hpp"
#include "common.hpp"

namespace moka {

/// Owns one open HDF5 file or group id and closes it on destruction. Movable, not copyable.
class Hdf5Handle {
 public:
  Hdf5Handle() = default;
  ~Hdf5Handle() { Close(); }
  Hdf5Handle(Hdf5Handle&& other) noexcept;
  Hdf5Handle& operator=(Hdf5Handle&& other) noexcept;
  MOKA_DISABLE_COPY(Hdf5Handle);

  hid_t id() const { return id_; }
  bool is_open() const { return id_ >= 0; }
  /// The file path this handle (or its file, for a group) belongs to; used in error messages.
  const std::string& path() const { return path_; }
  void Close();

 private:
  friend Hdf5Handle Hdf5OpenFile(const std::string& path);
  friend Hdf5Handle Hdf5CreateFile(const std::string& path);
  friend Hdf5Handle Hdf5OpenGroup(const Hdf5Handle& parent, const std::string& name);
  friend Hdf5Handle Hdf5CreateGroup(const Hdf5Handle& parent, const std::string& name);
  enum class Kind { kNone, kFile, kGroup };
  Hdf5Handle(hid_t id, Kind kind, std::string path) : id_(id), kind_(kind), path_(std::move(path)) {}

  hid_t id_ = -1;
  Kind kind_ = Kind::kNone;
  std::string path_;
};

/// Opens an existing file read-only.
Hdf5Handle Hdf5OpenFile(const std::string& path);
/// Creates a file for writing, replacing any existing one.
Hdf5Handle Hdf5CreateFile(const std::string& path);
/// Creates `path` through a sibling temporary file that `write` fills and that is renamed into
/// place only when `write` returns, so a crash or an error never leaves a torn file behind.
void Hdf5WriteFileAtomically(const std::string& path,
                             const std::function<void(const Hdf5Handle& file)>& write);
Hdf5Handle Hdf5OpenGroup(const Hdf5Handle& parent, const std::string& name);
/// Creates a group and any missing groups on its path ("a/b"); an existing group is opened.
Hdf5Handle Hdf5CreateGroup(const Hdf5Handle& parent, const std::string& name);

/// True when `name` (a dataset or group, relative to loc) exists.
bool Hdf5HasLink(const Hdf5Handle& loc, const std::string& name);
/// Names of the direct children of a file or group, in name order (as Caffe lists them).
std::vector<std::string> Hdf5ChildNames(const Hdf5Handle& loc);
/// Dimensions of a dataset.
std::vector<int> Hdf5DatasetShape(const Hdf5Handle& loc, const std::string& name);

/// Reads a float, double or integer dataset into blob->data (converted to Dtype). With reshape the
/// blob takes the dataset's shape; otherwise the shapes must be equal. The dataset must have
/// between min_dim and max_dim axes.
template <typename Dtype>
void Hdf5ReadBlob(const Hdf5Handle& loc, const std::string& name, Blob<Dtype>* blob,
                  bool reshape = true, int min_dim = 1, int max_dim = INT_MAX);
/// Writes blob's data (or, with write_diff, its diff) as a dataset of Dtype with blob's shape.
/// A 0-axis blob is written as a 1-element 1-D dataset.
template <typename Dtype>
void Hdf5WriteBlob(const Hdf5Handle& loc, const std::string& name, const Blob<Dtype>& blob,
                   bool write_diff = false);

/// A single int, stored as a 1-element 1-D int32 dataset (Caffe's hdf5_save_int layout).
int Hdf5ReadInt(const Hdf5Handle& loc, const std::string& name);
void Hdf5WriteInt(const Hdf5Handle& loc, const std::string& name, int value);
/// A string, stored as a scalar fixed-length string dataset (H5LTmake_dataset_string layout).
std::string Hdf5ReadString(const Hdf5Handle& loc, const std::string& name);
void Hdf5WriteString(const Hdf5Handle& loc, const std::string& name, const std::string& value);

}  // namespace moka
