#include "blob.hpp"

#include <algorithm>
#include <climits>
#include <sstream>

#include "math_functions.hpp"
#ifdef MOKA_CUDA
#include "math_functions_gpu.hpp"
#endif

namespace moka {

std::string ShapeString(const std::vector<int>& shape) {
  std::ostringstream out;
  long long count = 1;
  for (int dim : shape) {
    out << dim << " ";
    count *= dim;
  }
  out << "(" << count << ")";
  return out.str();
}

template <typename Dtype>
void Blob<Dtype>::Reshape(const std::vector<int>& shape) {
  MOKA_CHECK(shape.size() <= static_cast<size_t>(kMaxBlobAxes), ShapeError,
             "blob shape " << ShapeString(shape) << " has more than " << kMaxBlobAxes << " axes");
  long long count = 1;
  for (int dim : shape) {
    MOKA_CHECK(dim >= 0, ShapeError, "negative dimension in blob shape " << ShapeString(shape));
    count *= dim;
    MOKA_CHECK(count <= INT_MAX, ShapeError,
               "blob shape " << ShapeString(shape) << " exceeds " << INT_MAX << " elements");
  }
  shape_ = shape;
  count_ = static_cast<int>(count);
  if (static_cast<size_t>(count_) > capacity_ || !data_) {
    capacity_ = count_;
    data_ = std::make_shared<SyncedMemory>(capacity_ * sizeof(Dtype));
    diff_ = std::make_shared<SyncedMemory>(capacity_ * sizeof(Dtype));
  }
}

template <typename Dtype>
void Blob<Dtype>::Reshape(const BlobShape& shape) {
  std::vector<int> dims(shape.dim_size());
  for (int i = 0; i < shape.dim_size(); ++i) {
    MOKA_CHECK(shape.dim(i) <= INT_MAX, ShapeError, "blob dimension " << shape.dim(i) << " too large");
    dims[i] = static_cast<int>(shape.dim(i));
  }
  Reshape(dims);
}

template <typename Dtype>
int Blob<Dtype>::count(int start_axis, int end_axis) const {
  MOKA_ASSERT(start_axis >= 0 && start_axis <= end_axis && end_axis <= num_axes());
  int result = 1;
  for (int i = start_axis; i < end_axis; ++i) result *= shape_[i];
  return result;
}

template <typename Dtype>
int Blob<Dtype>::CanonicalAxisIndex(int axis) const {
  const int n = num_axes();
  MOKA_CHECK(axis >= -n && axis < n, ShapeError,
             "axis " << axis << " out of range for a blob of shape " << shape_string());
  return axis < 0 ? axis + n : axis;
}

template <typename Dtype>
int Blob<Dtype>::LegacyShape(int index) const {
  MOKA_CHECK(num_axes() <= 4, ShapeError,
             "4-D accessor used on blob of shape " << shape_string());
  if (index >= num_axes() || index < -num_axes()) return 1;
  return shape(index);
}

template <typename Dtype>
int Blob<Dtype>::offset(int n, int c, int h, int w) const {
  return ((n * channels() + c) * height() + h) * width() + w;
}

template <typename Dtype>
int Blob<Dtype>::offset(const std::vector<int>& indices) const {
  MOKA_ASSERT(static_cast<int>(indices.size()) <= num_axes());
  int result = 0;
  for (int i = 0; i < num_axes(); ++i) {
    result *= shape_[i];
    if (i < static_cast<int>(indices.size())) result += indices[i];
  }
  return result;
}

template <typename Dtype>
const Dtype* Blob<Dtype>::cpu_data() const {
  MOKA_ASSERT(data_);
  return static_cast<const Dtype*>(data_->cpu_data());
}
template <typename Dtype>
const Dtype* Blob<Dtype>::cpu_diff() const {
  MOKA_ASSERT(diff_);
  return static_cast<const Dtype*>(diff_->cpu_data());
}
template <typename Dtype>
Dtype* Blob<Dtype>::mutable_cpu_data() {
  MOKA_ASSERT(data_);
  return static_cast<Dtype*>(data_->mutable_cpu_data());
}
template <typename Dtype>
Dtype* Blob<Dtype>::mutable_cpu_diff() {
  MOKA_ASSERT(diff_);
  return static_cast<Dtype*>(diff_->mutable_cpu_data());
}
template <typename Dtype>
const Dtype* Blob<Dtype>::gpu_data() const {
  MOKA_ASSERT(data_);
  return static_cast<const Dtype*>(data_->gpu_data());
}
template <typename Dtype>
const Dtype* Blob<Dtype>::gpu_diff() const {
  MOKA_ASSERT(diff_);
  return static_cast<const Dtype*>(diff_->gpu_data());
}
template <typename Dtype>
Dtype* Blob<Dtype>::mutable_gpu_data() {
  MOKA_ASSERT(data_);
  return static_cast<Dtype*>(data_->mutable_gpu_data());
}
template <typename Dtype>
Dtype* Blob<Dtype>::mutable_gpu_diff() {
  MOKA_ASSERT(diff_);
  return static_cast<Dtype*>(diff_->mutable_gpu_data());
}

namespace {

// Where the newer copy of a buffer lives decides where Blob's own arithmetic runs, as in Caffe: a
// buffer last written on the device (or synced from it) is worked on there, so a GPU net's
// parameter update and diff clearing never move the parameters to the host.
bool OnDevice(const SyncedMemory& memory) {
#ifdef MOKA_CUDA
  return memory.head() == SyncedMemory::Head::kAtGpu || memory.head() == SyncedMemory::Head::kSynced;
#else
  (void)memory;
  return false;
#endif
}

}  // namespace

template <typename Dtype>
bool Blob<Dtype>::on_gpu_side() const {
  return data_ && OnDevice(*data_);
}

template <typename Dtype>
void Blob<Dtype>::Update() {
  if (count_ == 0) return;
#ifdef MOKA_CUDA
  if (on_gpu_side()) {
    gpu_axpy<Dtype>(count_, Dtype(-1), gpu_diff(), mutable_gpu_data());
    return;
  }
#endif
  cpu_axpy<Dtype>(count_, Dtype(-1), cpu_diff(), mutable_cpu_data());
}

#ifdef MOKA_CUDA
#define MOKA_BLOB_DISPATCH(memory, gpu_expr, cpu_expr) \
  (OnDevice(*(memory)) ? (gpu_expr) : (cpu_expr))
#else
#define MOKA_BLOB_DISPATCH(memory, gpu_expr, cpu_expr) (cpu_expr)
#endif

template <typename Dtype>
Dtype Blob<Dtype>::asum_data() const {
  if (count_ == 0) return Dtype(0);
  return MOKA_BLOB_DISPATCH(data_, gpu_asum(count_, gpu_data()), cpu_asum(count_, cpu_data()));
}
template <typename Dtype>
Dtype Blob<Dtype>::asum_diff() const {
  if (count_ == 0) return Dtype(0);
  return MOKA_BLOB_DISPATCH(diff_, gpu_asum(count_, gpu_diff()), cpu_asum(count_, cpu_diff()));
}
template <typename Dtype>
Dtype Blob<Dtype>::sumsq_data() const {
  if (count_ == 0) return Dtype(0);
  return MOKA_BLOB_DISPATCH(data_, gpu_dot(count_, gpu_data(), gpu_data()),
                            cpu_dot(count_, cpu_data(), cpu_data()));
}
template <typename Dtype>
Dtype Blob<Dtype>::sumsq_diff() const {
  if (count_ == 0) return Dtype(0);
  return MOKA_BLOB_DISPATCH(diff_, gpu_dot(count_, gpu_diff(), gpu_diff()),
                            cpu_dot(count_, cpu_diff(), cpu_diff()));
}
template <typename Dtype>
void Blob<Dtype>::scale_data(Dtype factor) {
  if (count_ == 0) return;
  MOKA_BLOB_DISPATCH(data_, gpu_scal(count_, factor, mutable_gpu_data()),
                     cpu_scal(count_, factor, mutable_cpu_data()));
}
template <typename Dtype>
void Blob<Dtype>::scale_diff(Dtype factor) {
  if (count_ == 0) return;
  MOKA_BLOB_DISPATCH(diff_, gpu_scal(count_, factor, mutable_gpu_diff()),
                     cpu_scal(count_, factor, mutable_cpu_diff()));
}
template <typename Dtype>
void Blob<Dtype>::set_data(Dtype value) {
  if (count_ == 0) return;
  MOKA_BLOB_DISPATCH(data_, gpu_set(count_, value, mutable_gpu_data()),
                     cpu_set(count_, value, mutable_cpu_data()));
}
template <typename Dtype>
void Blob<Dtype>::set_diff(Dtype value) {
  if (count_ == 0) return;
  MOKA_BLOB_DISPATCH(diff_, gpu_set(count_, value, mutable_gpu_diff()),
                     cpu_set(count_, value, mutable_cpu_diff()));
}

#undef MOKA_BLOB_DISPATCH

template <typename Dtype>
void Blob<Dtype>::ShareData(const Blob& other) {
  MOKA_CHECK(count_ == other.count(), ShapeError,
             "cannot share data of a blob of shape " << other.shape_string()
                                                     << " with one of shape " << shape_string());
  data_ = other.data();
}

template <typename Dtype>
void Blob<Dtype>::SetDataMemory(std::shared_ptr<SyncedMemory> memory) {
  const size_t elements = memory->size() / sizeof(Dtype);
  MOKA_ASSERT(elements >= static_cast<size_t>(count_));
  data_ = std::move(memory);
  // A later Reshape beyond what the shared memory holds must allocate afresh.
  capacity_ = std::min(capacity_, elements);
}

template <typename Dtype>
void Blob<Dtype>::ShareDiff(const Blob& other) {
  MOKA_CHECK(count_ == other.count(), ShapeError,
             "cannot share diff of a blob of shape " << other.shape_string()
                                                     << " with one of shape " << shape_string());
  diff_ = other.diff();
}

template <typename Dtype>
void Blob<Dtype>::CopyFrom(const Blob& source, bool copy_diff, bool reshape) {
  if (source.count() != count_ || source.shape() != shape_) {
    MOKA_CHECK(reshape, ShapeError,
               "cannot copy a blob of shape " << source.shape_string() << " into one of shape "
                                              << shape_string());
    ReshapeLike(source);
  }
#ifdef MOKA_CUDA
  if (OnDevice(copy_diff ? *source.diff() : *source.data())) {
    if (copy_diff) {
      gpu_copy(count_, source.gpu_diff(), mutable_gpu_diff());
    } else {
      gpu_copy(count_, source.gpu_data(), mutable_gpu_data());
    }
    return;
  }
#endif
  if (copy_diff) {
    cpu_copy(count_, source.cpu_diff(), mutable_cpu_diff());
  } else {
    cpu_copy(count_, source.cpu_data(), mutable_cpu_data());
  }
}

std::vector<int> BlobProtoShape(const BlobProto& proto) {
  std::vector<int> shape;
  if (proto.has_shape()) {
    for (int i = 0; i < proto.shape().dim_size(); ++i) shape.push_back(static_cast<int>(proto.shape().dim(i)));
  } else if (proto.has_num() || proto.has_channels() || proto.has_height() || proto.has_width()) {
    shape = {proto.num(), proto.channels(), proto.height(), proto.width()};
  } else {
    // A proto with neither form holds a flat vector (as some old mean files do).
    int n = proto.data_size() > 0 ? proto.data_size() : proto.double_data_size();
    shape = {n};
  }
  return shape;
}

template <typename Dtype>
bool Blob<Dtype>::ShapeEquals(const BlobProto& proto) const {
  if (proto.has_num() || proto.has_channels() || proto.has_height() || proto.has_width()) {
    // Legacy 4-D shapes are compared against this blob's trailing axes, with leading 1s.
    if (num_axes() > 4) return false;
    const int legacy[4] = {proto.num(), proto.channels(), proto.height(), proto.width()};
    for (int i = 0; i < 4; ++i) {
      const int axis = num_axes() - 4 + i;
      const int mine = axis >= 0 ? shape_[axis] : 1;
      if (mine != legacy[i]) return false;
    }
    return true;
  }
  return BlobProtoShape(proto) == shape_;
}

template <typename Dtype>
void Blob<Dtype>::FromProto(const BlobProto& proto, bool reshape) {
  if (reshape) {
    Reshape(BlobProtoShape(proto));
  } else {
    MOKA_CHECK(ShapeEquals(proto), ShapeError,
               "blob shape " << ShapeString(BlobProtoShape(proto)) << " does not match expected "
                             << shape_string());
  }
  Dtype* data = mutable_cpu_data();
  if (proto.double_data_size() > 0) {
    MOKA_CHECK(proto.double_data_size() == count_, ShapeError,
               "blob holds " << proto.double_data_size() << " values, shape needs " << count_);
    for (int i = 0; i < count_; ++i) data[i] = static_cast<Dtype>(proto.double_data(i));
  } else if (proto.data_size() > 0 || count_ == 0) {
    MOKA_CHECK(proto.data_size() == count_, ShapeError,
               "blob holds " << proto.data_size() << " values, shape needs " << count_);
    for (int i = 0; i < count_; ++i) data[i] = static_cast<Dtype>(proto.data(i));
  } else if (proto.has_raw_data()) {
    const std::string& raw = proto.raw_data();
    if (proto.raw_data_type() == BlobProto::FLOAT) {
      MOKA_CHECK(raw.size() == count_ * sizeof(float), ShapeError,
                 "raw blob holds " << raw.size() << " bytes, shape needs " << count_ * 4);
      const float* values = reinterpret_cast<const float*>(raw.data());
      for (int i = 0; i < count_; ++i) data[i] = static_cast<Dtype>(values[i]);
    } else if (proto.raw_data_type() == BlobProto::DOUBLE) {
      MOKA_CHECK(raw.size() == count_ * sizeof(double), ShapeError,
                 "raw blob holds " << raw.size() << " bytes, shape needs " << count_ * 8);
      const double* values = reinterpret_cast<const double*>(raw.data());
      for (int i = 0; i < count_; ++i) data[i] = static_cast<Dtype>(values[i]);
    } else {
      MOKA_THROW(ParseError, "unsupported raw_data_type " << proto.raw_data_type() << " in blob");
    }
  } else {
    MOKA_THROW(ShapeError, "blob proto of shape " << shape_string() << " holds no data");
  }
  if (proto.double_diff_size() > 0) {
    MOKA_CHECK(proto.double_diff_size() == count_, ShapeError, "blob diff size mismatch");
    Dtype* diff = mutable_cpu_diff();
    for (int i = 0; i < count_; ++i) diff[i] = static_cast<Dtype>(proto.double_diff(i));
  } else if (proto.diff_size() > 0) {
    MOKA_CHECK(proto.diff_size() == count_, ShapeError, "blob diff size mismatch");
    Dtype* diff = mutable_cpu_diff();
    for (int i = 0; i < count_; ++i) diff[i] = static_cast<Dtype>(proto.diff(i));
  }
}

// Caffe writes float blobs to `data` and double blobs to `double_data`; so do we.
template <>
void Blob<float>::ToProto(BlobProto* proto, bool write_diff) const {
  proto->Clear();
  for (int dim : shape_) proto->mutable_shape()->add_dim(dim);
  const float* data = cpu_data();
  proto->mutable_data()->Reserve(count_);
  for (int i = 0; i < count_; ++i) proto->add_data(data[i]);
  if (write_diff) {
    const float* diff = cpu_diff();
    for (int i = 0; i < count_; ++i) proto->add_diff(diff[i]);
  }
}

template <>
void Blob<double>::ToProto(BlobProto* proto, bool write_diff) const {
  proto->Clear();
  for (int dim : shape_) proto->mutable_shape()->add_dim(dim);
  const double* data = cpu_data();
  for (int i = 0; i < count_; ++i) proto->add_double_data(data[i]);
  if (write_diff) {
    const double* diff = cpu_diff();
    for (int i = 0; i < count_; ++i) proto->add_double_diff(diff[i]);
  }
}

MOKA_INSTANTIATE_CLASS(Blob);

}  // namespace moka
