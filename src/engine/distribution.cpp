#include "archetype/distribution.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <tuple>
#include <utility>

#include "archetype/communicator.hpp"
#include "engine/split_ops.hpp"

namespace archetype {
namespace {

/// An integer-valued axis with fewer distinct values than bins gets one
/// bin per integer (edges at half-integers), so the picture has no empty
/// stripes between the values.
void integer_grid(std::size_t rows, const std::function<float(std::size_t)>& v, double& lo, double& hi,
                  std::size_t& bins, const RowSplit* split = nullptr) {
  std::int64_t not_integer = 0;
  for (std::size_t i = 0; i < rows && not_integer == 0; ++i) {
    const float x = v(i);
    if (x != std::nearbyint(x)) not_integer = 1;
  }
  if (split) split->comm->allreduce_sum(&not_integer, 1);
  if (not_integer != 0) return;
  const double span = hi - lo + 1.0;
  if (span > static_cast<double>(bins)) return;
  bins = static_cast<std::size_t>(span);
  lo -= 0.5;
  hi += 0.5;
}

/// The smallest and largest value, the first of equal ones (a fold in row order).
template <typename Value>
std::pair<double, double> raw_range(std::size_t rows, const Value& v) {
  double lo = INFINITY, hi = -INFINITY;
  for (std::size_t i = 0; i < rows; ++i) {
    lo = std::min(lo, static_cast<double>(v(i)));
    hi = std::max(hi, static_cast<double>(v(i)));
  }
  return {lo, hi};
}

/// raw_range of (mine, as raw_range gives it) over every process's rows
/// (split: nullptr for one process).
std::pair<double, double> all_range(std::pair<double, double> mine, const RowSplit* split) {
  if (!split) return mine;
  return fold_ranks(*split, mine, [](const std::pair<double, double>& a, const std::pair<double, double>& b) {
    return std::make_pair(std::min(a.first, b.first), std::max(a.second, b.second));
  });
}

/// lo and hi from the range of all rows: 0 and 1 without rows, hi = lo + 1
/// when they are equal.
void finish_range(std::pair<double, double> range, std::size_t rows, double& lo, double& hi, const RowSplit* split) {
  std::tie(lo, hi) = range;
  if ((split ? split->total : rows) == 0) lo = hi = 0.0;
  if (hi <= lo) hi = lo + 1.0;
}

void axis_range(std::size_t rows, const std::function<float(std::size_t)>& v, double& lo, double& hi,
                const RowSplit* split = nullptr) {
  finish_range(all_range(raw_range(rows, v), split), rows, lo, hi, split);
}

/// axis_range of a column, read directly (not through a std::function per
/// value: the histogram and the density of a long column each read it).
void column_range(MatrixView X, std::size_t col, double& lo, double& hi, const RowSplit* split = nullptr) {
  const auto value = [&](std::size_t i) { return X.at(i, col); };
  finish_range(all_range(raw_range(X.rows, value), split), X.rows, lo, hi, split);
}

std::vector<double> edges(double lo, double hi, std::size_t bins) {
  std::vector<double> e(bins + 1);
  for (std::size_t b = 0; b <= bins; ++b) e[b] = lo + (hi - lo) * static_cast<double>(b) / static_cast<double>(bins);
  return e;
}

std::size_t bin_of(double v, double lo, double hi, std::size_t bins) {
  const double t = (v - lo) / (hi - lo) * static_cast<double>(bins);
  if (!(t > 0.0)) return 0;
  return std::min(bins - 1, static_cast<std::size_t>(t));
}

/// An exponent e below which s + exp(e) == s, bit for bit (-inf if none
/// is known).  For s in [2^E, 2^(E+1)) the next double above s is
/// s + 2^(E-52), so adding any t < 2^(E-53) rounds back to s.  e below
/// (E - 53) ln 2 - 1e-6 has exp(e) < 2^(E-53) (1 - 1e-6), and glibc's
/// exp (error under one ulp, 2^-52 relative) stays below 2^(E-53).  Only
/// for a normal s far from the subnormals, where that relative bound holds.
double unchanged_below(double s) {
  if (!(s >= 0x1p-900) || std::isinf(s)) return -INFINITY;
  return static_cast<double>(std::ilogb(s) - 53) * 0.69314718055994530942 - 1e-6;
}

/// histogram and kernel_density for one process (split nullptr) or for
/// rows split across processes: the counts are summed, the range folded
/// in row order, the density's strided rows gathered in row order.
Histogram histogram_of(MatrixView X, std::size_t col, std::size_t bins, const RowSplit* split) {
  Histogram h;
  bins = std::max<std::size_t>(bins, 1);
  double lo = 0.0, hi = 0.0;
  column_range(X, col, lo, hi, split);
  h.edges = edges(lo, hi, bins);
  h.counts.assign(bins, 0);
  for (std::size_t i = 0; i < X.rows; ++i) h.counts[bin_of(X.at(i, col), lo, hi, bins)] += 1;
  if (split) split->comm->allreduce_sum(h.counts.data(), bins);
  return h;
}

DensityCurve density_of(MatrixView X, std::size_t col, std::size_t points, std::size_t max_rows,
                        const RowSplit* split) {
  DensityCurve out;
  const std::size_t n = split ? split->total : X.rows, offset = split ? split->offset : 0;
  if (n == 0 || points < 2) return out;
  const std::size_t stride = std::max<std::size_t>(1, (n + max_rows - 1) / max_rows);
  std::vector<double> v;
  for (std::size_t i = (stride - offset % stride) % stride; i < X.rows; i += stride) v.push_back(X.at(i, col));
  if (split) v = allgather_vector(*split->comm, v);
  const double m = static_cast<double>(v.size());
  double mean = 0.0;
  for (double x : v) mean += x;
  mean /= m;
  double var = 0.0;
  for (double x : v) var += (x - mean) * (x - mean);
  var = v.size() > 1 ? var / (m - 1.0) : 0.0;  // scipy's gaussian_kde uses the unbiased covariance
  double h = std::sqrt(var) * std::pow(m, -0.2);
  double lo = 0.0, hi = 0.0;
  column_range(X, col, lo, hi, split);
  if (!(h > 0.0)) h = (hi - lo) / 100.0;
  out.bandwidth = h;
  const double a = lo - 3.0 * h, b = hi + 3.0 * h;
  const double norm = 1.0 / (m * h * std::sqrt(2.0 * M_PI));
  out.x.resize(points);
  out.y.resize(points);
  constexpr std::size_t kChunk = 256;
  double kept[kChunk];
  for (std::size_t p = 0; p < points; ++p) {
    const double x = a + (b - a) * static_cast<double>(p) / static_cast<double>(points - 1);
    // The terms added in row order.  exp underflows to exactly +0 below
    // -745.2, and s + 0 is s: such a term is skipped (glibc's underflow path
    // is slow; heavy tails make many of them).  So is one below `below`, too
    // small to change s.  Per chunk of rows, a row further from x than
    // `reach` has e below both for sure (reach: where e = max(below, -746),
    // widened by 1e-6 against the rounding of z and z * z), and is dropped
    // without a division or a branch; `below` only rises within the chunk.
    double s = 0.0, below = -INFINITY, rethink = 0x1p-900;
    for (std::size_t c0 = 0; c0 < v.size(); c0 += kChunk) {
      const std::size_t c1 = std::min(v.size(), c0 + kChunk);
      const double least = std::max(below, -746.0);
      const double reach = least < 0.0 ? h * std::sqrt(-2.0 * least) * (1.0 + 1e-6) : INFINITY;
      std::size_t m = 0;
      for (std::size_t i = c0; i < c1; ++i) {
        const double dx = x - v[i];
        kept[m] = dx;
        m += std::fabs(dx) <= reach ? 1 : 0;
      }
      for (std::size_t t = 0; t < m; ++t) {
        const double z = kept[t] / h;
        const double e = -0.5 * z * z;
        if (e > -746.0 && !(e < below)) {
          s += std::exp(e);
          if (s >= rethink) {  // unchanged_below changes only with s's exponent
            below = unchanged_below(s);
            rethink = std::isfinite(s) ? std::ldexp(1.0, std::ilogb(s) + 1) : INFINITY;
          }
        }
      }
    }
    out.x[p] = x;
    out.y[p] = s * norm;
  }
  return out;
}

}  // namespace

Histogram histogram(MatrixView X, std::size_t col, std::size_t bins) { return histogram_of(X, col, bins, nullptr); }
Histogram histogram(MatrixView X, std::size_t col, std::size_t bins, const RowSplit& split) {
  return histogram_of(X, col, bins, &split);
}

DensityCurve kernel_density(MatrixView X, std::size_t col, std::size_t points, std::size_t max_rows) {
  return density_of(X, col, points, max_rows, nullptr);
}
DensityCurve kernel_density(MatrixView X, std::size_t col, std::size_t points, std::size_t max_rows,
                            const RowSplit& split) {
  return density_of(X, col, points, max_rows, &split);
}


namespace {

Histogram2D histogram_2d_of(std::size_t rows, const std::function<float(std::size_t, int)>& value,
                            const std::vector<std::int32_t>& labels, int k, std::size_t nx, std::size_t ny,
                            const RowSplit* split) {
  Histogram2D h;
  const auto vx = [&](std::size_t i) { return value(i, 0); };
  const auto vy = [&](std::size_t i) { return value(i, 1); };
  double x0 = 0, x1 = 0, y0 = 0, y1 = 0;
  axis_range(rows, vx, x0, x1, split);
  axis_range(rows, vy, y0, y1, split);
  integer_grid(rows, vx, x0, x1, nx, split);
  integer_grid(rows, vy, y0, y1, ny, split);
  h.x_edges = edges(x0, x1, nx);
  h.y_edges = edges(y0, y1, ny);
  h.counts.assign(static_cast<std::size_t>(k), std::vector<std::int64_t>(nx * ny, 0));
  for (std::size_t i = 0; i < rows; ++i) {
    const std::size_t ix = bin_of(vx(i), x0, x1, nx), iy = bin_of(vy(i), y0, y1, ny);
    h.counts[static_cast<std::size_t>(labels[i])][iy * nx + ix] += 1;
  }
  if (split)
    for (std::vector<std::int64_t>& c : h.counts) split->comm->allreduce_sum(c.data(), c.size());
  return h;
}

}  // namespace

Histogram2D histogram_2d(std::size_t rows, const std::function<float(std::size_t, int)>& value,
                         const std::vector<std::int32_t>& labels, int k, std::size_t nx, std::size_t ny) {
  return histogram_2d_of(rows, value, labels, k, nx, ny, nullptr);
}

Histogram2D histogram_2d(std::size_t rows, const std::function<float(std::size_t, int)>& value,
                         const std::vector<std::int32_t>& labels, int k, std::size_t nx, std::size_t ny,
                         const RowSplit& split) {
  return histogram_2d_of(rows, value, labels, k, nx, ny, &split);
}

}  // namespace archetype
