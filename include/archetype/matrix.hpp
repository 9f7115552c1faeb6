// A dense row-major matrix of float32 values: the one data layout that every
// module and backend shares (row i, feature j is values[i * cols + j]).
// Matrix owns its values; MatrixView only points at someone else's (a
// Matrix, a NumPy array, a memory-mapped file), so the engine reads data it
// does not own without a copy.
#pragma once

#include <cstddef>
#include <vector>

namespace archetype {

struct Matrix {
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::vector<float> values;  ///< rows * cols values, row-major

  Matrix() = default;
  /// r x c zeros (a large matrix on huge pages where the OS offers them).
  Matrix(std::size_t r, std::size_t c);

  float* row(std::size_t i) { return values.data() + i * cols; }
  const float* row(std::size_t i) const { return values.data() + i * cols; }
  float& at(std::size_t i, std::size_t j) { return values[i * cols + j]; }
  float at(std::size_t i, std::size_t j) const { return values[i * cols + j]; }
};

/// Non-owning, read-only, C-contiguous rows x cols float32 values.  Passed
/// by value (three words).  The values must outlive every use of the view:
/// a view of a temporary Matrix is valid only until the end of the call it
/// was made for, so never bind a backend to one.
struct MatrixView {
  const float* values = nullptr;  ///< rows * cols values, row-major
  std::size_t rows = 0;
  std::size_t cols = 0;

  MatrixView() = default;
  MatrixView(const float* v, std::size_t r, std::size_t c) : values(v), rows(r), cols(c) {}
  /// Implicit: every function taking a view takes a Matrix as before.
  MatrixView(const Matrix& m) : values(m.values.data()), rows(m.rows), cols(m.cols) {}  // NOLINT

  const float* row(std::size_t i) const { return values + i * cols; }
  float at(std::size_t i, std::size_t j) const { return values[i * cols + j]; }
};

}  // namespace archetype
