// Exact silhouette on the CPU in the canonical order (docs/ARCHITECTURE.md):
// for every row i and cluster c, the rows of c in increasing row order are
// cut into chunks of kSilhouetteChunk; each chunk's distances are summed in
// float (sqrtf of squared_distance), and the chunk sums are added to a
// double in chunk order.  The CUDA kernel follows the same order.
#pragma once

#include <cstddef>
#include <cstdint>

#include "archetype/matrix.hpp"

namespace archetype {

/// out[i] = s(i) for every row of Y; O(n^2 d) time, O(n d + n k) memory.
/// With first/count: only rows first .. first + count - 1 (out[i - first]),
/// each still against every row of Y in the same order, so the values are
/// those of the whole call (a process of a distributed job scores its own).
void cpu_silhouette(MatrixView Y, const std::int32_t* labels, int k, int threads, double* out,
                    std::size_t first = 0, std::size_t count = static_cast<std::size_t>(-1));

}  // namespace archetype
