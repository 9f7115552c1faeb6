#include "archetype/evaluation.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>

#include "engine/random.hpp"

namespace archetype {
namespace {

/// Exact mean of values in [-1, 1]: per-value rounding to a 2^e grid, then
/// an integer sum (the same bits whatever the backend or thread count).
double exact_mean(const double* v, std::size_t n) {
  if (n == 0) return 0.0;
  const int e = fixed_point_exponent(1.0, static_cast<double>(n), 62);
  std::int64_t s = 0;
  for (std::size_t i = 0; i < n; ++i) s += std::llrint(std::ldexp(v[i], e));
  return std::ldexp(static_cast<double>(s), -e) / static_cast<double>(n);
}

std::vector<std::size_t> sample_rows(std::size_t n, std::size_t m, std::uint64_t seed) {
  Rng rng(splitmix64(seed ^ 0x5111ULL));
  return sample_without_replacement(n, m, rng);
}


/// Where the labels come from: every row's (exact) or the sampled rows'.
struct LabelSource {
  std::function<const std::int32_t*(std::vector<std::int32_t>& storage)> all;
  std::function<void(const std::vector<std::size_t>& rows, std::vector<std::int32_t>& out)> some;
};

SilhouetteResult silhouette_from(Backend& backend, const Matrix& X, int k, const SilhouetteParams& params,
                                 const LabelSource& labels) {
  SilhouetteResult res;
  const std::size_t kk = static_cast<std::size_t>(k);
  Matrix sub;
  std::vector<std::int32_t> sub_labels, all_storage;
  const Matrix* Y = &X;
  const std::int32_t* lab = nullptr;
  if (params.sample_size > 0 && params.sample_size < X.rows) {
    res.rows = sample_rows(X.rows, params.sample_size, params.seed);
    sub = Matrix(res.rows.size(), X.cols);
    for (std::size_t i = 0; i < res.rows.size(); ++i)
      std::copy(X.row(res.rows[i]), X.row(res.rows[i]) + X.cols, sub.row(i));
    labels.some(res.rows, sub_labels);
    Y = &sub;
    lab = sub_labels.data();
  } else {
    lab = labels.all(all_storage);
  }
  const std::size_t n = Y->rows;
  res.evaluated = n;
  res.sampled = !res.rows.empty();
  res.cluster_means.assign(kk, 0.0);
  std::vector<std::int64_t> counts(kk, 0);
  for (std::size_t i = 0; i < n; ++i) counts[static_cast<std::size_t>(lab[i])] += 1;
  const std::size_t distinct = static_cast<std::size_t>(std::count_if(counts.begin(), counts.end(), [](std::int64_t c) { return c > 0; }));
  if (distinct < 2 || distinct > n - 1) return res;  // undefined, as in scikit-learn
  res.values.resize(n);
  backend.silhouette(*Y, lab, k, res.values.data());
  res.defined = true;
  res.score = exact_mean(res.values.data(), n);
  res.ci_low = res.ci_high = res.score;
  if (!res.rows.empty() && n > 1) {
    // Sample variance in a fixed order (the values are already deterministic).
    double ss = 0.0;
    for (double v : res.values) ss += (v - res.score) * (v - res.score);
    const double var = ss / static_cast<double>(n - 1);
    const double fpc = 1.0 - static_cast<double>(n) / static_cast<double>(X.rows);
    res.std_error = std::sqrt(var / static_cast<double>(n) * fpc);
    res.ci_low = res.score - 1.959963984540054 * res.std_error;
    res.ci_high = res.score + 1.959963984540054 * res.std_error;
  }
  std::vector<double> per;
  for (std::size_t c = 0; c < kk; ++c) {
    if (counts[c] == 0) continue;
    per.clear();
    for (std::size_t i = 0; i < n; ++i)
      if (static_cast<std::size_t>(lab[i]) == c) per.push_back(res.values[i]);
    res.cluster_means[c] = exact_mean(per.data(), per.size());
  }
  return res;
}

}  // namespace

SilhouetteResult silhouette(Backend& backend, const Matrix& X, const std::vector<std::int32_t>& labels, int k,
                            const SilhouetteParams& params) {
  LabelSource src;
  src.all = [&](std::vector<std::int32_t>&) { return labels.data(); };
  src.some = [&](const std::vector<std::size_t>& rows, std::vector<std::int32_t>& out) {
    out.resize(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) out[i] = labels[rows[i]];
  };
  return silhouette_from(backend, X, k, params, src);
}

SilhouetteResult silhouette(Backend& backend, const Matrix& X, int k, const SilhouetteParams& params) {
  LabelSource src;
  src.all = [&](std::vector<std::int32_t>& storage) {
    storage.resize(X.rows);
    backend.copy_labels(storage.data());
    return static_cast<const std::int32_t*>(storage.data());
  };
  src.some = [&](const std::vector<std::size_t>& rows, std::vector<std::int32_t>& out) {
    out.resize(rows.size());
    backend.gather_labels(rows.data(), rows.size(), out.data());
  };
  return silhouette_from(backend, X, k, params, src);
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

DispersionScores dispersion_scores(Backend& backend, const FixedPoint& fp, const KMeansResult& fit) {
  DispersionScores out;
  const std::size_t k = static_cast<std::size_t>(fit.k), d = fit.d;
  std::int64_t n = 0;
  std::size_t nonempty = 0;
  for (std::int64_t c : fit.counts) {
    n += c;
    nonempty += c > 0;
  }
  // scikit-learn's check_number_of_labels: both scores are undefined (it
  // raises) unless 2 <= labels <= rows - 1, e.g. for two rows and k = 2.
  if (nonempty < 2 || static_cast<std::int64_t>(nonempty) > n - 1) return out;
  std::vector<float> means_f(fit.means.begin(), fit.means.end());
  std::vector<std::int64_t> sq(k), root(k);
  backend.dispersion(means_f.data(), fit.k, sq.data(), root.data());

  // Calinski-Harabasz: between / within dispersion, each over its degrees
  // of freedom (scikit-learn uses the number of distinct labels).
  std::vector<double> overall(d, 0.0);
  for (std::size_t c = 0; c < k; ++c)
    for (std::size_t j = 0; j < d; ++j) overall[j] += fit.means[c * d + j] * static_cast<double>(fit.counts[c]);
  for (double& v : overall) v /= static_cast<double>(n);
  double extra = 0.0, intra = 0.0;
  for (std::size_t c = 0; c < k; ++c) {
    if (fit.counts[c] == 0) continue;
    double dist = 0.0;
    for (std::size_t j = 0; j < d; ++j) {
      const double diff = fit.means[c * d + j] - overall[j];
      dist += diff * diff;
    }
    extra += static_cast<double>(fit.counts[c]) * dist;
    intra += fp.dist_value(sq[c]);
  }
  const double kl = static_cast<double>(nonempty);
  out.calinski_harabasz = intra == 0.0 ? 1.0 : extra * (static_cast<double>(n) - kl) / (intra * (kl - 1.0));

  // Davies-Bouldin: mean over clusters of the worst (S_i + S_j) / M_ij.
  std::vector<std::size_t> live;
  for (std::size_t c = 0; c < k; ++c)
    if (fit.counts[c] > 0) live.push_back(c);
  std::vector<double> S(k, 0.0);
  bool all_s_zero = true;
  for (std::size_t c : live) {
    S[c] = fp.root_value(root[c]) / static_cast<double>(fit.counts[c]);
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
        const double diff = fit.means[a * d + j] - fit.means[b * d + j];
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

}  // namespace archetype
