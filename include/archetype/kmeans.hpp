// K-Means with greedy k-means++ seeding and Lloyd iterations, following
// scikit-learn's KMeans(algorithm="lloyd") semantics; the loop,
// convergence test and empty-cluster handling live here, once, and the
// per-pass math is the Backend's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "archetype/backend.hpp"
#include "archetype/fixed_point.hpp"
#include "archetype/matrix.hpp"

namespace archetype {

struct KMeansParams {
  /// Number of clusters (scikit-learn's n_clusters, default 8).
  int n_clusters = 8;
  /// Runs from different k-means++ seeds; the lowest inertia wins
  /// (scikit-learn 1.2's default n_init=10).
  int n_init = 10;
  /// Lloyd iterations per run at most (scikit-learn: 300).
  int max_iter = 300;
  /// Stop when the summed squared centre shift is at most
  /// tol * mean feature variance (scikit-learn's relative tol, 1e-4).
  double tol = 1e-4;
  /// Base seed; run r uses restart_seed(seed, r).  (scikit-learn's
  /// random_state; here always set, so results are reproducible.)
  std::uint64_t seed = 42;
  /// k-means++ candidates per centre; 0 means 2 + floor(ln k) as scikit-learn.
  int n_local_trials = 0;
  /// The stability ARI compares the runs' labels on all rows when
  /// n <= stability_rows, else on a seeded uniform sample of that many rows
  /// (memory: n_init x stability_rows labels).
  std::size_t stability_rows = 100000;
};

/// One k-means++ + Lloyd run.
struct KMeansRun {
  std::uint64_t seed = 0;
  double inertia = 0.0;
  int n_iter = 0;
  bool converged = false;  ///< stopped by tol (or unchanged centres), not by max_iter
  std::vector<double> centers;  ///< k x d final centres of this run
};

/// Agreement between the n_init runs (the study's stability analysis).
struct Stability {
  double inertia_min = 0.0, inertia_median = 0.0, inertia_max = 0.0;
  double mean_ari = 1.0;        ///< mean pairwise adjusted Rand index of the runs' labels
  std::size_t rows_compared = 0;  ///< rows the ARI compares (0 with a single run: nothing to compare)
};

struct KMeansResult {
  int k = 0;
  std::size_t d = 0;
  std::vector<double> centers;         ///< k x d final centres, scaled space
  std::vector<double> means;           ///< k x d exact means of the final labels
  std::vector<std::int32_t> labels;    ///< one per row
  std::vector<std::int64_t> counts;    ///< rows per cluster
  /// sample_weight per cluster (on its grid, WeightGrid); the counts as
  /// doubles without weights.  The means are weighted means.
  std::vector<double> weights;
  double inertia = 0.0;                ///< sum of (weighted) squared distances to the centres
  int n_iter = 0;                      ///< iterations of the best run
  int best_run = 0;
  std::vector<KMeansRun> runs;
  Stability stability;
};

/// Progress of the fused runs: stage ("seeding" or "lloyd"), models still
/// running, models in all, passes over the rows so far.
using FitProgress = std::function<void(const char* stage, int live, int models, long long passes)>;

/// Fits X, which `backend` must already be bound to with these fixed-point
/// grids, the same sample weights (null: none; FixedPoint::for_data(X,
/// weights)) and a k_max >= params.n_clusters.  The n_init runs are fused:
/// they share every pass over the rows.  The result holds the labels (moved
/// out of the backend's store: one host copy).  Throws InputError when k is
/// outside [1, n].  (Clusterer, clusterer.hpp, does the binding itself.)
///
/// With weights, scikit-learn's weighted K-Means: weighted k-means++
/// (scikit-learn 1.3's; 1.2 seeds without weights), weighted means and
/// inertia, empty clusters (no weight) refilled by the farthest rows of
/// positive weight, tol relative to the weighted mean feature variance.
/// Integer weights give the centres, labels and inertia of the rows
/// repeated w times (docs/INTERNALS.md, "Sample weights").  `progress`,
/// when set, is called before every pass (it may throw to abandon the fit).
KMeansResult fit_kmeans(Backend& backend, MatrixView X, const FixedPoint& fp, const KMeansParams& params,
                        const WeightGrid* weights = nullptr, const FitProgress& progress = {});

/// Labels of X under given centres (k x d doubles, rounded to float as in
/// the fit); used by predict.  Binds `backend` to X (and the weights, null:
/// none) with grids for these centres (FixedPoint::for_bounds), so a
/// backend bound before must be bound again for a fit.  Returns the
/// (weighted) inertia on those grids.
double assign_labels(Backend& backend, MatrixView X, const std::vector<double>& centers, int k,
                     std::vector<std::int32_t>& labels, const WeightGrid* weights = nullptr);

}  // namespace archetype
