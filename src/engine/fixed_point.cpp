#include "archetype/fixed_point.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>

#include "archetype/communicator.hpp"
#include "archetype/error.hpp"

namespace archetype {
namespace {

[[noreturn]] void bad_weight(std::size_t i, double w, const char* why) {
  std::ostringstream m;
  m << "sample_weight: row " << i + 1 << ": the weight " << w << ' ' << why;
  throw InputError(m.str());
}

/// The fractional bits of w: the smallest e >= 0 with w * 2^e an integer
/// (w finite, >= 0).
int fraction_bits(double w) {
  if (w == 0.0) return 0;
  int ex = 0;
  const double m = std::frexp(w, &ex);  // w = m * 2^ex, 0.5 <= m < 1
  std::uint64_t mant = static_cast<std::uint64_t>(std::ldexp(m, 53));  // exact: 53 bits
  int low = 0;
  while ((mant & 1u) == 0) {
    mant >>= 1;
    ++low;
  }
  // w = mant * 2^(ex - 53 + low)
  return std::max(0, 53 - ex - low);
}

/// rint(w[i] * 2^e) for every row and their total; false when a w_q
/// reaches 2^kWeightMaxBits or the total 2^kWeightTotalBits.
bool quantize_at(const double* w, std::size_t n, int e, std::vector<std::int32_t>& q, std::int64_t& total) {
  const double max_q = std::ldexp(1.0, kWeightMaxBits), max_total = std::ldexp(1.0, kWeightTotalBits);
  q.resize(n);
  double sum = 0.0;  // exact: integers below 2^53
  for (std::size_t i = 0; i < n; ++i) {
    const double v = std::nearbyint(std::ldexp(w[i], e));  // round half to even (the default mode)
    if (!(v < max_q)) return false;
    sum += v;
    if (!(sum < max_total)) return false;
    q[i] = static_cast<std::int32_t>(v);
  }
  total = static_cast<std::int64_t>(sum);
  return true;
}

}  // namespace

WeightGrid WeightGrid::ones(std::size_t n) {
  WeightGrid g;
  g.total = static_cast<std::int64_t>(n);
  g.given_total = static_cast<double>(n);
  return g;
}

WeightGrid WeightGrid::of(const double* w, std::size_t n) { return of(w, n, nullptr); }

WeightGrid WeightGrid::of(const double* w, std::size_t n, const RowSplit* split) {
  Communicator* comm = split && split->comm->size() > 1 ? split->comm : nullptr;
  const auto refuse = [&](const std::string& why) {
    if (comm) throw AgreedError(why);  // every process sees the same totals
    throw InputError(why);
  };
  WeightGrid g;
  g.given = true;
  double max_w = 0.0;
  int bits = 0;
  agree(comm, [&] {  // the first bad weight in row order, named among all rows
    const std::size_t offset = comm ? split->offset : 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double v = w[i];
      if (!std::isfinite(v)) bad_weight(offset + i, v, "is not finite");
      if (v < 0.0) bad_weight(offset + i, v, "is negative");
      max_w = std::max(max_w, v);
      bits = std::max(bits, fraction_bits(v));
    }
  });
  if (comm) {  // maxima of non-negative numbers: exact in any order
    const std::vector<std::pair<double, int>> all = allgather_value(*comm, std::make_pair(max_w, bits));
    for (const auto& [m, b] : all) {
      max_w = std::max(max_w, m);
      bits = std::max(bits, b);
    }
  }
  if (!(max_w > 0.0)) refuse("sample_weight: every weight is 0 (expected a positive total)");
  const double sum = fold_in_row_order(comm, {0.0}, [&](std::vector<double>& acc) {
    for (std::size_t i = 0; i < n; ++i) acc[0] += w[i];
  })[0];
  if (!std::isfinite(sum)) refuse("sample_weight: the weights' total is beyond the double range");
  g.given_total = sum;
  // Every process quantizes its rows on grid e; the grid holds when it
  // holds for every row and for the total of all rows (non-negative w_q:
  // the running total stays below the limit iff the final one does).
  const auto quantize = [&](int e) {
    std::int64_t local = 0;
    const bool ok = quantize_at(w, n, e, g.q, local);
    if (!comm) {
      if (ok) g.total = local;
      return ok;
    }
    std::int64_t v[2] = {ok ? 0 : 1, ok ? local : 0};
    comm->allreduce_sum(v, 2);
    if (v[0] != 0 || !(static_cast<double>(v[1]) < std::ldexp(1.0, kWeightTotalBits))) return false;
    g.total = v[1];
    return true;
  };
  // Exact when some power-of-two grid holds every weight within the limits.
  if (quantize(bits)) {
    g.exp = bits;
    return g;
  }
  // Otherwise kWeightBits significant bits for the largest weight, fewer
  // while the total is too large.
  int ex = 0;
  std::frexp(max_w, &ex);  // max_w < 2^ex
  int e = kWeightBits - ex;
  while (!quantize(e)) --e;
  g.exp = e;
  return g;
}


