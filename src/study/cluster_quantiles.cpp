#include "study/cluster_quantiles.hpp"

#include <omp.h>

#include <algorithm>

namespace archetype {

std::vector<double> cluster_median_quantiles(const Matrix& z, const std::vector<std::int32_t>& labels, int k,
                                             const std::vector<FeatureSummary>& profile, const StandardScaler& scaler,
                                             int threads, const RowSplit* split) {
  const std::size_t d = z.cols, n = z.rows, kk = static_cast<std::size_t>(k);
  constexpr std::size_t kBins = 64;
  // Inner bin edges per feature in z units: kBins - 1 of them, so value v
  // falls in bin upper_bound(edges, v) (ties with an edge go up).
  std::vector<std::vector<float>> edges(d);
  for (std::size_t j = 0; j < d; ++j) {
    const std::vector<double>& s = profile[j].qq.sample;
    if (s.empty()) continue;
    for (std::size_t b = 1; b < kBins; ++b) {
      const double x = s[(b * (s.size() - 1) + kBins / 2) / kBins];
      edges[j].push_back(static_cast<float>((x - scaler.mean[j]) / scaler.scale[j]));
    }
  }
  const int nt = std::max(1, threads > 0 ? threads : omp_get_max_threads());
  std::vector<std::vector<std::int64_t>> counts(static_cast<std::size_t>(nt),
                                                std::vector<std::int64_t>(kk * d * kBins, 0));
#pragma omp parallel num_threads(nt)
  {
    std::vector<std::int64_t>& mine = counts[static_cast<std::size_t>(omp_get_thread_num())];
#pragma omp for schedule(static)
    for (long long i = 0; i < static_cast<long long>(n); ++i) {
      const std::size_t c = static_cast<std::size_t>(labels[static_cast<std::size_t>(i)]);
      const float* row = z.row(static_cast<std::size_t>(i));
      for (std::size_t j = 0; j < d; ++j) {
        const std::size_t b =
            static_cast<std::size_t>(std::upper_bound(edges[j].begin(), edges[j].end(), row[j]) - edges[j].begin());
        mine[(c * d + j) * kBins + b] += 1;
      }
    }
  }
  for (std::size_t t = 1; t < counts.size(); ++t)
    for (std::size_t x = 0; x < counts[0].size(); ++x) counts[0][x] += counts[t][x];
  if (split) split->comm->allreduce_sum(counts[0].data(), counts[0].size());  // every rank's rows
  std::vector<double> q(kk * d, 0.5);
  for (std::size_t c = 0; c < kk; ++c) {
    for (std::size_t j = 0; j < d; ++j) {
      const std::int64_t* h = &counts[0][(c * d + j) * kBins];
      std::int64_t total = 0;
      for (std::size_t b = 0; b < kBins; ++b) total += h[b];
      if (total == 0) continue;
      const double half = 0.5 * static_cast<double>(total);
      double before = 0.0;
      for (std::size_t b = 0; b < kBins; ++b) {
        const double here = static_cast<double>(h[b]);
        if (before + here >= half) {
          q[c * d + j] = (static_cast<double>(b) + (here > 0 ? (half - before) / here : 0.5)) / kBins;
          break;
        }
        before += here;
      }
    }
  }
  return q;
}

}  // namespace archetype
