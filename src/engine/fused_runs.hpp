// The fused K-Means runs: every model of a sweep (each k, each restart)
// advances together, so that one pass over the rows serves all live models:
// greedy k-means++ seeding step by step, then Lloyd iterations, dropping
// each model as it converges.  The per-model rules (scikit-learn's Lloyd:
// relative tol, empty-cluster relocation, final E-step) live here once;
// a single fit is the batch of one model, so a model's result does not
// depend on the company it ran in (the backends' sums are exact).
#pragma once

#include <cstdint>
#include <vector>

#include "archetype/backend.hpp"
#include "archetype/communicator.hpp"
#include "archetype/kmeans.hpp"
#include "engine/random.hpp"

namespace archetype {

/// One model's state through seeding and Lloyd.
struct FusedRun {
  int k = 0;
  int n_trials = 0;               ///< k-means++ candidates per centre
  std::uint64_t seed = 0;
  Rng rng{0};
  std::vector<double> centers;    ///< k x d, scaled space
  std::vector<float> centers_f;   ///< the same, as the backends read them
  std::vector<double> next;       ///< scratch: the next centres
  std::int64_t potential = 0;     ///< k-means++ potential of the chosen centres
  int n_iter = 0;
  bool converged = false;
  bool final_pass = false;        ///< one more assignment for the final inertia
  bool done = false;
  double inertia = 0.0;
};

/// Centres from exact sums (k x d); a cluster without rows keeps `fallback`.
void centers_from_sums(const PassSums& s, const FixedPoint& fp, int k, std::size_t d,
                       const std::vector<double>& fallback, std::vector<double>& out);

/// Seeds every run (greedy k-means++) with one kpp_sample and one
/// kpp_potentials pass per centre index for all runs still seeding.  With
/// weights (the backend bound with the same), scikit-learn's weighted
/// k-means++: the first centre drawn with probability proportional to the
/// weight, the candidates to weight x D^2.
void seed_fused(Backend& backend, MatrixView X, std::vector<FusedRun>& runs, const FitProgress& progress,
                long long& passes, const WeightGrid* weights = nullptr);

/// Lloyd iterations of every run, one lloyd_batch per round for the live runs.
void lloyd_fused(Backend& backend, MatrixView X, const FixedPoint& fp, std::vector<FusedRun>& runs,
                 int max_iter, double tol_abs, const FitProgress& progress, long long& passes,
                 const WeightGrid* weights = nullptr);

/// For each target t (0 <= t < the weights' total), the smallest row whose
/// inclusive prefix sum of quantized weights exceeds t: where a uniform
/// draw over the total weight falls (rows of weight 0 never; without
/// weights, row t).  One pass over the weights for all targets.  Under a
/// split (a collective; weights: this process's rows, their total all
/// rows') the global rows, on every process.
std::vector<std::int64_t> rows_at_weight(const RowSplit* split, const WeightGrid* weights,
                                         const std::vector<std::int64_t>& targets);

}  // namespace archetype
