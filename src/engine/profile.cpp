// Per-feature descriptive statistics and normal QQ-plot data.
#include "archetype/profile.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "archetype/communicator.hpp"
#include "engine/split_ops.hpp"

namespace archetype {
namespace {

// Rows summed sequentially inside one block; block partials are then added in
// block order.  Keeping this order fixed (rather than letting a parallel
// reduction choose it) makes every statistic reproducible bit for bit.
constexpr std::size_t kBlockRows = 4096;

template <typename Term>
double blocked_sum(std::size_t n, Term term) {
  double total = 0.0;
  for (std::size_t begin = 0; begin < n; begin += kBlockRows) {
    const std::size_t end = std::min(n, begin + kBlockRows);
    double block = 0.0;
    for (std::size_t i = begin; i < end; ++i) block += term(i);
    total += block;
  }
  return total;
}

/// Blocks whose sums run side by side in by_blocks.
constexpr std::size_t kLanes = 4;

/// blocked_sum's blocks, kLanes consecutive full ones at a time, row r of
/// each in turn: add(g, i) adds row i to lane g's partial sums, close(g)
/// adds lane g's to the totals and clears them, lanes in block order.  The
/// blocks left over go one by one through lane 0.  Every block's sum is
/// the chain of its rows in order, and the blocks reach the totals in
/// order: blocked_sum's bits, with kLanes independent chains.
template <typename Add, typename Close>
void by_blocks(std::size_t n, Add add, Close close) {
  constexpr std::size_t kGroup = kLanes * kBlockRows;
  std::size_t begin = 0;
  for (; begin + kGroup <= n; begin += kGroup) {
    for (std::size_t r = 0; r < kBlockRows; ++r)
      for (std::size_t g = 0; g < kLanes; ++g) add(g, begin + g * kBlockRows + r);
    for (std::size_t g = 0; g < kLanes; ++g) close(g);
  }
  for (; begin < n; begin += kBlockRows) {
    const std::size_t end = std::min(n, begin + kBlockRows);
    for (std::size_t i = begin; i < end; ++i) add(0, i);
    close(0);
  }
}

void check_column(MatrixView X, std::size_t col) {
  if (col >= X.cols) throw std::out_of_range("profile: column index out of range");
}

/// The values sorted ascending (exactly std::sort's values; -0 before +0):
/// an LSD radix sort on the floats' bits mapped to increasing unsigned
/// keys, three passes of 11 bits.  O(n) where a comparison sort is
/// O(n log n): the QQ data of every feature of a wide table need it.
/// The float's order-preserving unsigned key, and back.
std::uint32_t float_key(float v) {
  std::uint32_t u = 0;
  std::memcpy(&u, &v, sizeof u);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);  // negatives reversed, below the positives
}
float key_float(std::uint32_t k) {
  const std::uint32_t u = (k & 0x80000000u) ? (k & 0x7fffffffu) : ~k;
  float f = 0.0f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

/// The column's keys, sorted ascending (the radix sort above).  The three
/// digits' counts come from one pass (with the keys' making), and a digit
/// that every key shares is not moved (a column of values near -83.7
/// shares its top 15 bits).  The buffers live on in each thread (the
/// returned reference is valid until its next call there): a fresh pair
/// for each column of a wide table cost page faults on every column.
/// (Tried and slower here: 8-bit digits, four passes; four runs per pass
/// with their own cursors, against the wait on a skewed digit's cursor.)
const std::vector<std::uint32_t>& sorted_keys(MatrixView X, std::size_t col) {
  const std::size_t n = X.rows;
  constexpr int kBits = 11, kPasses = 3;
  constexpr std::size_t kBuckets = std::size_t{1} << kBits;
  constexpr std::uint32_t kMask = kBuckets - 1;
  thread_local std::vector<std::uint32_t> key, tmp;
  key.resize(n);
  tmp.resize(n);
  std::vector<std::size_t> counts(kPasses * kBuckets, 0);
  std::size_t* const c0 = counts.data();
  std::size_t* const c1 = c0 + kBuckets;
  std::size_t* const c2 = c1 + kBuckets;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t k = float_key(X.at(i, col));
    key[i] = k;
    ++c0[k & kMask];
    ++c1[(k >> kBits) & kMask];
    ++c2[k >> (2 * kBits)];
  }
  for (int pass = 0; pass < kPasses; ++pass) {
    std::size_t* const c = c0 + pass * kBuckets;
    const int shift = pass * kBits;
    if (n == 0 || c[(key[0] >> shift) & kMask] == n) continue;  // one bucket holds every key: already in order
    std::size_t total = 0;
    for (std::size_t b = 0; b < kBuckets; ++b) {
      const std::size_t here = c[b];
      c[b] = total;
      total += here;
    }
    for (std::uint32_t k : key) tmp[c[(k >> shift) & kMask]++] = k;
    key.swap(tmp);
  }
  return key;
}

/// The order statistics at `ranks` (0-based, among all ranks' rows) of a
/// column split across processes, exactly: for each, the smallest key K
/// with count(keys <= K) > rank, by bisection over the 32-bit key space
/// (32 rounds of one allreduce of the counts, for all ranks at once).
std::vector<float> order_statistics(MatrixView X, std::size_t col, const RowSplit& split,
                                    const std::vector<std::size_t>& ranks) {
  const std::vector<std::uint32_t>& keys = sorted_keys(X, col);
  const std::size_t T = ranks.size();
  std::vector<std::uint64_t> lo(T, 0), hi(T, 0xFFFFFFFFu);
  std::vector<std::int64_t> counts(T);
  for (int round = 0; round < 32; ++round) {
    for (std::size_t t = 0; t < T; ++t) {
      const std::uint32_t mid = static_cast<std::uint32_t>(lo[t] + (hi[t] - lo[t]) / 2);
      counts[t] = std::upper_bound(keys.begin(), keys.end(), mid) - keys.begin();
    }
    split.comm->allreduce_sum(counts.data(), T);
    for (std::size_t t = 0; t < T; ++t) {
      const std::uint64_t mid = lo[t] + (hi[t] - lo[t]) / 2;
      if (static_cast<std::uint64_t>(counts[t]) > ranks[t]) {
        hi[t] = mid;
      } else {
        lo[t] = mid + 1;
      }
    }
  }
  std::vector<float> out(T);
  for (std::size_t t = 0; t < T; ++t) out[t] = key_float(static_cast<std::uint32_t>(lo[t]));
  return out;
}

// Filliben's estimate of the medians of the uniform order statistics, as
// scipy.stats.probplot uses them (the first and last have closed forms).
double uniform_order_median(std::size_t i, std::size_t n) {
  const double last = std::pow(0.5, 1.0 / static_cast<double>(n));
  if (i + 1 == n) return last;
  if (i == 0) return 1.0 - last;
  return (static_cast<double>(i + 1) - 0.3175) / (static_cast<double>(n) + 0.365);
}

// Ranks of `m` order statistics evenly spread over 0..n-1, first and last
// included; rounding half up keeps them strictly increasing when m <= n.
std::vector<std::size_t> spread_ranks(std::size_t n, std::size_t m) {
  std::vector<std::size_t> ranks(m);
  if (m == 1) return ranks;
  for (std::size_t k = 0; k < m; ++k) ranks[k] = (k * (n - 1) + (m - 1) / 2) / (m - 1);
  return ranks;
}

// Least-squares line and correlation, following scipy.stats.linregress
// (population moments; r = 0 when either series is constant).
void fit_line(QQData& qq) {
  const std::size_t n = qq.sample.size();
  const double nd = static_cast<double>(n);
  const double xm = blocked_sum(n, [&](std::size_t i) { return qq.theoretical[i]; }) / nd;
  const double ym = blocked_sum(n, [&](std::size_t i) { return qq.sample[i]; }) / nd;
  const double sxx = blocked_sum(n, [&](std::size_t i) {
    const double dx = qq.theoretical[i] - xm;
    return dx * dx;
  });
  const double syy = blocked_sum(n, [&](std::size_t i) {
    const double dy = qq.sample[i] - ym;
    return dy * dy;
  });
  const double sxy =
      blocked_sum(n, [&](std::size_t i) { return (qq.theoretical[i] - xm) * (qq.sample[i] - ym); });
  // A single point has no slope; report a flat line through it.
  qq.slope = sxx > 0.0 ? sxy / sxx : 0.0;
  qq.intercept = ym - qq.slope * xm;
  const double den = std::sqrt(sxx * syy);
  qq.r = den > 0.0 ? std::clamp(sxy / den, -1.0, 1.0) : 0.0;
}

// Horner evaluation of c[0] + c[1] r + ... + c[7] r^7.
double poly7(const double (&c)[8], double r) {
  double v = c[7];
  for (int i = 6; i >= 0; --i) v = v * r + c[i];
  return v;
}

/// std, skew and kurtosis from the central moments (p.count set).
void set_shape(FeatureProfile& p, double m2, double m3, double m4) {
  const double nd = static_cast<double>(p.count);
  p.std = std::sqrt(m2);
  if (m2 > 0.0) {
    p.skew = m3 / std::pow(m2, 1.5);
    p.kurtosis = m4 / (m2 * m2) - 3.0;
    // pandas' adjustment; undefined (reported as 0) below three rows.
    if (p.count >= 3) p.skew_unbiased = p.skew * std::sqrt(nd * (nd - 1.0)) / (nd - 2.0);
  }
}

/// The QQ data from the order statistics at `ranks` of n values.
QQData qq_from(std::size_t n, const std::vector<std::size_t>& ranks, const std::vector<float>& values) {
  QQData qq;
  // The quantiles always belong to the full sample size n; thinning only
  // drops points, it does not move the ones kept.
  for (std::size_t i = 0; i < ranks.size(); ++i) {
    qq.theoretical.push_back(normal_quantile(uniform_order_median(ranks[i], n)));
    qq.sample.push_back(values[i]);
  }
  fit_line(qq);
  return qq;
}

}  // namespace

