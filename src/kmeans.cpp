#include "archetype/kmeans.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

#include "archetype/error.hpp"
#include "archetype/partition_metrics.hpp"
#include "random.hpp"

namespace archetype {
namespace {

/// Mean over features of the population variance, in double with a fixed
/// order (blocks of 4096 rows, block sums added in order): scikit-learn's
/// scale for tol.
double mean_feature_variance(const Matrix& X) {
  const std::size_t n = X.rows, d = X.cols, block = 4096;
  if (n == 0 || d == 0) return 0.0;
  double total = 0.0;
  for (std::size_t j = 0; j < d; ++j) {
    double sum = 0.0;
    for (std::size_t b = 0; b < n; b += block) {
      double s = 0.0;
      for (std::size_t i = b; i < std::min(n, b + block); ++i) s += X.at(i, j);
      sum += s;
    }
    const double mean = sum / static_cast<double>(n);
    double ss = 0.0;
    for (std::size_t b = 0; b < n; b += block) {
      double s = 0.0;
      for (std::size_t i = b; i < std::min(n, b + block); ++i) {
        const double v = X.at(i, j) - mean;
        s += v * v;
      }
      ss += s;
    }
    total += ss / static_cast<double>(n);
  }
  return total / static_cast<double>(d);
}

std::vector<float> to_float(const std::vector<double>& v) {
  return std::vector<float>(v.begin(), v.end());
}

/// Greedy k-means++ (scikit-learn's _kmeans_plusplus): the first centre
/// uniformly at random, then for each next centre n_trials candidates drawn
/// with probability proportional to their quantized D^2, keeping the one
/// that lowers the potential most.
std::vector<double> kmeans_plusplus(Backend& backend, const Matrix& X, int k, int n_trials, Rng& rng) {
  const std::size_t n = X.rows, d = X.cols;
  std::vector<double> centers(static_cast<std::size_t>(k) * d);
  std::vector<float> cands(static_cast<std::size_t>(n_trials) * d);
  std::vector<std::int64_t> targets(static_cast<std::size_t>(n_trials)), rows(targets.size()),
      pots(targets.size());

  auto put_row = [&](std::size_t row, float* dst) { std::copy(X.row(row), X.row(row) + d, dst); };
  const std::size_t first = static_cast<std::size_t>(rng.below(n));
  std::vector<float> c0(d);
  put_row(first, c0.data());
  std::copy(c0.begin(), c0.end(), centers.begin());
  backend.seed_distances(c0.data());
  std::int64_t pot = backend.potential();

  for (int c = 1; c < k; ++c) {
    for (int t = 0; t < n_trials; ++t) {
      const double u = rng.uniform();
      if (pot > 0) {
        const double scaled = std::floor(u * static_cast<double>(pot));
        targets[static_cast<std::size_t>(t)] = std::min<std::int64_t>(static_cast<std::int64_t>(scaled), pot - 1);
      } else {
        // Every row sits on a centre: any row is as good as another.
        rows[static_cast<std::size_t>(t)] = static_cast<std::int64_t>(std::min<double>(std::floor(u * static_cast<double>(n)), static_cast<double>(n - 1)));
      }
    }
    if (pot > 0) backend.sample_by_potential(targets.data(), n_trials, rows.data());
    for (int t = 0; t < n_trials; ++t)
      put_row(static_cast<std::size_t>(rows[static_cast<std::size_t>(t)]), cands.data() + static_cast<std::size_t>(t) * d);
    backend.trial_potentials(cands.data(), n_trials, pots.data());
    const int best = static_cast<int>(std::min_element(pots.begin(), pots.end()) - pots.begin());
    const float* chosen = cands.data() + static_cast<std::size_t>(best) * d;
    backend.commit_center(chosen);
    pot = pots[static_cast<std::size_t>(best)];
    std::copy(chosen, chosen + d, centers.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(c) * d));
  }
  return centers;
}

/// Centres from exact sums; a cluster without rows keeps `fallback`.
void centers_from_sums(const PassSums& s, const FixedPoint& fp, int k, std::size_t d,
                       const std::vector<double>& fallback, std::vector<double>& out) {
  out.resize(static_cast<std::size_t>(k) * d);
  for (std::size_t c = 0; c < static_cast<std::size_t>(k); ++c) {
    for (std::size_t j = 0; j < d; ++j) {
      out[c * d + j] = s.counts[c] > 0
                           ? fp.feature_value(s.sums[c * d + j]) / static_cast<double>(s.counts[c])
                           : fallback[c * d + j];
    }
  }
}

/// Whether row `row` of X and `center` fall on the same point of the
/// feature grid, i.e. the exact centroid sums cannot tell them apart.
bool on_its_center(const Matrix& X, std::size_t row, const float* center, const FixedPoint& fp) {
  for (std::size_t j = 0; j < X.cols; ++j)
    if (quantize_feature(X.at(row, j), fp.feature_scale()) != quantize_feature(center[j], fp.feature_scale()))
      return false;
  return true;
}

struct LloydOutcome {
  std::vector<double> centers;
  double inertia = 0.0;
  int n_iter = 0;
  bool converged = false;
};

/// scikit-learn's _kmeans_single_lloyd: iterate until the labels stop
/// changing or the squared centre shift is within tol_abs; then, unless
/// the labels were unchanged, one more assignment so that labels and
/// inertia belong to the final centres.  Empty clusters take the rows
/// farthest from their centres, as _relocate_empty_clusters_dense does.
LloydOutcome lloyd(Backend& backend, const Matrix& X, const FixedPoint& fp, std::vector<double> centers,
                   int k, int max_iter, double tol_abs, PassSums& sums) {
  const std::size_t d = X.cols, kk = static_cast<std::size_t>(k);
  std::vector<float> centers_f = to_float(centers);
  std::vector<double> next;
  // Per-iteration scratch, sized once here: nothing below allocates.
  std::vector<std::int64_t> far_rows(kk);
  std::vector<std::int32_t> far_labels(kk);
  std::vector<int> empty;
  empty.reserve(kk);
  std::vector<int> relocated_row(kk, -1);
  next.reserve(kk * d);
  LloydOutcome out;
  bool strict = false;
  backend.reset_labels();
  int it = 0;
  for (; it < max_iter; ++it) {
    backend.lloyd_pass(centers_f.data(), k, sums);
    empty.clear();
    for (int c = 0; c < k; ++c)
      if (sums.counts[static_cast<std::size_t>(c)] == 0) empty.push_back(c);
    std::fill(relocated_row.begin(), relocated_row.end(), -1);
    if (!empty.empty()) {
      const int m = static_cast<int>(empty.size());
      backend.farthest_rows(centers_f.data(), k, m, far_rows.data(), far_labels.data());
      for (int e = 0; e < m; ++e) {
        const std::size_t row = static_cast<std::size_t>(far_rows[static_cast<std::size_t>(e)]);
        const std::size_t from = static_cast<std::size_t>(far_labels[static_cast<std::size_t>(e)]);
        const std::size_t to = static_cast<std::size_t>(empty[static_cast<std::size_t>(e)]);
        // Fewer distinct rows than k: even the farthest row sits on its
        // centre, so moving it gains nothing, and since a relocated centre is
        // the row itself while the other centres are grid-rounded means, the
        // clusters would trade the duplicates back and forth until max_iter.
        // The cluster stays empty instead (scikit-learn ends the same way:
        // an empty cluster whose centre duplicates another).
        if (on_its_center(X, row, centers_f.data() + from * d, fp)) continue;
        for (std::size_t j = 0; j < d; ++j) {
          const std::int64_t q = quantize_feature(X.at(row, j), fp.feature_scale());
          sums.sums[from * d + j] -= q;
          sums.sums[to * d + j] = q;
        }
        sums.counts[from] -= 1;
        sums.counts[to] = 1;
        relocated_row[to] = static_cast<int>(row);
      }
    }
    centers_from_sums(sums, fp, k, d, centers, next);
    for (std::size_t c = 0; c < kk; ++c)  // a relocated centre is the row itself, as in scikit-learn
      if (relocated_row[c] >= 0)
        for (std::size_t j = 0; j < d; ++j) next[c * d + j] = X.at(static_cast<std::size_t>(relocated_row[c]), j);
    double shift = 0.0;
    for (std::size_t i = 0; i < next.size(); ++i) {
      const double diff = next[i] - centers[i];
      shift += diff * diff;
    }
    const bool same_centers = next == centers;
    centers.swap(next);
    centers_f.assign(centers.begin(), centers.end());  // same size: no reallocation
    if (sums.changed == 0) {
      // Unchanged labels give the same exact sums, hence the same centres,
      // so this pass's inertia is already the final one (unless a
      // relocation moved a centre).
      strict = same_centers;
      out.converged = true;
      break;
    }
    if (shift <= tol_abs) {
      out.converged = true;
      break;
    }
  }
  out.n_iter = std::min(it + 1, max_iter);
  if (!strict) backend.lloyd_pass(centers_f.data(), k, sums);
  out.inertia = fp.dist_value(sums.inertia_q);
  out.centers = std::move(centers);
  return out;
}

/// Rows compared by the stability ARI: all, or a seeded sample.
std::vector<std::size_t> stability_rows(std::size_t n, std::size_t limit, std::uint64_t seed) {
  if (n <= limit) return {};  // empty = all rows
  Rng rng(splitmix64(seed ^ 0x5AB1E5ULL));
  return sample_without_replacement(n, limit, rng);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size();
  return m % 2 ? v[m / 2] : 0.5 * (v[m / 2 - 1] + v[m / 2]);
}

}  // namespace

