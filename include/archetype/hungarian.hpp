// Optimal one-to-one assignment (Hungarian method / Kuhn-Munkres), used to
// match clusters to persona archetypes.
#pragma once

#include <cstddef>
#include <vector>

namespace archetype {

/// cost is rows x cols, row-major.  Returns, for each row, the column it is
/// assigned to, or -1 when there are more rows than columns and the row is
/// left over.  The total cost of the assigned pairs is minimal; ties are
/// broken deterministically (the result depends only on the input).
std::vector<int> solve_assignment(const std::vector<double>& cost, std::size_t rows,
                                  std::size_t cols);

}  // namespace archetype
