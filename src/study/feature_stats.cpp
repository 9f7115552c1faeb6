#include "study/feature_stats.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>

#include "archetype/communicator.hpp"
#include "archetype/distribution.hpp"
#include "archetype/profile.hpp"

namespace archetype {
namespace {

/// Histogram bins for n rows: about 2 n^(1/3) (Rice's rule), within 10..80.
std::size_t histogram_bins(std::size_t n) {
  const double b = 2.0 * std::cbrt(static_cast<double>(n));
  return static_cast<std::size_t>(std::clamp(b, 10.0, 80.0));
}

/// Rows that a density curve is estimated from (evenly strided): the curve
/// is drawn at 200 points for a figure; more rows do not change it visibly,
/// and each costs 200 exponentials.  Only the first kPlottedFeatures have
/// one, so all the curves together cost at most 12 of them.
constexpr std::size_t kDensityRows = 5000;

/// One feature's statistics from a matrix holding it in column `col`;
/// its histogram and density curve only when it is plotted (feature index
/// `j` below kPlottedFeatures).  The QQ data are always needed: their
/// sorted sample gives the quantiles that name clusters.
void stats_of(const Matrix& X, std::size_t col, std::size_t j, FeatureSummary& out) {
  out.stats = profile_feature(X, col);
  out.qq = qq_normal(X, col);
  if (j >= kPlottedFeatures) return;
  out.histogram = histogram(X, col, histogram_bins(X.rows));
  out.density = kernel_density(X, col, 200, kDensityRows);
}

/// The same over rows split across processes: one feature after the
/// other (each statistic is a collective, entered by every rank in order).
void stats_of_split(MatrixView X, std::size_t col, std::size_t j, const RowSplit& split, FeatureSummary& out) {
  out.stats = profile_feature(X, col, split);
  out.qq = qq_normal(X, col, split);
  if (j >= kPlottedFeatures) return;
  out.histogram = histogram(X, col, histogram_bins(split.total), split);
  out.density = kernel_density(X, col, 200, kDensityRows, split);
}

}  // namespace

// A wide matrix is first copied a block of columns at a time into
// contiguous columns (one pass over the rows per block, at most 64 MiB):
// each statistic reads its column several times, and a strided read of a
// wide matrix costs a cache line per value.
std::vector<FeatureSummary> profile_features(const Matrix& raw, const std::vector<std::string>& columns,
                                             const std::vector<std::string>& names, int threads, const RowSplit* split) {
  const std::size_t d = raw.cols, n = raw.rows;
  std::vector<FeatureSummary> out(d);
  for (std::size_t j = 0; j < d; ++j) {
    out[j].column = columns[j];
    out[j].name = names[j];
  }
  if (split) {
    for (std::size_t j = 0; j < d; ++j) stats_of_split(raw, j, j, *split, out[j]);
    return out;
  }
  const int nt = threads > 0 ? threads : omp_get_max_threads();
  if (d <= 2 || n == 0) {  // the rows are one cache line: read them in place
#pragma omp parallel for schedule(dynamic) num_threads(nt) if (d > 1)
    for (long long j = 0; j < static_cast<long long>(d); ++j)
      stats_of(raw, static_cast<std::size_t>(j), static_cast<std::size_t>(j), out[static_cast<std::size_t>(j)]);
    return out;
  }
  // Many columns a block when the rows are few: one parallel region per
  // block, and a fork/join per 16 columns of a 100,000-column table of 5
  // rows cost more than the statistics.  At most 8 MiB a block, reused
  // from block to block: every fresh page costs a fault and its zeroing,
  // and a block of 64 MiB (130,000 x 128 floats, once) was a quarter of
  // the command's page faults (minor faults 58,769 for
  // `fit` of 130,000 x 128 floats, measured with /usr/bin/time).
  const std::size_t block = std::clamp<std::size_t>((std::size_t{8} << 20) / (n * sizeof(float)), 1, 4096);
  std::vector<Matrix> blocks(std::min(block, d), Matrix(n, 1));
  for (std::size_t j0 = 0; j0 < d; j0 += block) {
    const std::size_t b = std::min(block, d - j0);
    // The copy on every thread too, tiles of kTile rows, kGroup columns
    // at a time: writing all b columns row by row keeps b pages in use, and
    // past the TLB's reach every write looked its page up again.  A tile's
    // rows (at most 256 KiB for b = 128) stay in L2 while its groups read them.
    constexpr long long kTile = 512;
#pragma omp parallel for schedule(static) num_threads(nt) if (n * b >= (std::size_t{1} << 20))
    for (long long i0 = 0; i0 < static_cast<long long>(n); i0 += kTile) {
      const std::size_t i1 = std::min(n, static_cast<std::size_t>(i0 + kTile));
      constexpr std::size_t kGroup = 16;
      for (std::size_t c0 = 0; c0 < b; c0 += kGroup) {
        const std::size_t g = std::min(kGroup, b - c0);
        float* to[kGroup];
        for (std::size_t c = 0; c < g; ++c) to[c] = blocks[c0 + c].values.data();
        const auto copy = [&](std::size_t width) {
          for (std::size_t i = static_cast<std::size_t>(i0); i < i1; ++i) {
            const float* row = raw.row(i) + j0 + c0;
            for (std::size_t c = 0; c < width; ++c) to[c][i] = row[c];
          }
        };
        if (g == kGroup) {
          copy(kGroup);  // a constant count: unrolled without a test per column
        } else {
          copy(g);
        }
      }
    }
#pragma omp parallel for schedule(dynamic) num_threads(nt) if (b > 1)
    for (long long c = 0; c < static_cast<long long>(b); ++c)
      stats_of(blocks[static_cast<std::size_t>(c)], 0, j0 + static_cast<std::size_t>(c), out[j0 + static_cast<std::size_t>(c)]);
  }
  return out;
}

}  // namespace archetype
