// Choosing k (step 4 of the study): fit every k in a range, score each fit
// by WCSS (elbow), silhouette, Calinski-Harabasz and Davies-Bouldin, and
// pick k by the Kneedle knee of WCSS and by the silhouette maximum.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "archetype/evaluation.hpp"
#include "archetype/kmeans.hpp"

namespace archetype {

struct SweepParams {
  int k_min = 2;                ///< first k of the sweep
  int k_max = 10;               ///< last k of the sweep (inclusive)
  KMeansParams kmeans;          ///< n_clusters is ignored; everything else applies to each k
  SilhouetteParams silhouette;  ///< exact by default
  /// Progress of the fused fits (all k and restarts at once); may be empty.
  FitProgress progress;
  /// Called after each k's scores (k, ks scored, ks in all); may be empty.
  std::function<void(int, int, int)> on_scored;
};

struct SweepPoint {
  int k = 0;
  double wcss = 0.0;  ///< inertia of the best of n_init runs
  SilhouetteResult silhouette;
  DispersionScores dispersion;
  int n_iter = 0;
  std::vector<std::int64_t> sizes;
};

struct SweepResult {
  std::vector<SweepPoint> points;
  std::optional<int> elbow_k;       ///< Kneedle knee of WCSS against k
  std::optional<int> silhouette_k;  ///< highest silhouette (lowest k on a tie)
  std::optional<KMeansResult> kept;  ///< the fit for keep_k, if in range, with its labels
};

/// `backend` must be bound to X with these grids, the same sample weights
/// (null: none) and a k_max >= params.k_max.  The fit for k == keep_k (when
/// in range) is returned whole, labels included, in `kept`: the same result
/// as fit_kmeans for that k.  With weights: weighted fits, WCSS,
/// Calinski-Harabasz and Davies-Bouldin; the silhouette ignores them
/// (evaluation.hpp).
SweepResult run_sweep(Backend& backend, MatrixView X, const FixedPoint& fp, const SweepParams& params,
                      int keep_k = 0, const WeightGrid* weights = nullptr);

}  // namespace archetype