FeatureProfile profile_feature(MatrixView X, std::size_t col) {
  check_column(X, col);
  FeatureProfile p;
  const std::size_t n = X.rows;
  p.count = n;
  if (n == 0) return p;  // no rows: every statistic stays 0

  const double nd = static_cast<double>(n);
  auto value = [&](std::size_t i) { return static_cast<double>(X.at(i, col)); };
  // Two passes: the mean (blocked_sum's chain, min and max tracked on the
  // way), then the three central moments together.  Each sum is still
  // blocked_sum's: the same terms in the same order, so the same bits;
  // only kLanes blocks' chains run side by side (by_blocks), and the
  // independent chains run that much faster than one.
  // The minimum and maximum by block too, each block's from +-inf, folded
  // in block order from value(0): the first of equal ones in row order
  // (-0.0 and +0.0 as the rows give them, a NaN skipped unless first), as
  // one fold over the rows gives.
  double lo = value(0), hi = lo, total = 0.0;
  double sum[kLanes], blo[kLanes], bhi[kLanes];
  auto open = [&](std::size_t g) {
    sum[g] = 0.0;
    blo[g] = INFINITY;
    bhi[g] = -INFINITY;
  };
  for (std::size_t g = 0; g < kLanes; ++g) open(g);
  by_blocks(
      n,
      [&](std::size_t g, std::size_t i) {
        const double v = value(i);
        blo[g] = std::min(blo[g], v);
        bhi[g] = std::max(bhi[g], v);
        sum[g] += v;
      },
      [&](std::size_t g) {
        total += sum[g];
        lo = std::min(lo, blo[g]);
        hi = std::max(hi, bhi[g]);
        open(g);
      });
  p.mean = total / nd;
  p.min = lo;
  p.max = hi;
  double t2 = 0.0, t3 = 0.0, t4 = 0.0;
  double b2[kLanes] = {}, b3[kLanes] = {}, b4[kLanes] = {};
  by_blocks(
      n,
      [&](std::size_t g, std::size_t i) {
        const double d = value(i) - p.mean;
        const double d2 = d * d;
        b2[g] += d2;
        b3[g] += d2 * d;
        b4[g] += d2 * d2;
      },
      [&](std::size_t g) {
        t2 += b2[g];
        t3 += b3[g];
        t4 += b4[g];
        b2[g] = b3[g] = b4[g] = 0.0;
      });
  const double m2 = t2 / nd, m3 = t3 / nd, m4 = t4 / nd;

  set_shape(p, m2, m3, m4);

  return p;
}

