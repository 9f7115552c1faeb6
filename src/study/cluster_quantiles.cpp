#include "study/cluster_quantiles.hpp"

#include <omp.h>

#include <algorithm>

namespace archetype {

namespace {

constexpr std::size_t kBins = 64;
constexpr std::size_t kEdges = kBins - 1;
/// Features counted together for one cluster: each row's slice of them is
/// one 64-byte line, and their histograms (16 x 64 counts) stay in cache.
constexpr std::size_t kFeatureChunk = 16;

/// std::upper_bound(e, e + 63, v) - e for the 63 sorted edges at e, without
/// branches (six halvings, then one comparison): the index of the first edge
/// above v, i.e. the count of edges e with !(v < e), NaN past every edge.
inline std::size_t bin_of(const float* e, float v) {
  std::size_t lo = 0;
  for (std::size_t n = kEdges; n > 1;) {
    const std::size_t half = n / 2;
    lo = v < e[lo + half] ? lo : lo + half;
    n -= half;
  }
  return lo + static_cast<std::size_t>(!(v < e[lo]));
}

}  // namespace

std::vector<double> cluster_median_quantiles(const Matrix& z, const std::vector<std::int32_t>& labels, int k,
                                             const std::vector<FeatureSummary>& profile, const StandardScaler& scaler,
                                             int threads, const RowSplit* split) {
  const std::size_t d = z.cols, n = z.rows, kk = static_cast<std::size_t>(k);
  // Inner bin edges per feature in z units (kEdges of them, d x kEdges), so
  // value v falls in bin upper_bound(edges, v) (ties with an edge go up); a
  // feature without QQ data (no rows) has none: every value in bin 0.
  std::vector<float> edges(d * kEdges);
  std::vector<char> has_edges(d, 0);
  for (std::size_t j = 0; j < d; ++j) {
    const std::vector<double>& s = profile[j].qq.sample;
    if (s.empty()) continue;
    has_edges[j] = 1;
    for (std::size_t b = 1; b < kBins; ++b) {
      const double x = s[(b * (s.size() - 1) + kBins / 2) / kBins];
      edges[j * kEdges + b - 1] = static_cast<float>((x - scaler.mean[j]) / scaler.scale[j]);
    }
  }
  // Rows grouped by cluster (a stable counting sort), so that each
  // (cluster, block of features) histogram is counted by one task in its
  // own slice of the table: integer counts, the same on any thread count.
  std::vector<std::size_t> start(kk + 1, 0);
  for (std::size_t i = 0; i < n; ++i) ++start[static_cast<std::size_t>(labels[i]) + 1];
  for (std::size_t c = 0; c < kk; ++c) start[c + 1] += start[c];
  std::vector<std::size_t> order(n);
  {
    std::vector<std::size_t> next(start.begin(), start.end() - 1);
    for (std::size_t i = 0; i < n; ++i) order[next[static_cast<std::size_t>(labels[i])]++] = i;
  }
  std::vector<std::int64_t> counts(kk * d * kBins, 0);
  const std::size_t chunks = (d + kFeatureChunk - 1) / kFeatureChunk;
  const int nt = std::max(1, threads > 0 ? threads : omp_get_max_threads());
#pragma omp parallel for schedule(dynamic) num_threads(nt) if (n * d >= 65536)
  for (long long t = 0; t < static_cast<long long>(kk * chunks); ++t) {
    const std::size_t c = static_cast<std::size_t>(t) / chunks, j0 = static_cast<std::size_t>(t) % chunks * kFeatureChunk;
    const std::size_t w = std::min(kFeatureChunk, d - j0);
    std::int64_t* h = counts.data() + (c * d + j0) * kBins;  // features j0.. of cluster c
    for (std::size_t r = start[c]; r < start[c + 1]; ++r) {
      const float* row = z.row(order[r]) + j0;
      for (std::size_t jj = 0; jj < w; ++jj)
        ++h[jj * kBins + (has_edges[j0 + jj] ? bin_of(&edges[(j0 + jj) * kEdges], row[jj]) : 0)];
    }
  }
  if (split) split->comm->allreduce_sum(counts.data(), counts.size());  // every rank's rows
  std::vector<double> q(kk * d, 0.5);
  for (std::size_t x = 0; x < kk * d; ++x) {
    const std::int64_t* h = &counts[x * kBins];
    std::int64_t total = 0;
    for (std::size_t b = 0; b < kBins; ++b) total += h[b];
    if (total == 0) continue;
    const double half = 0.5 * static_cast<double>(total);
    double before = 0.0;
    for (std::size_t b = 0; b < kBins; ++b) {
      const double here = static_cast<double>(h[b]);
      if (before + here >= half) {
        q[x] = (static_cast<double>(b) + (here > 0 ? (half - before) / here : 0.5)) / kBins;
        break;
      }
      before += here;
    }
  }
  return q;
}

}  // namespace archetype