KMeansResult fit_kmeans(Backend& backend, const Matrix& X, const FixedPoint& fp, const KMeansParams& params) {
  const std::size_t n = X.rows, d = X.cols;
  const int k = params.n_clusters;
  if (k < 1 || static_cast<std::size_t>(k) > n)
    throw InputError("k = " + std::to_string(k) + " is outside [1, " + std::to_string(n) + "] (the number of rows)");
  if (params.n_init < 1) throw InputError("n_init must be at least 1");
  if (params.max_iter < 1) throw InputError("max_iter must be at least 1");
  if (!(params.tol >= 0.0)) throw InputError("tol must be >= 0");
  const int trials = params.n_local_trials > 0 ? params.n_local_trials
                                               : 2 + static_cast<int>(std::log(static_cast<double>(k)));
  const double tol_abs = mean_feature_variance(X) * params.tol;

  KMeansResult res;
  res.k = k;
  res.d = d;
  const std::vector<std::size_t> cmp_rows = stability_rows(n, params.stability_rows, params.seed);
  const std::size_t cmp_n = cmp_rows.empty() ? n : cmp_rows.size();
  std::vector<std::int32_t> run_labels(static_cast<std::size_t>(params.n_init) * cmp_n);
  PassSums sums;
  for (int r = 0; r < params.n_init; ++r) {
    const std::uint64_t seed = restart_seed(params.seed, r);
    Rng rng(seed);
    std::vector<double> init = kmeans_plusplus(backend, X, k, trials, rng);
    LloydOutcome o = lloyd(backend, X, fp, std::move(init), k, params.max_iter, tol_abs, sums);
    res.runs.push_back({seed, o.inertia, o.n_iter, o.converged});
    std::int32_t* dst = run_labels.data() + static_cast<std::size_t>(r) * cmp_n;
    if (cmp_rows.empty()) backend.copy_labels(dst);
    else backend.gather_labels(cmp_rows.data(), cmp_n, dst);
    if (r == 0 || o.inertia < res.inertia) {
      res.inertia = o.inertia;
      res.centers = std::move(o.centers);
      res.n_iter = o.n_iter;
      res.best_run = r;
    }
  }
  // The best run's labels: one assignment pass with its final centres gives
  // exactly the labels that run ended with.
  const std::vector<float> cf = to_float(res.centers);
  backend.lloyd_pass(cf.data(), k, sums);
  if (params.return_labels) {
    res.labels.resize(n);
    backend.copy_labels(res.labels.data());
  }
  res.counts = sums.counts;
  res.inertia = fp.dist_value(sums.inertia_q);
  centers_from_sums(sums, fp, k, d, res.centers, res.means);

  std::vector<double> inertias;
  for (const KMeansRun& run : res.runs) inertias.push_back(run.inertia);
  res.stability.inertia_min = *std::min_element(inertias.begin(), inertias.end());
  res.stability.inertia_max = *std::max_element(inertias.begin(), inertias.end());
  res.stability.inertia_median = median(inertias);
  res.stability.rows_compared = cmp_n;
  // Pairs in parallel, each into its own slot, summed in pair order: the
  // mean does not depend on the thread count.
  std::vector<std::pair<int, int>> pair_list;
  for (int a = 0; a < params.n_init; ++a)
    for (int b = a + 1; b < params.n_init; ++b) pair_list.emplace_back(a, b);
  std::vector<double> ari(pair_list.size());
  const long long pairs = static_cast<long long>(pair_list.size());
#pragma omp parallel for schedule(dynamic) if (cmp_n >= 32768)
  for (long long i = 0; i < pairs; ++i) {
    const auto [a, b] = pair_list[static_cast<std::size_t>(i)];
    ari[static_cast<std::size_t>(i)] =
        adjusted_rand_index(run_labels.data() + static_cast<std::size_t>(a) * cmp_n,
                            run_labels.data() + static_cast<std::size_t>(b) * cmp_n, cmp_n, k, k);
  }
  double ari_sum = 0.0;
  for (double v : ari) ari_sum += v;
  res.stability.mean_ari = pairs > 0 ? ari_sum / static_cast<double>(pairs) : 1.0;
  return res;
}

