// A dense row-major matrix of float32 values: the one data layout that every
// module and backend shares (row i, feature j is values[i * cols + j]).
#pragma once

#include <cstddef>
#include <vector>

namespace archetype {

struct Matrix {
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::vector<float> values;  ///< rows * cols values, row-major

  Matrix() = default;
  Matrix(std::size_t r, std::size_t c) : rows(r), cols(c), values(r * c, 0.0f) {}

  float* row(std::size_t i) { return values.data() + i * cols; }
  const float* row(std::size_t i) const { return values.data() + i * cols; }
  float& at(std::size_t i, std::size_t j) { return values[i * cols + j]; }
  float at(std::size_t i, std::size_t j) const { return values[i * cols + j]; }
};

}  // namespace archetype