int fixed_point_exponent(double bound, double count, int target_bits) {
  const double total = bound * std::max(count, 1.0);
  if (!(total > 0.0) || !std::isfinite(total)) return 0;
  int ex = 0;
  std::frexp(total, &ex);  // total < 2^ex
  // Keep 2^e a normal float whose products with the data stay finite.
  return std::clamp(target_bits - ex, -100, 100);
}

FixedPoint FixedPoint::for_data(MatrixView X, const WeightGrid* weights) {
  double max_abs = 0.0;
  double max_norm2 = 0.0;
  for (std::size_t i = 0; i < X.rows; ++i) {
    const float* r = X.row(i);
    double norm2 = 0.0;
    for (std::size_t j = 0; j < X.cols; ++j) {
      const double v = static_cast<double>(r[j]);
      max_abs = std::max(max_abs, std::fabs(v));
      norm2 += v * v;
    }
    max_norm2 = std::max(max_norm2, norm2);
  }
  // |x - c|^2 <= (|x| + |c|)^2 <= 4 max|x|^2 for c in the hull of the rows;
  // the float evaluation may exceed the exact value by a few ulps, hence the
  // margin.
  const std::size_t count = weights ? static_cast<std::size_t>(weights->total) : X.rows;
  FixedPoint fp = for_bounds(max_abs, 4.0 * max_norm2, count);
  fp.weight_exp = weights ? weights->exp : 0;
  return fp;
}

FixedPoint FixedPoint::for_bounds(double max_abs, double max_d2_exact, std::size_t rows) {
  const double max_d2 = max_d2_exact * 1.001 + 1e-30;
  // Squared distances are evaluated in float: beyond FLT_MAX they would be
  // inf and the grids below meaningless (the pipeline standardizes first,
  // so this only stops a caller that feeds raw values like 1e30).
  if (!(max_d2 <= FLT_MAX)) {
    char bound[32];
    std::snprintf(bound, sizeof bound, "%.3g", max_abs);
    throw InputError(std::string("values up to ") + bound +
                     " give squared distances beyond the float32 range: expected standardized features");
  }
  const double n = static_cast<double>(rows);
  FixedPoint fp;
  // 23 bits: a block of up to 256 rows sums in int32 without overflow
  // (|q| < 2^23, so 256 |q| < 2^31), which lets the CPU vectorise the per-cluster sums
  // 16 lanes wide; the grid (max|x| / 2^23) is far below float32 precision
  // once averaged over a cluster.
  fp.feature_exp = fixed_point_exponent(max_abs, 1.0, kFeatureBits);
  // max|x| 2^e < 2^23, but within half a step of it the value still rounds
  // to 2^23 (1 - 2^-24 on the grid 2^-23), and 256 of those sum to 2^31,
  // one past the int32 range: a grid one step coarser then.
  if (std::ldexp(max_abs, fp.feature_exp) > std::ldexp(1.0, kFeatureBits) - 1.0) --fp.feature_exp;
  fp.dist_exp = fixed_point_exponent(max_d2, n, 62);
  fp.root_exp = fixed_point_exponent(std::sqrt(max_d2), n, 62);
  return fp;
}

}  // namespace archetype
