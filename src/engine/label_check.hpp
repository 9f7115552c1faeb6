// The one check of labels passed in by a caller (silhouette, dispersion).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "archetype/error.hpp"

namespace archetype {

/// One label per row, each in [0, k): InputError naming the first bad row
/// (1-based, counted from row_offset + 1: a process's share of a split job).
inline void check_labels(const std::vector<std::int32_t>& labels, std::size_t rows, int k, std::size_t row_offset = 0) {
  if (k < 1) throw InputError("k = " + std::to_string(k) + " must be at least 1");
  if (labels.size() != rows)
    throw InputError(std::to_string(labels.size()) + " labels for " + std::to_string(rows) + " rows");
  for (std::size_t i = 0; i < rows; ++i)
    if (labels[i] < 0 || labels[i] >= k)
      throw InputError("label " + std::to_string(labels[i]) + " of row " + std::to_string(row_offset + i + 1) +
                       " is outside [0, " + std::to_string(k) + ")");
}

}  // namespace archetype
