#include "engine/data_view.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <sstream>
#include <string>

#include "archetype/error.hpp"

namespace archetype {
namespace {

std::size_t magnitude(std::ptrdiff_t s) {
  return s < 0 ? static_cast<std::size_t>(-(s + 1)) + 1 : static_cast<std::size_t>(s);
}

/// The largest element offset must be a ptrdiff_t, so every address the
/// strides describe can be computed without overflow.
void check_extent(const DataView& v) {
  constexpr std::size_t kMax = static_cast<std::size_t>(std::numeric_limits<std::ptrdiff_t>::max());
  const std::size_t r = magnitude(v.row_stride), c = magnitude(v.col_stride);
  const std::size_t rows = v.rows - 1, cols = v.cols - 1;
  if ((r != 0 && rows > kMax / r) || (c != 0 && cols > kMax / c) || rows * r > kMax - cols * c)
    throw InputError("the data's strides address elements beyond the addressable range");
  if (v.rows > std::numeric_limits<std::size_t>::max() / sizeof(double) / v.cols)
    throw InputError("the data have too many values (" + std::to_string(v.rows) + " x " + std::to_string(v.cols) + ")");
}

/// i: the row among all rows (prepare_data's row_offset included).
[[noreturn]] void bad_value(std::size_t i, std::size_t j, double v, const char* why) {
  std::ostringstream m;
  m << "row " << i + 1 << ", column " << j + 1 << ": the value " << v << ' ' << why;
  throw InputError(m.str());
}

/// The value at (i, j) rounded once to float32, checked.  memcpy: the
/// caller's array need not be aligned.
float read_value(const DataView& v, std::size_t i, std::size_t j, std::size_t row_offset) {
  const std::ptrdiff_t at = static_cast<std::ptrdiff_t>(i) * v.row_stride + static_cast<std::ptrdiff_t>(j) * v.col_stride;
  double x = 0.0;
  if (v.dtype == DataView::DType::Float64) {
    std::memcpy(&x, static_cast<const double*>(v.data) + at, sizeof x);
  } else {
    float f = 0.0f;
    std::memcpy(&f, static_cast<const float*>(v.data) + at, sizeof f);
    x = f;
  }
  if (!std::isfinite(x)) bad_value(row_offset + i, j, x, "is not finite");
  const float f = static_cast<float>(x);
  if (!std::isfinite(f)) bad_value(row_offset + i, j, x, "is beyond the float32 range");
  return f;
}

bool in_place(const DataView& v) {
  return v.dtype == DataView::DType::Float32 &&
         reinterpret_cast<std::uintptr_t>(v.data) % alignof(float) == 0 &&
         (v.cols == 1 || v.col_stride == 1) &&
         (v.rows == 1 || v.row_stride == static_cast<std::ptrdiff_t>(v.cols));
}

}  // namespace

PreparedData prepare_data(const DataView& v, std::size_t row_offset, bool share) {
  if (share && v.rows == 0 && v.cols > 0) {
    PreparedData out;
    out.view = MatrixView(nullptr, 0, v.cols);
    return out;
  }
  if (v.rows == 0 || v.cols == 0)
    throw InputError("the data are empty (" + std::to_string(v.rows) + " rows, " + std::to_string(v.cols) +
                     " columns): at least 1 x 1 is needed");
  if (!v.data) throw InputError("the data pointer is null");
  check_extent(v);
  PreparedData out;
  if (in_place(v)) {
    const float* x = static_cast<const float*>(v.data);
    for (std::size_t i = 0; i < v.rows; ++i)
      for (std::size_t j = 0; j < v.cols; ++j)
        if (!std::isfinite(x[i * v.cols + j])) bad_value(row_offset + i, j, x[i * v.cols + j], "is not finite");
    out.view = MatrixView(x, v.rows, v.cols);
    return out;
  }
  out.copy = Matrix(v.rows, v.cols);
  for (std::size_t i = 0; i < v.rows; ++i)
    for (std::size_t j = 0; j < v.cols; ++j) out.copy.at(i, j) = read_value(v, i, j, row_offset);
  out.view = out.copy;
  return out;
}

}  // namespace archetype
