// Comparing two labelings of the same rows.
#pragma once

#include <cstddef>
#include <cstdint>

namespace archetype {

/// Adjusted Rand index of two labelings (as sklearn.metrics.adjusted_rand_score).
/// Labels must lie in [0, ka) and [0, kb).  Returns 1.0 for identical
/// partitions, including the degenerate cases sklearn special-cases.
double adjusted_rand_index(const std::int32_t* a, const std::int32_t* b, std::size_t n, int ka,
                           int kb);

}  // namespace archetype
