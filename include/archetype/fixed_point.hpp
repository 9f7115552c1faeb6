// Exact, order-independent reductions.
//
// Every sum over rows that the clustering depends on (centroid sums, counts,
// inertia, k-means++ potentials, dispersion) is computed as an integer sum of
// per-row values rounded once to a fixed-point grid.  Rounding happens per
// row, before any addition, and integer addition is associative, so the total
// is the same bits whatever the thread count, tile shape, atomics order or
// hardware: the CPU and CUDA backends, and a future MPI all-reduce of partial
// sums, agree exactly.  The grids are powers of two chosen once per dataset
// from bounds that guarantee no int64 overflow (docs/ARCHITECTURE.md).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "archetype/matrix.hpp"

namespace archetype {

/// Bits of the feature grid (see FixedPoint::feature_exp).
constexpr int kFeatureBits = 23;

struct FixedPoint {
  /// Feature values: q = rint(x * 2^feature_exp) with
  /// max|x| * 2^feature_exp < 2^kFeatureBits (23), so up to 256 of them sum
  /// in an int32 and up to 2^40 rows in an int64.
  int feature_exp = 0;
  /// Squared distances: q = rint(d2 * 2^dist_exp), with
  /// rows * max_d2 * 2^dist_exp < 2^62, so the sum over all rows fits.
  int dist_exp = 0;
  /// Distances (square roots): the same rule with max_d = sqrt(max_d2).
  int root_exp = 0;

  float feature_scale() const { return std::ldexp(1.0f, feature_exp); }
  float dist_scale() const { return std::ldexp(1.0f, dist_exp); }
  float root_scale() const { return std::ldexp(1.0f, root_exp); }

  double feature_value(std::int64_t q) const { return std::ldexp(static_cast<double>(q), -feature_exp); }
  double dist_value(std::int64_t q) const { return std::ldexp(static_cast<double>(q), -dist_exp); }
  double root_value(std::int64_t q) const { return std::ldexp(static_cast<double>(q), -root_exp); }

  /// Grids for the rows of X, given that every centre used with it lies in
  /// the convex hull of the rows (true for k-means++ seeds and Lloyd means),
  /// so every squared distance is at most 4 * max_row_norm^2.
  static FixedPoint for_data(MatrixView X);
  /// Grids from explicit bounds: max |value|, max squared distance between
  /// a row and any centre used with it, and the number of rows.  Throws
  /// InputError when that distance exceeds the float32 range.
  static FixedPoint for_bounds(double max_abs, double max_d2, std::size_t rows);
};

/// Round half to even of a float to an integer-valued float, written so that
/// compilers vectorise it (lrintf is not vectorised by GCC): below 2^23,
/// adding and subtracting 2^23 leaves exactly round-half-even(|v|) in
/// round-to-nearest mode; from 2^23 on every float is already an integer.
/// Rounding half to even is symmetric, so the sign is put back after.
/// Identical to rintf / CUDA's __float2int_rn on every input.
inline float round_half_even(float v) {
  const float a = std::fabs(v);
  const float r = a < 8388608.0f ? (a + 8388608.0f) - 8388608.0f : a;
  return std::copysign(r, v);
}

/// rint(x * scale) as int32 (CUDA: __float2int_rn).  The product by a power
/// of two is exact.
inline std::int32_t quantize_feature(float x, float scale) {
  return static_cast<std::int32_t>(round_half_even(x * scale));
}

/// rint(d2 * scale) as int64 (CUDA: __float2ll_rn).
inline std::int64_t quantize_distance(float d2, float scale) {
  return static_cast<std::int64_t>(round_half_even(d2 * scale));
}

/// Exponent e such that count * bound * 2^e < 2^target_bits (clamped to a
/// range where 2^e is a normal float).
int fixed_point_exponent(double bound, double count, int target_bits);

}  // namespace archetype