QQData qq_normal(MatrixView X, std::size_t col, std::size_t max_points) {
  check_column(X, col);
  if (max_points < 2) throw std::invalid_argument("qq_normal: max_points must be at least 2");
  QQData qq;
  const std::size_t n = X.rows;
  if (n == 0) return qq;

  const std::vector<std::uint32_t>& sorted = sorted_keys(X, col);
  const std::vector<std::size_t> ranks = spread_ranks(n, std::min(n, max_points));
  std::vector<float> picked;
  for (std::size_t rank : ranks) picked.push_back(key_float(sorted[rank]));
  return qq_from(n, ranks, picked);
}

FeatureProfile profile_feature(MatrixView X, std::size_t col, const RowSplit& split) {
  check_column(X, col);
  FeatureProfile p;
  const std::size_t n = split.total;
  p.count = n;
  if (n == 0) return p;
  // The one-process sums, in its order (blocked_sums), the three central
  // moments side by side.
  const double nd = static_cast<double>(n);
  auto value = [&](std::size_t i) { return static_cast<double>(X.at(i, col)); };
  p.mean = blocked_sums(split, kBlockRows, 1, [&](std::size_t i, double* out) { out[0] += value(i); })[0] / nd;
  const std::vector<double> m = blocked_sums(split, kBlockRows, 3, [&](std::size_t i, double* out) {
    const double d = value(i) - p.mean;
    out[0] += d * d;
    out[1] += d * d * d;
    const double d2 = d * d;
    out[2] += d2 * d2;
  });
  set_shape(p, m[0] / nd, m[1] / nd, m[2] / nd);
  // The first minimum and maximum in row order (fold_ranks): -0.0 and +0.0
  // as the rows give them.
  std::pair<double, double> range{0.0, 0.0};
  if (X.rows > 0) range = {value(0), value(0)};
  for (std::size_t i = 1; i < X.rows; ++i) range = {std::min(range.first, value(i)), std::max(range.second, value(i))};
  range = fold_ranks(split, range, [](const std::pair<double, double>& a, const std::pair<double, double>& b) {
    return std::make_pair(std::min(a.first, b.first), std::max(a.second, b.second));
  });
  p.min = range.first;
  p.max = range.second;
  return p;
}