void restore_labels(Backend& backend, KMeansResult& fit) {
  const std::vector<float> cf = to_float(fit.centers);
  PassSums sums;
  backend.reset_labels();
  backend.lloyd_pass(cf.data(), fit.k, sums);
  if (sums.counts != fit.counts) throw std::logic_error("restore_labels: the bound data are not the fit's");
  std::size_t n = 0;
  for (std::int64_t c : fit.counts) n += static_cast<std::size_t>(c);
  fit.labels.resize(n);
  backend.copy_labels(fit.labels.data());
}

double assign_labels(Backend& backend, const Matrix& X, const std::vector<double>& centers, int k,
                     std::vector<std::int32_t>& labels) {
  double max_abs = 0.0, max_norm2_x = 0.0, max_norm2_c = 0.0;
  for (std::size_t i = 0; i < X.rows; ++i) {
    double s = 0.0;
    for (std::size_t j = 0; j < X.cols; ++j) {
      max_abs = std::max(max_abs, std::fabs(static_cast<double>(X.at(i, j))));
      s += static_cast<double>(X.at(i, j)) * X.at(i, j);
    }
    max_norm2_x = std::max(max_norm2_x, s);
  }
  for (std::size_t c = 0; c < static_cast<std::size_t>(k); ++c) {
    double s = 0.0;
    for (std::size_t j = 0; j < X.cols; ++j) s += centers[c * X.cols + j] * centers[c * X.cols + j];
    max_norm2_c = std::max(max_norm2_c, s);
  }
  const double r = std::sqrt(max_norm2_x) + std::sqrt(max_norm2_c);
  const FixedPoint fp = FixedPoint::for_bounds(max_abs, r * r, X.rows);
  backend.bind(X, fp, k);
  backend.reset_labels();
  const std::vector<float> cf = to_float(centers);
  PassSums sums;
  backend.lloyd_pass(cf.data(), k, sums);
  labels.resize(X.rows);
  backend.copy_labels(labels.data());
  return fp.dist_value(sums.inertia_q);
}

}  // namespace archetype
