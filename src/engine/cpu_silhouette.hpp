// Exact silhouette on the CPU in the canonical order (docs/ARCHITECTURE.md):
// for every row i and cluster c, the rows of c in increasing row order are
// cut into chunks of kSilhouetteChunk; each chunk's distances are summed in
// float (sqrtf of squared_distance), and the chunk sums are added to a
// double in chunk order.  The CUDA kernel follows the same order.
#pragma once

#include <cstdint>

#include "archetype/matrix.hpp"

namespace archetype {

/// out[i] = s(i) for every row of Y; O(n^2 d) time, O(n d + n k) memory.
void cpu_silhouette(MatrixView Y, const std::int32_t* labels, int k, int threads, double* out);

}  // namespace archetype
