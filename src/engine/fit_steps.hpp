// The two halves of a fit, private to the engine: the fused restarts of
// several k (the sweep runs them all at once) and the finishing of one k's
// fit from its runs.  fit_kmeans and run_sweep are built from them; the
// public API (kmeans.hpp, sweep.hpp, clusterer.hpp) does not show them.
#pragma once

#include <vector>

#include "archetype/backend.hpp"
#include "archetype/fixed_point.hpp"
#include "archetype/kmeans.hpp"
#include "archetype/matrix.hpp"

namespace archetype {

/// The n_init runs of every k in ks, all fused (one read of the rows per
/// Lloyd iteration for all live models, k-means++ included, models dropped
/// as they converge); result[i] holds ks[i]'s runs, each identical to
/// running that model alone.  params.n_clusters is ignored.  `weights`:
/// the sample weights the backend is bound with (null: none).
std::vector<std::vector<KMeansRun>> run_restarts(Backend& backend, MatrixView X, const FixedPoint& fp,
                                                 const KMeansParams& params, const std::vector<int>& ks,
                                                 const FitProgress& progress = {},
                                                 const WeightGrid* weights = nullptr);

/// A fit from its runs: the best run, its labels (one assignment pass,
/// then moved out of the backend's store into the result), counts,
/// weights, exact means and the stability across runs.
KMeansResult finish_fit(Backend& backend, MatrixView X, const FixedPoint& fp, const KMeansParams& params, int k,
                        std::vector<KMeansRun> runs, const WeightGrid* weights = nullptr);

}  // namespace archetype
