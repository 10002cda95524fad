#include "hdf5_io.hpp"

#include <hdf5_hl.h>
#include <unistd.h>

#include <cstdio>

#include <mutex>
#include <type_traits>
#include <utility>

namespace moka {

namespace {

std::recursive_mutex& Hdf5Mutex() {
  static std::recursive_mutex mutex;
  return mutex;
}

// HDF5 prints its own error stack on every failed call; moka reports failures as exceptions
// instead, so the library's printing is switched off once.
void SilenceHdf5Errors() {
  static std::once_flag once;
  std::call_once(once, [] { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); });
}

using Lock = std::lock_guard<std::recursive_mutex>;

std::string Where(const Hdf5Handle& loc, const std::string& name) {
  return "HDF5 file '" + loc.path() + "', dataset '" + name + "'";
}

// H5Lexists fails, rather than answering false, when an intermediate group is missing, so a path
// is checked one component at a time.
bool LinkExists(hid_t loc, const std::string& name) {
  std::string prefix;
  size_t start = 0;
  while (start <= name.size()) {
    const size_t slash = name.find('/', start);
    const size_t end = slash == std::string::npos ? name.size() : slash;
    if (end > start) {
      prefix += (prefix.empty() ? "" : "/") + name.substr(start, end - start);
      if (H5Lexists(loc, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    }
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return !prefix.empty();
}

void RequireDataset(const Hdf5Handle& loc, const std::string& name) {
  MOKA_CHECK(loc.is_open(), IoError, "HDF5: no open file for dataset '" << name << "'");
  MOKA_CHECK(LinkExists(loc.id(), name), IoError, Where(loc, name) << " not found");
}

// Closes an HDF5 object id when the scope ends.
class ScopedId {
 public:
  ScopedId(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~ScopedId() {
    if (id_ >= 0) close_(id_);
  }
  hid_t get() const { return id_; }
  MOKA_DISABLE_COPY(ScopedId);

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

template <typename Dtype>
hid_t NativeType() {
  return std::is_same<Dtype, float>::value ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE;
}

}  // namespace

Hdf5Handle::Hdf5Handle(Hdf5Handle&& other) noexcept
    : id_(other.id_), kind_(other.kind_), path_(std::move(other.path_)) {
  other.id_ = -1;
  other.kind_ = Kind::kNone;
}

Hdf5Handle& Hdf5Handle::operator=(Hdf5Handle&& other) noexcept {
  if (this != &other) {
    Close();
    id_ = other.id_;
    kind_ = other.kind_;
    path_ = std::move(other.path_);
    other.id_ = -1;
    other.kind_ = Kind::kNone;
  }
  return *this;
}

void Hdf5Handle::Close() {
  if (id_ < 0) return;
  Lock lock(Hdf5Mutex());
  if (kind_ == Kind::kFile) H5Fclose(id_);
  if (kind_ == Kind::kGroup) H5Gclose(id_);
  id_ = -1;
  kind_ = Kind::kNone;
}

Hdf5Handle Hdf5OpenFile(const std::string& path) {
  Lock lock(Hdf5Mutex());
  SilenceHdf5Errors();
  MOKA_CHECK(H5Fis_hdf5(path.c_str()) > 0, IoError,
             "cannot open HDF5 file '" << path << "' (missing, unreadable or not HDF5)");
  const hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  MOKA_CHECK(id >= 0, IoError, "cannot open HDF5 file '" << path << "'");
  return Hdf5Handle(id, Hdf5Handle::Kind::kFile, path);
}

Hdf5Handle Hdf5CreateFile(const std::string& path) {
  Lock lock(Hdf5Mutex());
  SilenceHdf5Errors();
  const hid_t id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  MOKA_CHECK(id >= 0, IoError, "cannot create HDF5 file '" << path << "'");
  return Hdf5Handle(id, Hdf5Handle::Kind::kFile, path);
}

void Hdf5WriteFileAtomically(const std::string& path,
                             const std::function<void(const Hdf5Handle& file)>& write) {
  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  try {
    Hdf5Handle file = Hdf5CreateFile(temp);
    write(file);
    file.Close();
  } catch (...) {
    std::remove(temp.c_str());
    throw;
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    std::remove(temp.c_str());
    MOKA_THROW(IoError, "cannot rename '" << temp << "' to '" << path << "'");
  }
}

Hdf5Handle Hdf5OpenGroup(const Hdf5Handle& parent, const std::string& name) {
  Lock lock(Hdf5Mutex());
  SilenceHdf5Errors();
  MOKA_CHECK(parent.is_open() && LinkExists(parent.id(), name), IoError,
             "HDF5 file '" << parent.path() << "': group '" << name << "' not found");
  const hid_t id = H5Gopen2(parent.id(), name.c_str(), H5P_DEFAULT);
  MOKA_CHECK(id >= 0, IoError,
             "HDF5 file '" << parent.path() << "': '" << name << "' is not a group");
  return Hdf5Handle(id, Hdf5Handle::Kind::kGroup, parent.path());
}

Hdf5Handle Hdf5CreateGroup(const Hdf5Handle& parent, const std::string& name) {
  Lock lock(Hdf5Mutex());
  SilenceHdf5Errors();
  MOKA_CHECK(parent.is_open(), IoError, "HDF5: no open file for group '" << name << "'");
  if (LinkExists(parent.id(), name)) return Hdf5OpenGroup(parent, name);
  // Layer names may hold '/', which HDF5 reads as a path: create the groups along it.
  ScopedId link_properties(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(link_properties.get(), 1);
  const hid_t id =
      H5Gcreate2(parent.id(), name.c_str(), link_properties.get(), H5P_DEFAULT, H5P_DEFAULT);
  MOKA_CHECK(id >= 0, IoError,
             "HDF5 file '" << parent.path() << "': cannot create group '" << name << "'");
  return Hdf5Handle(id, Hdf5Handle::Kind::kGroup, parent.path());
}

bool Hdf5HasLink(const Hdf5Handle& loc, const std::string& name) {
  Lock lock(Hdf5Mutex());
  SilenceHdf5Errors();
  return loc.is_open() && LinkExists(loc.id(), name);
}

std::vector<std::string> Hdf5ChildNames(const Hdf5Handle& loc) {
  Lock lock(Hdf5Mutex());
  SilenceHdf5Errors();
  MOKA_CHECK(loc.is_open(), IoError, "HDF5: listing a group of no open file");
  H5G_info_t info;
  MOKA_CHECK(H5Gget_info(loc.id(), &info) >= 0, IoError,
             "HDF5 file '" << loc.path() << "': cannot list a group");
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t size = H5Lget_name_by_idx(loc.id(), ".", H5_INDEX_NAME, H5_ITER_INC, i,
                                            nullptr, 0, H5P_DEFAULT);
    MOKA_CHECK(size >= 0, IoError, "HDF5 file '" << loc.path() << "': cannot read a link name");
    std::string name(static_cast<size_t>(size) + 1, '\0');
    H5Lget_name_by_idx(loc.id(), ".", H5_INDEX_NAME, H5_ITER_INC, i, &name[0], name.size(),
                       H5P_DEFAULT);
    name.resize(static_cast<size_t>(size));
    names.push_back(name);
  }
  return names;
}

std::vector<int> Hdf5DatasetShape(const Hdf5Handle& loc, const std::string& name) {
  Lock lock(Hdf5Mutex());
  SilenceHdf5Errors();
  RequireDataset(loc, name);
  ScopedId dataset(H5Dopen2(loc.id(), name.c_str(), H5P_DEFAULT), H5Dclose);
  MOKA_CHECK(dataset.get() >= 0, IoError, Where(loc, name) << " is not a dataset");
  ScopedId space(H5Dget_space(dataset.get()), H5Sclose);
  const int ndims = H5Sget_simple_extent_ndims(space.get());
  MOKA_CHECK(ndims >= 0, IoError, Where(loc, name) << ": cannot read its dimensions");
  std::vector<hsize_t> dims(static_cast<size_t>(ndims));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  std::vector<int> shape;
  for (hsize_t dim : dims) {
    MOKA_CHECK(dim <= static_cast<hsize_t>(INT_MAX), ShapeError,
               Where(loc, name) << ": dimension " << dim << " is too large");
    shape.push_back(static_cast<int>(dim));
  }
  return shape;
}

template <typename Dtype>
void Hdf5ReadBlob(const Hdf5Handle& loc, const std::string& name, Blob<Dtype>* blob,
                  bool reshape, int min_dim, int max_dim) {
  Lock lock(Hdf5Mutex());
  const std::vector<int> shape = Hdf5DatasetShape(loc, name);
  ScopedId dataset(H5Dopen2(loc.id(), name.c_str(), H5P_DEFAULT), H5Dclose);
  ScopedId type(H5Dget_type(dataset.get()), H5Tclose);
  const H5T_class_t type_class = H5Tget_class(type.get());
  MOKA_CHECK(type_class == H5T_FLOAT || type_class == H5T_INTEGER, IoError,
             Where(loc, name) << " holds neither floating-point nor integer values");
  const int ndims = static_cast<int>(shape.size());
  MOKA_CHECK(ndims >= min_dim && ndims <= max_dim, ShapeError,
             Where(loc, name) << " has " << ndims << " axes; expected between " << min_dim
                              << " and " << max_dim);
  if (reshape) {
    blob->Reshape(shape);
  } else {
    MOKA_CHECK(shape == blob->shape(), ShapeError,
               Where(loc, name) << " has shape " << ShapeString(shape) << ", expected "
                                << blob->shape_string());
  }
  if (blob->count() == 0) return;
  MOKA_CHECK(H5Dread(dataset.get(), NativeType<Dtype>(), H5S_ALL, H5S_ALL, H5P_DEFAULT,
                     blob->mutable_cpu_data()) >= 0,
             IoError, Where(loc, name) << ": read failed");
}

template <typename Dtype>
void Hdf5WriteBlob(const Hdf5Handle& loc, const std::string& name, const Blob<Dtype>& blob,
                   bool write_diff) {
  Lock lock(Hdf5Mutex());
  SilenceHdf5Errors();
  MOKA_CHECK(loc.is_open(), IoError, "HDF5: no open file for dataset '" << name << "'");
  std::vector<hsize_t> dims(blob.shape().begin(), blob.shape().end());
  if (dims.empty()) dims.push_back(1);
  const Dtype* values = write_diff ? blob.cpu_diff() : blob.cpu_data();
  MOKA_CHECK(H5LTmake_dataset(loc.id(), name.c_str(), static_cast<int>(dims.size()), dims.data(),
                              NativeType<Dtype>(), values) >= 0,
             IoError, Where(loc, name) << ": write failed (does it exist already?)");
}

int Hdf5ReadInt(const Hdf5Handle& loc, const std::string& name) {
  Lock lock(Hdf5Mutex());
  SilenceHdf5Errors();
  RequireDataset(loc, name);
  ScopedId dataset(H5Dopen2(loc.id(), name.c_str(), H5P_DEFAULT), H5Dclose);
  ScopedId space(H5Dget_space(dataset.get()), H5Sclose);
  MOKA_CHECK(H5Sget_simple_extent_npoints(space.get()) == 1, ShapeError,
             Where(loc, name) << " should hold one integer");
  int value = 0;
  MOKA_CHECK(H5Dread(dataset.get(), H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, &value) >= 0,
             IoError, Where(loc, name) << ": cannot read it as an integer");
  return value;
}

void Hdf5WriteInt(const Hdf5Handle& loc, const std::string& name, int value) {
  Lock lock(Hdf5Mutex());
  SilenceHdf5Errors();
  MOKA_CHECK(loc.is_open(), IoError, "HDF5: no open file for dataset '" << name << "'");
  const hsize_t one = 1;
  MOKA_CHECK(H5LTmake_dataset_int(loc.id(), name.c_str(), 1, &one, &value) >= 0, IoError,
             Where(loc, name) << ": write failed");
}

std::string Hdf5ReadString(const Hdf5Handle& loc, const std::string& name) {
  Lock lock(Hdf5Mutex());
  SilenceHdf5Errors();
  RequireDataset(loc, name);
  ScopedId dataset(H5Dopen2(loc.id(), name.c_str(), H5P_DEFAULT), H5Dclose);
  ScopedId type(H5Dget_type(dataset.get()), H5Tclose);
  MOKA_CHECK(H5Tget_class(type.get()) == H5T_STRING, IoError,
             Where(loc, name) << " does not hold a string");
  ScopedId space(H5Dget_space(dataset.get()), H5Sclose);
  MOKA_CHECK(H5Sget_simple_extent_npoints(space.get()) == 1, ShapeError,
             Where(loc, name) << " should hold one string");
  if (H5Tis_variable_str(type.get()) > 0) {
    // Written by h5py and other tools that prefer variable-length strings.
    // h5py writes UTF-8 strings; HDF5 converts between character sets only when they agree.
    ScopedId memtype(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(memtype.get(), H5T_VARIABLE);
    H5Tset_cset(memtype.get(), H5Tget_cset(type.get()));
    char* text = nullptr;
    MOKA_CHECK(H5Dread(dataset.get(), memtype.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &text) >= 0,
               IoError, Where(loc, name) << ": read failed");
    std::string value = text != nullptr ? text : "";
    H5free_memory(text);
    return value;
  }
  const size_t size = H5Tget_size(type.get());
  ScopedId memtype(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(memtype.get(), size + 1);
  H5Tset_cset(memtype.get(), H5Tget_cset(type.get()));
  std::string buffer(size + 1, '\0');
  MOKA_CHECK(H5Dread(dataset.get(), memtype.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &buffer[0]) >= 0,
             IoError, Where(loc, name) << ": read failed");
  return std::string(buffer.c_str());
}

void Hdf5WriteString(const Hdf5Handle& loc, const std::string& name, const std::string& value) {
  Lock lock(Hdf5Mutex());
  SilenceHdf5Errors();
  MOKA_CHECK(loc.is_open(), IoError, "HDF5: no open file for dataset '" << name << "'");
  MOKA_CHECK(H5LTmake_dataset_string(loc.id(), name.c_str(), value.c_str()) >= 0, IoError,
             Where(loc, name) << ": write failed");
}

template void Hdf5ReadBlob<float>(const Hdf5Handle&, const std::string&, Blob<float>*, bool, int,
                                  int);
template void Hdf5ReadBlob<double>(const Hdf5Handle&, const std::string&, Blob<double>*, bool, int,
                                   int);
template void Hdf5WriteBlob<float>(const Hdf5Handle&, const std::string&, const Blob<float>&, bool);
template void Hdf5WriteBlob<double>(const Hdf5Handle&, const std::string&, const Blob<double>&,
                                    bool);

}  // namespace moka
