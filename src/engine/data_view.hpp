// From the caller's array (DataView, clusterer.hpp) to the one layout the
// engine reads: checked once, used in place when it already is C-contiguous
// float32, else copied once.
#pragma once

#include <cstddef>

#include "archetype/clusterer.hpp"
#include "archetype/matrix.hpp"

namespace archetype {

struct PreparedData {
  Matrix copy;      ///< empty when the caller's values are used in place
  MatrixView view;  ///< the caller's values or `copy`
};

/// InputError for empty data, strides that overflow, a null pointer, or a
/// value that is not finite as float32 (1-based row and column, counted
/// from row_offset + 1: a process's share of a split job names the row
/// among all rows).  `share`: no rows is fine (another process has them).
/// The sample weights are checked apart (WeightGrid::of).
PreparedData prepare_data(const DataView& data, std::size_t row_offset = 0, bool share = false);

}  // namespace archetype
