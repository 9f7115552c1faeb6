#include "archetype/evaluation.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

#include "archetype/error.hpp"
#include "engine/fused_runs.hpp"
#include "engine/host_assign.hpp"
#include "engine/label_check.hpp"
#include "engine/random.hpp"
#include "engine/split_ops.hpp"

namespace archetype {
namespace {

/// Exact mean of values in [-1, 1]: per-value rounding to a 2^e grid, then
/// an integer sum (the same bits whatever the backend, thread count or
/// process split): exact_sum of every part, summed, then exact_mean_of_sum.
/// The integer sum of m of the n values (the grid depends on n).
std::int64_t exact_sum(const double* v, std::size_t m, std::size_t n) {
  const int e = fixed_point_exponent(1.0, static_cast<double>(n), 62);
  std::int64_t s = 0;
  for (std::size_t i = 0; i < m; ++i) s += std::llrint(std::ldexp(v[i], e));
  return s;
}
double exact_mean_of_sum(std::int64_t s, std::size_t n) {
  if (n == 0) return 0.0;
  const int e = fixed_point_exponent(1.0, static_cast<double>(n), 62);
  return std::ldexp(static_cast<double>(s), -e) / static_cast<double>(n);
}

std::vector<std::size_t> sample_rows(std::size_t n, std::size_t m, std::uint64_t seed) {
  Rng rng(splitmix64(seed ^ 0x5111ULL));
  return sample_without_replacement(n, m, rng);
}


}  // namespace

SilhouetteResult silhouette(Backend& backend, MatrixView X, const std::vector<std::int32_t>& labels, int k,
                            const SilhouetteParams& params) {
  check_labels(labels, X.rows, k);
  // Under a row split (backend.row_split()): X and labels are this
  // process's rows; the sample is drawn from all rows, each process
  // evaluates the sampled rows it holds, and the backend scores them
  // against every process's.
  const RowSplit* split = backend.row_split();
  const std::size_t n_all = all_rows(split, X), offset = split ? split->offset : 0;
  SilhouetteResult res;
  const std::size_t kk = static_cast<std::size_t>(k);
  Matrix sub;
  std::vector<std::int32_t> sub_labels;
  MatrixView Y = X;
  const std::int32_t* lab = labels.data();
  if (params.sample_size > 0 && params.sample_size < n_all) {
    res.rows = sample_rows(n_all, params.sample_size, params.seed);
    // The sample is sorted: this process's rows are one stretch of it.
    const auto lo = std::lower_bound(res.rows.begin(), res.rows.end(), offset);
    const auto hi = std::lower_bound(res.rows.begin(), res.rows.end(), offset + X.rows);
    res.values_offset = static_cast<std::size_t>(lo - res.rows.begin());
    sub = Matrix(static_cast<std::size_t>(hi - lo), X.cols);
    sub_labels.resize(sub.rows);
    for (std::size_t i = 0; i < sub.rows; ++i) {
      const std::size_t row = lo[static_cast<std::ptrdiff_t>(i)] - offset;
      std::copy(X.row(row), X.row(row) + X.cols, sub.row(i));
      sub_labels[i] = labels[row];
    }
    Y = sub;
    lab = sub_labels.data();
  } else {
    res.values_offset = offset;
  }
  const std::size_t m = Y.rows;  // rows evaluated here
  std::vector<std::int64_t> counts(kk, 0);
  for (std::size_t i = 0; i < m; ++i) counts[static_cast<std::size_t>(lab[i])] += 1;
  if (split) split->comm->allreduce_sum(counts.data(), kk);
  std::size_t n = 0;  // rows evaluated in all
  for (std::int64_t c : counts) n += static_cast<std::size_t>(c);
  res.evaluated = n;
  res.sampled = !res.rows.empty();
  res.cluster_means.assign(kk, 0.0);
  const std::size_t distinct = static_cast<std::size_t>(std::count_if(counts.begin(), counts.end(), [](std::int64_t c) { return c > 0; }));
  if (distinct < 2 || distinct > n - 1) return res;  // undefined, as in scikit-learn
  res.values.resize(m);
  backend.silhouette(Y, lab, k, res.values.data());
  res.defined = true;
  // Every exact mean is one integer sum: this process's part, then the sum of all.
  std::vector<std::int64_t> sums(kk + 1, 0);
  sums[kk] = exact_sum(res.values.data(), m, n);
  std::vector<int> exps(kk);  // each cluster's grid, from its size in all
  for (std::size_t c = 0; c < kk; ++c) exps[c] = fixed_point_exponent(1.0, static_cast<double>(counts[c]), 62);
  for (std::size_t i = 0; i < m; ++i) {
    const std::size_t c = static_cast<std::size_t>(lab[i]);
    sums[c] += std::llrint(std::ldexp(res.values[i], exps[c]));
  }
  if (split) split->comm->allreduce_sum(sums.data(), sums.size());
  res.score = exact_mean_of_sum(sums[kk], n);
  res.ci_low = res.ci_high = res.score;
  if (!res.rows.empty() && n > 1) {
    // Sample variance in a fixed order (the values are already
    // deterministic): every evaluated row's, in row order.
    const std::vector<double> all = split ? allgather_vector(*split->comm, res.values) : std::vector<double>();
    const std::vector<double>& values = split ? all : res.values;
    double ss = 0.0;
    for (double v : values) ss += (v - res.score) * (v - res.score);
    const double var = ss / static_cast<double>(n - 1);
    const double fpc = 1.0 - static_cast<double>(n) / static_cast<double>(n_all);
    res.std_error = std::sqrt(var / static_cast<double>(n) * fpc);
    // A silhouette lies in [-1, 1]: so does its interval (a tiny sample's
    // normal approximation can reach beyond).
    res.ci_low = std::max(-1.0, res.score - 1.959963984540054 * res.std_error);
    res.ci_high = std::min(1.0, res.score + 1.959963984540054 * res.std_error);
  }
  for (std::size_t c = 0; c < kk; ++c)
    if (counts[c] > 0) res.cluster_means[c] = exact_mean_of_sum(sums[c], static_cast<std::size_t>(counts[c]));
  return res;
}

namespace {

/// silhouette_sample_size's threshold for `features` features.
std::size_t silhouette_threshold_for(std::size_t threshold, std::size_t features) {
  if (features <= 2) return threshold;
  const double scale = std::sqrt(6.0 / (static_cast<double>(features) + 4.0));
  return std::max<std::size_t>(2, static_cast<std::size_t>(static_cast<double>(threshold) * scale));
}

}  // namespace

std::size_t silhouette_sample_size(std::size_t rows, std::size_t requested, std::size_t threshold, bool exact,
                                   std::size_t features) {
  if (exact) return 0;
  if (requested > 0) return requested < rows ? requested : 0;
  const std::size_t t = silhouette_threshold_for(threshold, features);
  return rows > t ? t : 0;
}

namespace {

/// Both scores from the exact cluster means and weights of `labels` (n
/// values in [0, k); `counts`: each cluster's weight, its rows without
/// weights) and one backend pass for the distances to the means.  Every
/// weight is a multiple of the weights' grid below 2^40 of it: their sum
/// is exact in double.
DispersionScores dispersion_of(Backend& backend, const FixedPoint& fp, int k_clusters, std::size_t d,
                               const std::vector<double>& means, const std::vector<double>& counts,
                               const std::int32_t* labels) {
  DispersionScores out;
  const std::size_t k = static_cast<std::size_t>(k_clusters);
  double n = 0.0;
  std::size_t nonempty = 0;
  for (double c : counts) {
    n += c;
    nonempty += c > 0.0;
  }
  // scikit-learn's check_number_of_labels: both scores are undefined (it
  // raises) unless 2 <= labels <= rows - 1, e.g. for two rows and k = 2
  // (weighted: the rows repeated w times, so the total weight).
  if (nonempty < 2 || static_cast<double>(nonempty) > n - 1.0) return out;
  std::vector<float> means_f(means.begin(), means.end());
  std::vector<std::int64_t> sq(k), root(k);
  backend.dispersion(means_f.data(), k_clusters, labels, sq.data(), root.data());

  // Calinski-Harabasz: between / within dispersion, each over its degrees
  // of freedom (scikit-learn uses the number of distinct labels).
  std::vector<double> overall(d, 0.0);
  for (std::size_t c = 0; c < k; ++c)
    for (std::size_t j = 0; j < d; ++j) overall[j] += means[c * d + j] * static_cast<double>(counts[c]);
  for (double& v : overall) v /= n;
  double extra = 0.0, intra = 0.0;
  for (std::size_t c = 0; c < k; ++c) {
    if (!(counts[c] > 0.0)) continue;
    double dist = 0.0;
    for (std::size_t j = 0; j < d; ++j) {
      const double diff = means[c * d + j] - overall[j];
      dist += diff * diff;
    }
    extra += static_cast<double>(counts[c]) * dist;
    intra += fp.dist_value(sq[c]);
  }
  const double kl = static_cast<double>(nonempty);
  out.calinski_harabasz = intra == 0.0 ? 1.0 : extra * (n - kl) / (intra * (kl - 1.0));

  // Davies-Bouldin: mean over clusters of the worst (S_i + S_j) / M_ij.
  std::vector<std::size_t> live;
  for (std::size_t c = 0; c < k; ++c)
    if (counts[c] > 0.0) live.push_back(c);
  std::vector<double> S(k, 0.0);
  bool all_s_zero = true;
  for (std::size_t c : live) {
    S[c] = fp.root_value(root[c]) / counts[c];
    all_s_zero = all_s_zero && std::fabs(S[c]) <= 1e-8;
  }
  double db = 0.0;
  bool all_m_zero = true;
  for (std::size_t a : live) {
    double worst = 0.0;
    for (std::size_t b : live) {
      if (a == b) continue;
      double m2 = 0.0;
      for (std::size_t j = 0; j < d; ++j) {
        const double diff = means[a * d + j] - means[b * d + j];
        m2 += diff * diff;
      }
      const double m = std::sqrt(m2);
      if (m > 1e-8) all_m_zero = false;
      if (m == 0.0) continue;  // scikit-learn treats a zero distance as infinite
      worst = std::max(worst, (S[a] + S[b]) / m);
    }
    db += worst;
  }
  out.davies_bouldin = (all_s_zero || all_m_zero) ? 0.0 : db / kl;
  out.defined = true;
  return out;
}

}  // namespace

DispersionScores dispersion_scores(Backend& backend, MatrixView X, const FixedPoint& fp,
                                   const std::vector<std::int32_t>& labels, int k, const WeightGrid* weights) {
  check_labels(labels, X.rows, k);
  PassSums sums;
  label_sums(X, labels.data(), k, fp, sums, row_weights(weights));
  if (const RowSplit* split = backend.row_split()) allreduce_pass_sums(*split->comm, &sums, 1, false);
  std::vector<double> means;
  centers_from_sums(sums, fp, k, X.cols, std::vector<double>(static_cast<std::size_t>(k) * X.cols, 0.0), means);
  std::vector<double> cluster_weights;
  for (std::int64_t c : sums.counts) cluster_weights.push_back(is_weighted(weights) ? weights->value(c) : static_cast<double>(c));
  return dispersion_of(backend, fp, k, X.cols, means, cluster_weights, labels.data());
}

DispersionScores dispersion_scores(Backend& backend, const FixedPoint& fp, const KMeansResult& fit) {
  const RowSplit* split = backend.row_split();  // then the labels are this process's rows'
  const std::size_t rows = split ? split->rows
                                 : static_cast<std::size_t>(std::accumulate(fit.counts.begin(), fit.counts.end(), std::int64_t{0}));
  if (fit.labels.size() != rows || fit.weights.size() != fit.counts.size())
    throw std::logic_error("dispersion_scores: the fit has no labels");
  return dispersion_of(backend, fp, fit.k, fit.d, fit.means, fit.weights, fit.labels.data());
}

}  // namespace archetype
