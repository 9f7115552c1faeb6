// From the caller's array (DataView, clusterer.hpp) to the one layout the
// engine reads: checked once, used in place when it already is C-contiguous
// float32, else copied once.
#pragma once

#include "archetype/clusterer.hpp"
#include "archetype/matrix.hpp"

namespace archetype {

struct PreparedData {
  Matrix copy;      ///< empty when the caller's values are used in place
  MatrixView view;  ///< the caller's values or `copy`
};

/// InputError for empty data, strides that overflow, a null pointer, or a
/// value that is not finite as float32 (1-based row and column).  The
/// sample weights are checked apart (WeightGrid::of).
PreparedData prepare_data(const DataView& data);

}  // namespace archetype
