// Knee detection on a curve (Satopaa et al. 2011, "Finding a 'Kneedle' in a
// Haystack"), in the offline form of the reference `kneed` package with
// sensitivity S = 1.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

namespace archetype {

enum class CurveShape { ConvexDecreasing, ConcaveIncreasing };

/// Index into x/y of the knee, or nullopt when the curve has none (fewer than
/// three points, a flat curve, no local maximum of the difference curve that
/// falls below its threshold).  x must be strictly increasing.
std::optional<std::size_t> find_knee(const std::vector<double>& x, const std::vector<double>& y,
                                     CurveShape shape = CurveShape::ConvexDecreasing,
                                     double sensitivity = 1.0);

}  // namespace archetype
