#include "study/cluster_quantiles.hpp"

#include <omp.h>

#include <algorithm>
#include <cstdint>

#include "engine/cpu_clones.hpp"

namespace archetype {

namespace {

constexpr std::size_t kBins = 64;
constexpr std::size_t kEdges = kBins - 1;
/// Features counted together for one cluster: each row's slice of them is
/// one 64-byte line, and their histograms (16 x 64 counts) stay in cache.
constexpr std::size_t kFeatureChunk = 16;

/// Rows binned together: one SIMD vector of floats per feature.
constexpr std::size_t kLanes = 16;

/// bins[i] = std::upper_bound(e, e + 63, v[i]) - e for the 63 sorted edges
/// at e, i.e. the count of edges with !(v < e) (NaN: past every edge), for
/// kLanes values at once: 63 vector compares per 16 values, instead of a
/// six-step dependent search per value (about 20 times faster at d = 128).
inline __attribute__((always_inline)) void bins_of(const float* __restrict e, const float* __restrict v, std::int32_t* __restrict bins) {
  std::int32_t n[kLanes] = {};
  for (std::size_t b = 0; b < kEdges; ++b) {
    const float edge = e[b];
#pragma omp simd
    for (std::size_t i = 0; i < kLanes; ++i) n[i] += !(v[i] < edge);
  }
  for (std::size_t i = 0; i < kLanes; ++i) bins[i] = n[i];
}

/// h[jj * kBins + bin] += 1 for the w features j0 + jj of the m rows
/// listed in `rows` (one cluster's), kLanes rows at a time, their features
/// transposed so that each feature's values are binned as one vector; the
/// rows kLanes ahead are prefetched (a cluster's rows are scattered).
ARCHETYPE_CLONES
void count_bins(const Matrix& z, const std::size_t* rows, std::size_t m, std::size_t j0, std::size_t w,
                const float* edges, const char* has_edges, std::int64_t* h) {
  float vals[kFeatureChunk][kLanes];
  std::int32_t bins[kLanes];
  for (std::size_t r0 = 0; r0 < m; r0 += kLanes) {
    const std::size_t g = std::min(kLanes, m - r0);
    for (std::size_t i = r0 + kLanes; i < std::min(m, r0 + 2 * kLanes); ++i) __builtin_prefetch(z.row(rows[i]) + j0);
    for (std::size_t i = 0; i < kLanes; ++i) {
      const float* row = z.row(rows[r0 + std::min(i, g - 1)]) + j0;  // lanes past g: repeats, not counted
      for (std::size_t jj = 0; jj < w; ++jj) vals[jj][i] = row[jj];
    }
    for (std::size_t jj = 0; jj < w; ++jj) {
      std::int64_t* hj = h + jj * kBins;
      if (!has_edges[j0 + jj]) {
        hj[0] += static_cast<std::int64_t>(g);
        continue;
      }
      bins_of(edges + (j0 + jj) * kEdges, vals[jj], bins);
      for (std::size_t i = 0; i < g; ++i) ++hj[bins[i]];
    }
  }
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
    count_bins(z, order.data() + start[c], start[c + 1] - start[c], j0, std::min(kFeatureChunk, d - j0), edges.data(),
               has_edges.data(), counts.data() + (c * d + j0) * kBins);
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
