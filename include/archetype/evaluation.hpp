// Cluster-quality metrics with scikit-learn's definitions: silhouette
// (exact or on a seeded sample), Calinski-Harabasz and Davies-Bouldin.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "archetype/backend.hpp"
#include "archetype/kmeans.hpp"
#include "archetype/matrix.hpp"

namespace archetype {

struct SilhouetteParams {
  /// 0: exact, every row against every row.  Otherwise scikit-learn's
  /// sample_size: that many rows drawn uniformly without replacement, the
  /// score computed within the sample.  Ignored when >= the row count.
  std::size_t sample_size = 0;
  /// Seed of the sample.
  std::uint64_t seed = 42;
};

struct SilhouetteResult {
  bool defined = false;                 ///< false unless 2 <= distinct labels <= rows - 1
  double score = 0.0;                   ///< mean s(i)
  std::vector<double> cluster_means;    ///< mean s(i) per cluster (0 for an empty one)
  std::vector<double> values;           ///< s(i) per evaluated row
  std::vector<std::size_t> rows;        ///< evaluated rows when sampled (empty: all rows)
  /// Rows split across processes (communicator.hpp): `values` holds only
  /// this process's evaluated rows, and values[0] belongs to evaluated row
  /// values_offset (an index into `rows` when sampled, else a row).  0 and
  /// every value in one process.
  std::size_t values_offset = 0;
  std::size_t evaluated = 0;            ///< rows evaluated
  bool sampled = false;                 ///< a sample, not every row
  /// For a sample: the standard error of the mean s(i) (with the finite
  /// population correction) and a 95% normal confidence interval; 0 and
  /// [score, score] when exact.
  double std_error = 0.0, ci_low = 0.0, ci_high = 0.0;
};

/// The sample size the workflow uses: `requested` when > 0, else none (exact)
/// up to the threshold and a sample of threshold rows above it.  `exact`
/// forces the exact value at any size.  The exact silhouette costs
/// rows^2 x (features + 4) (the 4: the square root per pair), so the
/// threshold is given for 2 features and scaled by sqrt(6 / (features + 4))
/// for more: the same work, hence the same time, at any width (50,000 rows
/// at 2 features, 27,386 at 16, 10,660 at 128).
std::size_t silhouette_sample_size(std::size_t rows, std::size_t requested, std::size_t threshold, bool exact,
                                   std::size_t features = 2);

/// Silhouette of `labels` (one per row of X, each in [0, k); InputError
/// otherwise).  Any backend, bound or not: the rows are passed in.  Sample
/// weights play no part: every row counts once, as in scikit-learn's
/// silhouette_score, which has no weights (docs/INTERNALS.md, "Sample
/// weights").
SilhouetteResult silhouette(Backend& backend, MatrixView X, const std::vector<std::int32_t>& labels,
                            int k, const SilhouetteParams& params);

struct DispersionScores {
  /// false unless 2 <= non-empty clusters <= rows - 1 (as scikit-learn);
  /// with weights: clusters of positive weight, and the total weight for rows
  bool defined = false;
  double calinski_harabasz = 0.0;
  double davies_bouldin = 0.0;
};

/// Calinski-Harabasz and Davies-Bouldin of `labels` (one per row of X,
/// each in [0, k); InputError otherwise): the exact cluster means of the
/// labels, then one backend pass for each row's distance to its mean.
/// `backend` must be bound to X with the grids fp, the same sample weights
/// (null: none) and a k_max >= k.  The labels are always passed in, never
/// read from the backend, so the result does not depend on what ran before.
///
/// With weights, both scores are scikit-learn's formulas on the rows
/// repeated w times: weighted means, weighted dispersions, and the total
/// weight in place of the number of rows (integer weights give exactly the
/// repeated rows' scores; any non-negative weights the same formulas).
DispersionScores dispersion_scores(Backend& backend, MatrixView X, const FixedPoint& fp,
                                   const std::vector<std::int32_t>& labels, int k,
                                   const WeightGrid* weights = nullptr);

/// The same for a fit with its labels (fit_kmeans returns them): its exact
/// means and weights stand in for the labels' (they are the same numbers).
DispersionScores dispersion_scores(Backend& backend, const FixedPoint& fp, const KMeansResult& fit);

}  // namespace archetype
