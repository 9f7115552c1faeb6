// NumPy .npy files (format versions 1.0, 2.0 and 3.0): reading a float
// matrix, writing float32 matrices and int32 label vectors.
//
// Reading accepts little-endian float32 or float64 ('<f4', '<f8') in C order
// with shape (n,) (read as n x 1) or (n, d).  float64 values are converted
// to float32; a NaN, an infinity or a value outside the float32 range is an
// error, in either dtype.  Every error is an InputError whose message starts
// with the file name ("FILE: ..."); value errors say "FILE: row R, column C:
// ..." with 0-based R and C, as numpy indexes the array.
//
// Writing produces version 1.0 files as numpy.save does (header padded with
// spaces to a multiple of 64 bytes, ending in '\n'), written under a
// temporary name and renamed into place, so a failure never leaves a
// half-written file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "archetype/matrix.hpp"

namespace archetype {

/// Reads a 1-D or 2-D float32/float64 .npy file into a float32 matrix.
Matrix read_npy(const std::string& path);

/// The matrix's shape (rows, columns; (n,) reads as n x 1), with every
/// check of read_npy but the values'; nothing else is read.
struct NpyShape {
  std::size_t rows = 0, cols = 0;
};
NpyShape read_npy_shape(const std::string& path);

/// Rows [begin, end) only (one process's share of a job): the same checks
/// as read_npy, value errors naming the row among all rows.
Matrix read_npy_rows(const std::string& path, std::size_t begin, std::size_t end);

/// Writes `m` as a 2-D float32 array (shape (rows, cols), C order).
void write_npy(const std::string& path, const Matrix& m);

/// Writes `labels` as a 1-D int32 array ('<i4').
void write_npy_labels(const std::string& path, const std::vector<std::int32_t>& labels);

/// The bytes write_npy / write_npy_labels would write (for staged outputs).
std::string npy_bytes(const Matrix& m);
std::string npy_bytes(const std::vector<std::int32_t>& labels);

/// A version 1.0 header (magic, version, length, padded dict) for a C-order
/// array of dtype `descr` (e.g. "<f4") and the given shape (1 or more
/// dimensions); the data follow it directly.  For writers that stream data.
std::string npy_header(const std::string& descr, const std::vector<std::size_t>& shape);

}  // namespace archetype
