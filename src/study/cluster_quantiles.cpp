#include "study/cluster_quantiles.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

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
/// The linear form, for a feature whose edges are not in order (NaN).
inline __attribute__((always_inline)) void bins_of(const float* __restrict e, const float* __restrict v, std::int32_t* __restrict bins) {
  std::int32_t n[kLanes] = {};
  for (std::size_t b = 0; b < kEdges; ++b) {
    const float edge = e[b];
#pragma omp simd
    for (std::size_t i = 0; i < kLanes; ++i) n[i] += !(v[i] < edge);
  }
  for (std::size_t i = 0; i < kLanes; ++i) bins[i] = n[i];
}

/// Eight floats or int32s: one AVX2 register.
typedef float Floats8 __attribute__((vector_size(8 * sizeof(float))));
typedef std::int32_t Ints8 __attribute__((vector_size(8 * sizeof(std::int32_t))));

/// The edges of one feature in groups of 8, for bins_by_groups: t[f * 8 +
/// g] = e[8 g + f] (f < 8, g < 8; the 64th slot, never read, +inf).
void group_edges(const float* e, float* t) {
  for (std::size_t f = 0; f < 8; ++f)
    for (std::size_t g = 0; g < 8; ++g) t[f * 8 + g] = 8 * g + f < kEdges ? e[8 * g + f] : INFINITY;
}

/// bins_of's counts for sorted edges (t: group_edges') in two steps of 7
/// compares: the group g = the count of the group tops e[8 g + 7] (g < 7)
/// with !(v < top), then the count of e[8 g + f] (f < 7), each lane's
/// edges taken from its group by a permutation.  The same counts, since
/// for sorted edges !(v < e) holds for a prefix of them (NaN: for all).
inline __attribute__((always_inline)) void bins_by_groups(const float* __restrict t, const float* __restrict v,
                                                          std::int32_t* __restrict bins) {
  for (std::size_t h = 0; h < kLanes; h += 8) {
    Floats8 x;
    std::memcpy(&x, v + h, sizeof x);
    Ints8 g = {};
    for (std::size_t top = 0; top < 7; ++top) g -= ~(x < (Floats8{} + t[7 * 8 + top]));  // ~compare: -1 where not below
    Ints8 p = g * 8;
    for (std::size_t f = 0; f < 7; ++f) {
      Floats8 row;
      std::memcpy(&row, t + f * 8, sizeof row);
#if defined(__GNUC__) && !defined(__clang__)
      const Floats8 edge = __builtin_shuffle(row, g);  // one permutation (vpermps)
#else
      Floats8 edge;  // Clang (the fuzzing build) has no variable shuffle: the same lanes one by one
      for (int i = 0; i < 8; ++i) edge[i] = row[g[i] & 7];
#endif
      p -= ~(x < edge);
    }
    std::memcpy(bins + h, &p, sizeof p);
  }
}

/// h[jj * kBins + bin] += 1 for the w features j0 + jj of the m rows
/// listed in `rows` (one cluster's), kLanes rows at a time, their features
/// transposed so that each feature's values are binned as one vector; the
/// rows kLanes ahead are prefetched (a cluster's rows are scattered).
ARCHETYPE_CLONES
void count_bins(const Matrix& z, const std::size_t* rows, std::size_t m, std::size_t j0, std::size_t w,
                const float* edges, const float* grouped, const char* has_edges, std::int64_t* h) {
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
      if (has_edges[j0 + jj] == 2) {
        bins_by_groups(grouped + (j0 + jj) * 64, vals[jj], bins);
      } else {
        bins_of(edges + (j0 + jj) * kEdges, vals[jj], bins);
      }
      for (std::size_t i = 0; i < g; ++i) ++hj[bins[i]];
    }
  }
}

/// The median's position in [0, 1] from one histogram of kBins counts
/// (linear inside its bin); `none` when the histogram is empty.
double median_quantile(const std::int64_t* h, double none) {
  std::int64_t total = 0;
  for (std::size_t b = 0; b < kBins; ++b) total += h[b];
  if (total == 0) return none;
  const double half = 0.5 * static_cast<double>(total);
  double before = 0.0;
  for (std::size_t b = 0; b < kBins; ++b) {
    const double here = static_cast<double>(h[b]);
    if (before + here >= half) return (static_cast<double>(b) + (here > 0 ? (half - before) / here : 0.5)) / kBins;
    before += here;
  }
  return none;
}

}  // namespace

