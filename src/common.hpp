#pragma once
// Definitions every part of moka shares.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "error.hpp"

namespace moka {

/// Largest number of axes a blob may have (as in Caffe).
constexpr int kMaxBlobAxes = 32;

#define MOKA_DISABLE_COPY(Class) \
  Class(const Class&) = delete;  \
  Class& operator=(const Class&) = delete

/// Explicit instantiation for the element types moka supports on every device.
#define MOKA_INSTANTIATE_CLASS(Class) \
  template class Class<float>;        \
  template class Class<double>

/// Text of a shape, "2 3 4 5 (120)", as Caffe prints it.
std::string ShapeString(const std::vector<int>& shape);

}  // namespace moka