QQData qq_normal(MatrixView X, std::size_t col, const RowSplit& split, std::size_t max_points) {
  check_column(X, col);
  if (max_points < 2) throw std::invalid_argument("qq_normal: max_points must be at least 2");
  const std::size_t n = split.total;
  if (n == 0) return {};
  const std::vector<std::size_t> ranks = spread_ranks(n, std::min(n, max_points));
  return qq_from(n, ranks, order_statistics(X, col, split, ranks));
}

double normal_quantile(double p) {
  if (!(p > 0.0 && p < 1.0)) throw std::domain_error("normal_quantile: p must lie in (0, 1)");
  // Wichura (1988), Algorithm AS241 PPND16: three rational approximations,
  // for the centre, the near tails and the far tails.  Coefficients are in
  // ascending powers; every denominator has constant term 1.
  static constexpr double a[8] = {3.3871328727963666080e0,  1.3314166789178437745e+2,
                                  1.9715909503065514427e+3, 1.3731693765509461125e+4,
                                  4.5921953931549871457e+4, 6.7265770927008700853e+4,
                                  3.3430575583588128105e+4, 2.5090809287301226727e+3};
  static constexpr double b[8] = {1.0,
                                  4.2313330701600911252e+1,
                                  6.8718700749205790830e+2,
                                  5.3941960214247511077e+3,
                                  2.1213794301586595867e+4,
                                  3.9307895800092710610e+4,
                                  2.8729085735721942674e+4,
                                  5.2264952788528545610e+3};
  static constexpr double c[8] = {1.42343711074968357734e0,  4.63033784615654529590e0,
                                  5.76949722146069140550e0,  3.64784832476320460504e0,
                                  1.27045825245236838258e0,  2.41780725177450611770e-1,
                                  2.27238449892691845833e-2, 7.74545014278341407640e-4};
  static constexpr double d[8] = {1.0,
                                  2.05319162663775882187e0,
                                  1.67638483018380384940e0,
                                  6.89767334985100004550e-1,
                                  1.48103976427480074590e-1,
                                  1.51986665636164571966e-2,
                                  5.47593808499534494600e-4,
                                  1.05075007164441684324e-9};
  static constexpr double e[8] = {6.65790464350110377720e0,  5.46378491116411436990e0,
                                  1.78482653991729133580e0,  2.96560571828504891230e-1,
                                  2.65321895265761230930e-2, 1.24266094738807843860e-3,
                                  2.71155556874348757815e-5, 2.01033439929228813265e-7};
  static constexpr double f[8] = {1.0,
                                  5.99832206555887937690e-1,
                                  1.36929880922735805310e-1,
                                  1.48753612908506148525e-2,
                                  7.86869131145613259100e-4,
                                  1.84631831751005468180e-5,
                                  1.42151175831644588870e-7,
                                  2.04426310338993978564e-15};

  const double q = p - 0.5;
  if (std::fabs(q) <= 0.425) {
    const double r = 0.180625 - q * q;
    return q * poly7(a, r) / poly7(b, r);
  }
  double r = std::sqrt(-std::log(q < 0.0 ? p : 1.0 - p));
  double x;
  if (r <= 5.0) {
    r -= 1.6;
    x = poly7(c, r) / poly7(d, r);
  } else {
    r -= 5.0;
    x = poly7(e, r) / poly7(f, r);
  }
  return q < 0.0 ? -x : x;
}

}  // namespace archetype