std::vector<double> cluster_median_quantiles(const Matrix& z, const std::vector<std::int32_t>& labels, int k,
                                             const std::vector<FeatureSummary>& profile, const StandardScaler& scaler,
                                             int threads, const RowSplit* split) {
  const std::size_t d = z.cols, n = z.rows, kk = static_cast<std::size_t>(k);
  // Inner bin edges per feature in z units (kEdges of them, d x kEdges), so
  // value v falls in bin upper_bound(edges, v) (ties with an edge go up); a
  // feature without QQ data (no rows) has none: every value in bin 0.
  // has_edges: 0 none, 1 edges counted one by one (bins_of), 2 edges in
  // order, also grouped by eight (bins_by_groups, the usual case).
  std::vector<float> edges(d * kEdges), grouped(d * 64);
  std::vector<char> has_edges(d, 0);
  for (std::size_t j = 0; j < d; ++j) {
    const std::vector<double>& s = profile[j].qq.sample;
    if (s.empty()) continue;
    for (std::size_t b = 1; b < kBins; ++b) {
      const double x = s[(b * (s.size() - 1) + kBins / 2) / kBins];
      edges[j * kEdges + b - 1] = static_cast<float>((x - scaler.mean[j]) / scaler.scale[j]);
    }
    const float* e = edges.data() + j * kEdges;
    bool in_order = true;  // and no NaN: every edge <= the next
    for (std::size_t b = 0; b + 1 < kEdges; ++b) in_order = in_order && e[b] <= e[b + 1];
    has_edges[j] = in_order ? 2 : 1;
    group_edges(e, grouped.data() + j * 64);
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
  std::vector<double> q(kk * d, 0.5);
  const std::size_t chunks = (d + kFeatureChunk - 1) / kFeatureChunk;
  const int nt = std::max(1, threads > 0 ? threads : omp_get_max_threads());
  if (!split) {
    // One process: each task's histograms (one cluster, kFeatureChunk
    // features) in its own small table, read off at once; the table of
    // every cluster and feature (k x d x 64 counts: 65 MB at k = 500, d =
    // 256, zeroed and paged in) is needed only to add up the ranks' counts.
#pragma omp parallel for schedule(dynamic) num_threads(nt) if (n * d >= 65536)
    for (long long t = 0; t < static_cast<long long>(kk * chunks); ++t) {
      const std::size_t c = static_cast<std::size_t>(t) / chunks, j0 = static_cast<std::size_t>(t) % chunks * kFeatureChunk;
      const std::size_t w = std::min(kFeatureChunk, d - j0);
      std::int64_t h[kFeatureChunk * kBins] = {};
      count_bins(z, order.data() + start[c], start[c + 1] - start[c], j0, w, edges.data(), grouped.data(),
                 has_edges.data(), h);
      for (std::size_t jj = 0; jj < w; ++jj) q[c * d + j0 + jj] = median_quantile(h + jj * kBins, q[c * d + j0 + jj]);
    }
    return q;
  }
  std::vector<std::int64_t> counts(kk * d * kBins, 0);
#pragma omp parallel for schedule(dynamic) num_threads(nt) if (n * d >= 65536)
  for (long long t = 0; t < static_cast<long long>(kk * chunks); ++t) {
    const std::size_t c = static_cast<std::size_t>(t) / chunks, j0 = static_cast<std::size_t>(t) % chunks * kFeatureChunk;
    count_bins(z, order.data() + start[c], start[c + 1] - start[c], j0, std::min(kFeatureChunk, d - j0), edges.data(),
               grouped.data(), has_edges.data(), counts.data() + (c * d + j0) * kBins);
  }
  split->comm->allreduce_sum(counts.data(), counts.size());  // every rank's rows
  for (std::size_t x = 0; x < kk * d; ++x) q[x] = median_quantile(&counts[x * kBins], q[x]);
  return q;
}

}  // namespace archetype
