#include "archetype/sweep.hpp"

#include "archetype/error.hpp"
#include "archetype/kneedle.hpp"
#include "engine/fit_steps.hpp"
#include "engine/split_ops.hpp"

namespace archetype {

SweepResult run_sweep(Backend& backend, MatrixView X, const FixedPoint& fp, const SweepParams& params,
                      int keep_k, const WeightGrid* weights) {
  if (params.k_min < 1 || params.k_max < params.k_min)
    throw InputError("the k range " + std::to_string(params.k_min) + ".." + std::to_string(params.k_max) +
                     " is empty or starts below 1");
  SweepResult out;
  std::vector<int> ks;
  const std::size_t n = all_rows(backend.row_split(), X);
  for (int k = params.k_min; k <= params.k_max; ++k)
    if (static_cast<std::size_t>(k) <= n) ks.push_back(k);  // cannot have more clusters than rows
  // Every k's restarts in one fused batch: one read of the rows per Lloyd
  // round for all live models; each result equals that model's lone fit.
  std::vector<std::vector<KMeansRun>> runs =
      run_restarts(backend, X, fp, params.kmeans, ks, params.progress, weights);
  for (std::size_t i = 0; i < ks.size(); ++i) {
    const int k = ks[i];
    KMeansParams kp = params.kmeans;
    kp.n_clusters = k;
    // With its labels (moved out of the backend), scored, then dropped
    // unless kept: one k's labels on the host at a time, besides the kept.
    KMeansResult fit = finish_fit(backend, X, fp, kp, k, std::move(runs[i]), weights);
    SweepPoint p;
    p.k = k;
    p.wcss = fit.inertia;
    p.n_iter = fit.n_iter;
    p.sizes = fit.counts;
    p.dispersion = dispersion_scores(backend, fp, fit);
    p.silhouette = silhouette(backend, X, fit.labels, k, params.silhouette);
    p.silhouette.values.clear();  // per-row values are only kept for the chosen model
    p.silhouette.rows.clear();
    out.points.push_back(std::move(p));
    if (k == keep_k) out.kept = std::move(fit);  // with its labels
    if (params.on_scored) params.on_scored(k, static_cast<int>(i) + 1, static_cast<int>(ks.size()));
  }
  std::vector<double> xs, ys;
  for (const SweepPoint& p : out.points) {
    xs.push_back(p.k);
    ys.push_back(p.wcss);
    if (p.silhouette.defined &&
        (!out.silhouette_k || p.silhouette.score > out.points[static_cast<std::size_t>(*out.silhouette_k - out.points.front().k)].silhouette.score))
      out.silhouette_k = p.k;
  }
  if (auto knee = find_knee(xs, ys, CurveShape::ConvexDecreasing)) out.elbow_k = out.points[*knee].k;
  return out;
}

}  // namespace archetype
