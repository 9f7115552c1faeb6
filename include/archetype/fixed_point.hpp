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
#include <cstring>

#include "archetype/matrix.hpp"

namespace archetype {

/// Bits of the feature grid (see FixedPoint::feature_exp).
constexpr int kFeatureBits = 23;

/// The weights' grid (WeightGrid): every quantized weight is below
/// 2^kWeightMaxBits (an int32), their total below 2^kWeightTotalBits (so
/// that a centroid sum, total x 2^kFeatureBits, fits an int64 as the sums
/// of up to 2^40 rows always did), and weights that no power-of-two grid
/// within those limits represents exactly keep kWeightBits significant
/// bits relative to the largest weight.
constexpr int kWeightMaxBits = 31;
constexpr int kWeightTotalBits = 40;
constexpr int kWeightBits = 24;

/// sample_weight on its grid: w_q = rint(w * 2^exp) per row (int32).
///
///  - exp is the smallest e >= 0 on which every weight is an integer
///    (w * 2^e exact: integers give e = 0, halves 1, 2.25 gives 2), when
///    that e keeps every w_q < 2^31 and the total < 2^40: the weights are
///    then exact, and integer weights give w_q = w, the counts of rows
///    repeated w times;
///  - otherwise (0.1, or integers beyond those limits) exp is the largest e
///    with max(w) * 2^e < 2^24 and a total of w_q below 2^40 (negative for huge
///    weights): each weight is rounded to the nearest multiple of 2^-exp,
///    24 significant bits for the largest weight; a weight below
///    2^-(exp+1) (under 2^-25 of the largest) counts as 0.
///
/// Nothing is refused for size: only weights that are not finite, a
/// negative weight, a total of 0 or a total beyond the double range.
struct RowSplit;

struct WeightGrid {
  /// Per row (under a RowSplit: this process's rows); empty: no weights,
  /// every row weighs 1 (w_q = 1, exp = 0), unless `given`.
  std::vector<std::int32_t> q;
  int exp = 0;                  ///< the grid is 2^-exp
  std::int64_t total = 0;       ///< sum of the w_q (the row count without weights), over every process's rows
  double given_total = 0.0;     ///< sum of the weights as given, in row order (the row count without weights)
  /// Weights were given: set by of(), also on a process of a split job
  /// that holds no rows (q empty), so that every process takes the
  /// weighted path of the host code and enters the same collectives.
  bool given = false;

  bool weighted() const { return given || !q.empty(); }
  /// The per-row w_q, or null (every row 1): what Backend::bind takes.
  const std::int32_t* data() const { return q.empty() ? nullptr : q.data(); }
  /// A sum of w_q in weight units.
  double value(std::int64_t wq) const { return std::ldexp(static_cast<double>(wq), -exp); }

  /// No weights: n rows of weight 1.
  static WeightGrid ones(std::size_t n);
  /// Checks and quantizes n weights.  InputError naming the first bad one
  /// by its 1-based row ("sample_weight: row 3: the weight -1 is negative"),
  /// and for a total of 0 or beyond the double range.
  static WeightGrid of(const double* w, std::size_t n);
  /// The same over rows split across processes (a collective; nullptr: one
  /// process): w holds this process's n rows; the grid, total and
  /// given_total are those of all rows, the bits of one process holding
  /// them; the first bad weight in row order is named by its row among
  /// all rows, on every process (AgreedError).
  static WeightGrid of(const double* w, std::size_t n, const RowSplit* split);
};

/// Whether a (possibly null) grid holds weights.
inline bool is_weighted(const WeightGrid* w) { return w && w->weighted(); }

struct FixedPoint {
  /// Feature values: q = rint(x * 2^feature_exp) with
  /// max|x| * 2^feature_exp <= 2^kFeatureBits - 1 (23 bits; |q| < 2^23 after
  /// rounding too), so up to 256 of them sum in an int32 and up to 2^40 rows
  /// in an int64.
  int feature_exp = 0;
  /// Squared distances: q = rint(d2 * 2^dist_exp), with
  /// rows * max_d2 * 2^dist_exp < 2^62, so the sum over all rows fits.
  int dist_exp = 0;
  /// Distances (square roots): the same rule with max_d = sqrt(max_d2).
  int root_exp = 0;
  /// The weights' grid (WeightGrid::exp; 0 without weights).  With weights
  /// every sum over rows adds w_q x (the row's quantized value), and `rows`
  /// in the rules above is the weights' total W_q: W_q * max_d2 * 2^dist_exp
  /// < 2^62 (with W_q < 2^40, the feature sums stay below 2^63 too).
  int weight_exp = 0;

  float feature_scale() const { return std::ldexp(1.0f, feature_exp); }
  float dist_scale() const { return std::ldexp(1.0f, dist_exp); }
  float root_scale() const { return std::ldexp(1.0f, root_exp); }

  /// A feature sum divided by a weight sum (a mean) needs no weight_exp: it cancels.
  double feature_value(std::int64_t q) const { return std::ldexp(static_cast<double>(q), -feature_exp); }
  /// Sums of (weighted) squared distances and distances, in data units
  /// times weight units.
  double dist_value(std::int64_t q) const { return std::ldexp(static_cast<double>(q), -(dist_exp + weight_exp)); }
  double root_value(std::int64_t q) const { return std::ldexp(static_cast<double>(q), -(root_exp + weight_exp)); }

  /// Grids for the rows of X, given that every centre used with it lies in
  /// the convex hull of the rows (true for k-means++ seeds and Lloyd means),
  /// so every squared distance is at most 4 * max_row_norm^2.  With
  /// weights, sized for their total (every row, zero weights included,
  /// bounds the values).
  static FixedPoint for_data(MatrixView X, const WeightGrid* weights = nullptr);
  /// Grids from explicit bounds: max |value|, max squared distance between
  /// a row and any centre used with it, and the number of rows (with
  /// weights: their total W_q).  Throws InputError when that distance
  /// exceeds the float32 range.
  static FixedPoint for_bounds(double max_abs, double max_d2, std::size_t rows);
};

/// The per-row quantized weights of an optional grid: null when there is
/// none or it has no weights (every row 1).
inline const std::int32_t* row_weights(const WeightGrid* w) { return w ? w->data() : nullptr; }

/// Round half to even of a float to an integer-valued float, written so that
/// compilers vectorise it (lrintf is not vectorised by GCC): below 2^23,
/// adding and subtracting 2^23 leaves exactly round-half-even(|v|) in
/// round-to-nearest mode; from 2^23 on every float is already an integer.
/// Rounding half to even is symmetric, so the sign is put back after.
/// Identical to rintf / CUDA's __float2int_rn on every input.  Branch-free:
/// the shifted value is computed for every input and chosen by a mask from
/// an integer compare of the bits (a >= +0, so its bits order as its value;
/// NaN's lie above 2^23's).  With a float condition GCC, which by default
/// may not speculate a floating-point operation, keeps a branch per value
/// and vectorises no loop that quantizes.
inline float round_half_even(float v) {
  const float a = std::fabs(v);
  const float shifted = (a + 8388608.0f) - 8388608.0f;
  std::uint32_t ab, sb;
  std::memcpy(&ab, &a, sizeof ab);
  std::memcpy(&sb, &shifted, sizeof sb);
  const std::uint32_t small = 0u - static_cast<std::uint32_t>(ab < 0x4B000000u);  // 0x4B000000: 2^23
  const std::uint32_t rb = (sb & small) | (ab & ~small);
  float r;
  std::memcpy(&r, &rb, sizeof r);
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
