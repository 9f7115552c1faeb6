#include "archetype/kmeans.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

#include "archetype/error.hpp"
#include "archetype/partition_metrics.hpp"
#include "engine/fit_steps.hpp"
#include "engine/fused_runs.hpp"
#include "engine/host_assign.hpp"
#include "engine/random.hpp"
#include "engine/split_ops.hpp"

namespace archetype {
namespace {

constexpr std::size_t kVarianceBlock = 4096;

/// mean_feature_variance row by row, every feature's sums side by side
/// (blocked_sums: the rows read in order, each feature's sum its own chain
/// over blocks of rows, the same bits as a pass per feature), over rows
/// split across processes or not, weighted as one process weighs them
/// (weights: this process's rows, their total all rows').
double mean_feature_variance_by_rows(const RowSplit* split, MatrixView X, const WeightGrid* weights) {
  const std::size_t d = X.cols;
  const bool weighted = is_weighted(weights);
  const std::int32_t* wq = row_weights(weights);
  const double unit = weighted ? std::ldexp(1.0, -weights->exp) : 1.0;
  const double count = weighted ? weights->value(weights->total) : static_cast<double>(all_rows(split, X));
  const std::vector<double> sum = blocked_sums(split, X.rows, kVarianceBlock, d, [&](std::size_t i, double* out) {
    for (std::size_t j = 0; j < d; ++j) out[j] += weighted ? static_cast<double>(wq[i]) * unit * X.at(i, j) : X.at(i, j);
  });
  std::vector<double> mean(d);
  for (std::size_t j = 0; j < d; ++j) mean[j] = sum[j] / count;
  const std::vector<double> ss = blocked_sums(split, X.rows, kVarianceBlock, d, [&](std::size_t i, double* out) {
    for (std::size_t j = 0; j < d; ++j) {
      const double v = X.at(i, j) - mean[j];
      out[j] += weighted ? static_cast<double>(wq[i]) * unit * (v * v) : v * v;
    }
  });
  double total = 0.0;
  for (std::size_t j = 0; j < d; ++j) total += ss[j] / count;
  return total / static_cast<double>(d);
}

/// Mean over features of the population variance, in double with a fixed
/// order (blocks of 4096 rows, block sums added in order): scikit-learn's
/// scale for tol.  With weights, the weighted variance sum w (x - mean)^2 /
/// sum w with the quantized weights (exact in double: w_q 2^-exp), which is
/// the variance of the rows repeated w times (scikit-learn's tol ignores
/// weights); every w = 1 gives the unweighted bits (a product by 1.0 is
/// exact).
double mean_feature_variance(MatrixView X, const RowSplit* split, const WeightGrid* weights) {
  if (split) return mean_feature_variance_by_rows(split, X, weights);
  const std::size_t n = X.rows, d = X.cols, block = kVarianceBlock;
  if (n == 0 || d == 0) return 0.0;
  // Wide rows: every feature's sums at once, the rows read in order, not
  // one strided column at a time (17x faster at d = 128).
  if (d >= 8) return mean_feature_variance_by_rows(nullptr, X, weights);
  // Short rows: a pass per feature keeps each sum in a register (row by
  // row was 2x slower at d = 2).
  const std::int32_t* wq = row_weights(weights);
  const double unit = wq ? std::ldexp(1.0, -weights->exp) : 1.0;
  const double count = wq ? weights->value(weights->total) : static_cast<double>(n);
  double total = 0.0;
  for (std::size_t j = 0; j < d; ++j) {
    double sum = 0.0;
    for (std::size_t b = 0; b < n; b += block) {
      double s = 0.0;
      for (std::size_t i = b; i < std::min(n, b + block); ++i)
        s += wq ? static_cast<double>(wq[i]) * unit * X.at(i, j) : X.at(i, j);
      sum += s;
    }
    const double mean = sum / count;
    double ss = 0.0;
    for (std::size_t b = 0; b < n; b += block) {
      double s = 0.0;
      for (std::size_t i = b; i < std::min(n, b + block); ++i) {
        const double v = X.at(i, j) - mean;
        s += wq ? static_cast<double>(wq[i]) * unit * (v * v) : v * v;
      }
      ss += s;
    }
    total += ss / count;
  }
  return total / static_cast<double>(d);
}

std::vector<float> to_float(const std::vector<double>& v) {
  return std::vector<float>(v.begin(), v.end());
}

/// Every run's centres as floats, run after run (assign_rows' models).
std::vector<float> centres_of_runs(const std::vector<KMeansRun>& runs) {
  std::vector<float> all;
  for (const KMeansRun& run : runs) all.insert(all.end(), run.centers.begin(), run.centers.end());  // double -> float
  return all;
}

/// Rows compared by the stability ARI: all, or a seeded sample.
std::vector<std::size_t> stability_rows(std::size_t n, std::size_t limit, std::uint64_t seed) {
  if (n <= limit) return {};  // empty = all rows
  Rng rng(splitmix64(seed ^ 0x5AB1E5ULL));
  return sample_without_replacement(n, limit, rng);
}

/// The runs' labels on the compared rows (all rows when cmp_rows is
/// empty) when the rows are split: each rank labels the compared rows it
/// holds, run after run, and the labels are gathered into row order (the
/// sample is sorted, so each rank's rows are one stretch of it).
void stability_labels_split(const RowSplit& split, MatrixView X, const std::vector<KMeansRun>& runs, int k,
                            const std::vector<std::size_t>& cmp_rows, std::vector<std::int32_t>& run_labels) {
  const std::size_t N = split.counts.size(), n_runs = runs.size();
  const std::size_t cmp_n = cmp_rows.empty() ? split.total : cmp_rows.size();
  // Compared rows per rank, and this rank's as local indices.
  std::vector<std::size_t> per_rank(N, 0), first(N, 0);
  std::vector<std::size_t> local;
  for (std::size_t r = 0; r < N; ++r) {
    if (cmp_rows.empty()) {
      per_rank[r] = split.counts[r];
    } else {
      const auto lo = std::lower_bound(cmp_rows.begin(), cmp_rows.end(), split.starts[r]);
      const auto hi = std::lower_bound(cmp_rows.begin(), cmp_rows.end(), split.starts[r + 1]);
      per_rank[r] = static_cast<std::size_t>(hi - lo);
      first[r] = static_cast<std::size_t>(lo - cmp_rows.begin());
    }
  }
  for (std::size_t r = 1; r < N && cmp_rows.empty(); ++r) first[r] = first[r - 1] + per_rank[r - 1];
  const std::size_t me = static_cast<std::size_t>(split.comm->rank()), m = per_rank[me];
  if (!cmp_rows.empty())
    for (std::size_t i = 0; i < m; ++i) local.push_back(cmp_rows[first[me] + i] - split.offset);
  std::vector<std::int32_t> mine(n_runs * m);
  if (m > 0) assign_rows(X, local, centres_of_runs(runs).data(), k, mine.data(), static_cast<int>(n_runs));
  std::vector<std::size_t> bytes(N);
  for (std::size_t r = 0; r < N; ++r) bytes[r] = n_runs * per_rank[r] * sizeof(std::int32_t);
  std::vector<std::int32_t> all(n_runs * cmp_n);
  split.comm->allgatherv(mine.data(), bytes.data(), all.data());
  // all: rank after rank, each run after run; run_labels: run after run.
  const std::int32_t* p = all.data();
  for (std::size_t q = 0; q < N; ++q)
    for (std::size_t r = 0; r < n_runs; ++r, p += per_rank[q])
      std::copy(p, p + per_rank[q], run_labels.begin() + static_cast<std::ptrdiff_t>(r * cmp_n + first[q]));
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size();
  return m % 2 ? v[m / 2] : 0.5 * (v[m / 2 - 1] + v[m / 2]);
}

}  // namespace

std::vector<std::vector<KMeansRun>> run_restarts(Backend& backend, MatrixView X, const FixedPoint& fp,
                                                 const KMeansParams& params, const std::vector<int>& ks,
                                                 const FitProgress& progress, const WeightGrid* weights) {
  const std::size_t n = all_rows(backend.row_split(), X);
  if (params.n_init < 1) throw InputError("n_init must be at least 1");
  if (params.max_iter < 1) throw InputError("max_iter must be at least 1");
  if (!(params.tol >= 0.0)) throw InputError("tol must be >= 0");
  std::vector<FusedRun> runs;
  long long total_k = 0;  // every restart's centres together: the batch reservation
  for (int k : ks) {
    if (k < 1 || static_cast<std::size_t>(k) > n)
      throw InputError("k = " + std::to_string(k) + " is outside [1, " + std::to_string(n) + "] (the number of rows)");
    const int trials = params.n_local_trials > 0 ? params.n_local_trials
                                                 : 2 + static_cast<int>(std::log(static_cast<double>(k)));
    if (trials > kMaxTrials)
      throw InputError("n_local_trials = " + std::to_string(trials) + " exceeds " + std::to_string(kMaxTrials));
    for (int r = 0; r < params.n_init; ++r) {
      FusedRun run;
      run.k = k;
      run.n_trials = trials;
      run.seed = restart_seed(params.seed, r);
      run.rng = Rng(run.seed);
      total_k += k;
      if (total_k > std::numeric_limits<int>::max())  // checked as it grows: before n_init x |ks| runs exist
        throw InputError("the restarts would hold more than " + std::to_string(std::numeric_limits<int>::max()) +
                         " centres together (n_init x the sum of the k): lower n_init or the range of k");
      runs.push_back(std::move(run));
    }
  }
  // scikit-learn's tol is relative to the mean feature variance, the same
  // for every model: computed once.
  const double tol_abs = mean_feature_variance(X, backend.row_split(), weights) * params.tol;
  backend.reserve_batch(static_cast<int>(runs.size()), static_cast<int>(total_k));
  long long passes = 0;
  seed_fused(backend, X, runs, progress, passes, weights);
  lloyd_fused(backend, X, fp, runs, params.max_iter, tol_abs, progress, passes, weights);
  std::vector<std::vector<KMeansRun>> out(ks.size());
  std::size_t i = 0;
  for (std::size_t j = 0; j < ks.size(); ++j)
    for (int r = 0; r < params.n_init; ++r, ++i) {
      FusedRun& run = runs[i];
      out[j].push_back({run.seed, run.inertia, run.n_iter, run.converged, std::move(run.centers)});
    }
  return out;
}

KMeansResult finish_fit(Backend& backend, MatrixView X, const FixedPoint& fp, const KMeansParams& params,
                        int k, std::vector<KMeansRun> runs, const WeightGrid* weights) {
  const RowSplit* split = backend.row_split();
  const std::size_t n = all_rows(split, X), d = X.cols;
  KMeansResult res;
  res.k = k;
  res.d = d;
  res.runs = std::move(runs);
  for (std::size_t r = 0; r < res.runs.size(); ++r)
    if (r == 0 || res.runs[r].inertia < res.runs[static_cast<std::size_t>(res.best_run)].inertia)
      res.best_run = static_cast<int>(r);
  const KMeansRun& best = res.runs[static_cast<std::size_t>(res.best_run)];
  res.centers = best.centers;
  res.n_iter = best.n_iter;
  // The best run's labels: one assignment pass with its final centres gives
  // exactly the labels that run ended with; moved out of the backend.
  const std::vector<float> cf = to_float(res.centers);
  PassSums sums;
  backend.reset_labels();
  backend.lloyd_pass(cf.data(), k, sums);
  backend.take_labels(res.labels);
  if (is_weighted(weights)) {  // the pass counted weights: rows from the labels (every process's)
    res.counts.assign(static_cast<std::size_t>(k), 0);
    for (std::int32_t l : res.labels) res.counts[static_cast<std::size_t>(l)] += 1;
    if (split) split->comm->allreduce_sum(res.counts.data(), res.counts.size());
    for (std::int64_t w : sums.counts) res.weights.push_back(weights->value(w));
  } else {
    res.counts = sums.counts;
    res.weights.assign(res.counts.begin(), res.counts.end());
  }
  res.inertia = fp.dist_value(sums.inertia_q);
  centers_from_sums(sums, fp, k, d, res.centers, res.means);

  std::vector<double> inertias;
  for (const KMeansRun& run : res.runs) inertias.push_back(run.inertia);
  res.stability.inertia_min = *std::min_element(inertias.begin(), inertias.end());
  res.stability.inertia_max = *std::max_element(inertias.begin(), inertias.end());
  res.stability.inertia_median = median(inertias);
  // Each run's labels on the compared rows, from its final centres (the
  // labels it ended with: nearest centre, the backends' float operations).
  // One run has no pair to compare: no sample, no labels (mean_ari 1).
  const int n_runs = static_cast<int>(res.runs.size());
  if (n_runs < 2) return res;
  const std::vector<std::size_t> cmp_rows = stability_rows(n, params.stability_rows, params.seed);
  const std::size_t cmp_n = cmp_rows.empty() ? n : cmp_rows.size();
  res.stability.rows_compared = cmp_n;
  std::vector<std::int32_t> run_labels(static_cast<std::size_t>(n_runs) * cmp_n);
  if (split) {
    stability_labels_split(*split, X, res.runs, k, cmp_rows, run_labels);
  } else {
    assign_rows(X, cmp_rows, centres_of_runs(res.runs).data(), k, run_labels.data(), n_runs);
  }
  // Pairs in parallel, each into its own slot, summed in pair order: the
  // mean does not depend on the thread count.
  std::vector<std::pair<int, int>> pair_list;
  for (int a = 0; a < n_runs; ++a)
    for (int b = a + 1; b < n_runs; ++b) pair_list.emplace_back(a, b);
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

KMeansResult fit_kmeans(Backend& backend, MatrixView X, const FixedPoint& fp, const KMeansParams& params,
                        const WeightGrid* weights, const FitProgress& progress) {
  std::vector<std::vector<KMeansRun>> runs =
      run_restarts(backend, X, fp, params, {params.n_clusters}, progress, weights);
  return finish_fit(backend, X, fp, params, params.n_clusters, std::move(runs.front()), weights);
}

double assign_labels(Backend& backend, MatrixView X, const std::vector<double>& centers, int k,
                     std::vector<std::int32_t>& labels, const WeightGrid* weights) {
  double max_abs = 0.0, max_norm2_x = 0.0, max_norm2_c = 0.0;
  for (std::size_t i = 0; i < X.rows; ++i) {
    double s = 0.0;
    for (std::size_t j = 0; j < X.cols; ++j) {
      max_abs = std::max(max_abs, std::fabs(static_cast<double>(X.at(i, j))));
      s += static_cast<double>(X.at(i, j)) * X.at(i, j);
    }
    max_norm2_x = std::max(max_norm2_x, s);
  }
  const RowSplit* split = backend.row_split();
  if (split) {  // maxima of non-negative doubles: exact in any order
    const std::pair<double, double> all = fold_ranks(*split, std::make_pair(max_abs, max_norm2_x),
                                                     [](const std::pair<double, double>& a, const std::pair<double, double>& b) {
                                                       return std::make_pair(std::max(a.first, b.first), std::max(a.second, b.second));
                                                     });
    max_abs = all.first;
    max_norm2_x = all.second;
  }
  for (std::size_t c = 0; c < static_cast<std::size_t>(k); ++c) {
    double s = 0.0;
    for (std::size_t j = 0; j < X.cols; ++j) s += centers[c * X.cols + j] * centers[c * X.cols + j];
    max_norm2_c = std::max(max_norm2_c, s);
  }
  const double r = std::sqrt(max_norm2_x) + std::sqrt(max_norm2_c);
  const bool weighted = is_weighted(weights);
  FixedPoint fp = FixedPoint::for_bounds(max_abs, r * r,
                                         weighted ? static_cast<std::size_t>(weights->total) : all_rows(split, X));
  fp.weight_exp = weighted ? weights->exp : 0;
  backend.bind(X, row_weights(weights), fp, k);
  backend.reset_labels();
  const std::vector<float> cf = to_float(centers);
  PassSums sums;
  backend.lloyd_pass(cf.data(), k, sums);
  backend.take_labels(labels);
  return fp.dist_value(sums.inertia_q);
}

}  // namespace archetype
