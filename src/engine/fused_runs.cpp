#include "engine/fused_runs.hpp"

#include <algorithm>
#include <cmath>

#include "engine/host_assign.hpp"
#include "engine/split_ops.hpp"

namespace archetype {
namespace {

/// Batch arguments built from a list of runs, in buffers sized once.
struct BatchBuilder {
  std::vector<float> centers;
  std::vector<int> ks;
  std::vector<int> slots;  // each model's run index: a stable id for the backend's k-means++ cache

  BatchBuilder(const std::vector<FusedRun>& runs, std::size_t d) {
    std::size_t total = 0;
    for (const FusedRun& r : runs) total += static_cast<std::size_t>(r.k);
    centers.reserve(total * d);
    ks.reserve(runs.size());
    slots.reserve(runs.size());
  }
  /// The first `count` centres of each listed run (count < 0: all of them).
  ModelBatch build(const std::vector<FusedRun>& runs, const std::vector<int>& which, std::size_t d, int count) {
    centers.clear();
    ks.clear();
    slots.clear();
    for (int r : which) {
      const FusedRun& run = runs[static_cast<std::size_t>(r)];
      const int used = count < 0 ? run.k : count;
      centers.insert(centers.end(), run.centers_f.begin(),
                     run.centers_f.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(used) * d));
      ks.push_back(used);
      slots.push_back(r);
    }
    return ModelBatch{centers.data(), ks.data(), static_cast<int>(ks.size()), slots.data()};
  }
};

/// Whether a row (d values) and `center` fall on the same point of the
/// feature grid, i.e. the exact centroid sums cannot tell them apart.
bool on_its_center(const float* row, std::size_t d, const float* center, const FixedPoint& fp) {
  for (std::size_t j = 0; j < d; ++j)
    if (quantize_feature(row[j], fp.feature_scale()) != quantize_feature(center[j], fp.feature_scale()))
      return false;
  return true;
}

/// The m rows farthest from their nearest centre (farthest_rows), their
/// values and labels, over every process's rows when they are split.
void farthest_with_values(const RowSplit* split, MatrixView X, const float* centers, int k, int m,
                          std::int64_t* rows, std::int32_t* labels, std::vector<float>& values) {
  const std::size_t d = X.cols;
  values.resize(static_cast<std::size_t>(m) * d);
  if (!split) {
    farthest_rows(X, centers, k, m, rows, labels);
    fetch_rows(nullptr, X, rows, static_cast<std::size_t>(m), values.data());
    return;
  }
  farthest_rows_split(*split, X, centers, k, m, rows);
  fetch_rows(split, X, rows, static_cast<std::size_t>(m), values.data());
  for (int e = 0; e < m; ++e)  // what farthest_rows computes from the row itself
    labels[e] = nearest_centre(values.data() + static_cast<std::size_t>(e) * d, centers, k, d, nullptr);
}

/// One Lloyd step of one run from its pass sums (scikit-learn's
/// _kmeans_single_lloyd).  Empty clusters take the rows farthest from
/// their nearest centre, as _relocate_empty_clusters_dense does.  The run
/// stops when the squared centre shift is within tol_abs; if the centres
/// moved at all, one more pass gives the labels and inertia of the final
/// centres (when they did not move, this pass's are already final: that is
/// scikit-learn's "labels unchanged" strict convergence, detected without
/// storing labels, since exact sums make equal labels give equal centres).
void lloyd_step(const RowSplit* split, MatrixView X, const FixedPoint& fp, FusedRun& run, PassSums& sums,
                int max_iter, double tol_abs, std::vector<std::int64_t>& far_rows,
                std::vector<std::int32_t>& far_labels) {
  const std::size_t d = X.cols, kk = static_cast<std::size_t>(run.k);
  std::vector<int> empty;
  for (int c = 0; c < run.k; ++c)
    if (sums.counts[static_cast<std::size_t>(c)] == 0) empty.push_back(c);
  std::vector<std::pair<std::size_t, const float*>> relocated;  // (cluster, the row's values)
  std::vector<float> far_values;
  if (!empty.empty()) {
    const int m = static_cast<int>(empty.size());
    farthest_with_values(split, X, run.centers_f.data(), run.k, m, far_rows.data(), far_labels.data(), far_values);
    for (int e = 0; e < m; ++e) {
      const float* row = far_values.data() + static_cast<std::size_t>(e) * d;
      const std::size_t from = static_cast<std::size_t>(far_labels[static_cast<std::size_t>(e)]);
      const std::size_t to = static_cast<std::size_t>(empty[static_cast<std::size_t>(e)]);
      // Fewer distinct rows than k: even the farthest row sits on its
      // centre, so moving it gains nothing, and since a relocated centre is
      // the row itself while the other centres are grid-rounded means, the
      // clusters would trade the duplicates back and forth until max_iter.
      // The cluster stays empty instead (scikit-learn ends the same way: an
      // empty cluster whose centre duplicates another).
      if (on_its_center(row, d, run.centers_f.data() + from * d, fp)) continue;
      for (std::size_t j = 0; j < d; ++j) {
        const std::int64_t q = quantize_feature(row[j], fp.feature_scale());
        sums.sums[from * d + j] -= q;
        sums.sums[to * d + j] = q;
      }
      sums.counts[from] -= 1;
      sums.counts[to] = 1;
      relocated.emplace_back(to, row);
    }
  }
  centers_from_sums(sums, fp, run.k, d, run.centers, run.next);
  for (const auto& [c, row] : relocated)  // a relocated centre is the row itself, as in scikit-learn
    for (std::size_t j = 0; j < d; ++j) run.next[c * d + j] = row[j];
  double shift = 0.0;
  for (std::size_t i = 0; i < kk * d; ++i) {
    const double diff = run.next[i] - run.centers[i];
    shift += diff * diff;
  }
  const bool same = run.next == run.centers;
  run.centers.swap(run.next);
  run.centers_f.assign(run.centers.begin(), run.centers.end());  // same size: no reallocation
  ++run.n_iter;
  if (shift <= tol_abs) {
    run.converged = true;
    if (same) {
      run.inertia = fp.dist_value(sums.inertia_q);
      run.done = true;
    } else {
      run.final_pass = true;
    }
  } else if (run.n_iter >= max_iter) {
    run.final_pass = true;
  }
}

}  // namespace

void centers_from_sums(const PassSums& s, const FixedPoint& fp, int k, std::size_t d,
                       const std::vector<double>& fallback, std::vector<double>& out) {
  out.resize(static_cast<std::size_t>(k) * d);
  for (std::size_t c = 0; c < static_cast<std::size_t>(k); ++c)
    for (std::size_t j = 0; j < d; ++j)
      out[c * d + j] = s.counts[c] > 0 ? fp.feature_value(s.sums[c * d + j]) / static_cast<double>(s.counts[c])
                                       : fallback[c * d + j];
}

void seed_fused(Backend& backend, MatrixView X, std::vector<FusedRun>& runs, const FitProgress& progress,
                long long& passes) {
  const RowSplit* split = backend.row_split();  // rows split across processes: draws from all of them
  const std::size_t n = all_rows(split, X), d = X.cols, M = runs.size();
  int k_max = 0;
  std::vector<std::int64_t> firsts(M);
  for (std::size_t r = 0; r < M; ++r) {
    k_max = std::max(k_max, runs[r].k);
    runs[r].centers_f.assign(static_cast<std::size_t>(runs[r].k) * d, 0.0f);
    // The first centre: a uniformly drawn row.
    firsts[r] = static_cast<std::int64_t>(runs[r].rng.below(n));
  }
  {
    std::vector<float> rows(M * d);
    fetch_rows(split, X, firsts.data(), M, rows.data());
    for (std::size_t r = 0; r < M; ++r)
      std::copy(rows.begin() + static_cast<std::ptrdiff_t>(r * d), rows.begin() + static_cast<std::ptrdiff_t>((r + 1) * d),
                runs[r].centers_f.begin());
  }
  BatchBuilder builder(runs, d);
  std::vector<int> which(M), trials(M, 0), n_targets(M, 0);
  std::vector<float> cands(M * static_cast<std::size_t>(kMaxTrials) * d);
  std::vector<std::int64_t> targets(M * static_cast<std::size_t>(kMaxTrials)),
      rows(targets.size()), sampled(targets.size()), out(M * static_cast<std::size_t>(kMaxTrials + 1)),
      cand_rows(targets.size());
  for (std::size_t r = 0; r < M; ++r) which[r] = static_cast<int>(r);

  // The potential of each first centre.
  ModelBatch batch = builder.build(runs, which, d, 1);
  backend.kpp_potentials(batch, cands.data(), trials.data(), out.data());
  ++passes;
  for (std::size_t r = 0; r < M; ++r) runs[r].potential = out[r];

  for (int c = 1; c < k_max; ++c) {
    which.clear();
    for (std::size_t r = 0; r < M; ++r)
      if (runs[r].k > c) which.push_back(static_cast<int>(r));
    if (progress) progress("seeding", static_cast<int>(which.size()), static_cast<int>(M), passes);
    // The draws, on the host, in each run's own stream: n_trials uniforms
    // per centre, turned into potential targets (or, when every row sits on
    // a centre, directly into rows: any row is as good as another).
    std::size_t nt = 0;
    for (std::size_t b = 0; b < which.size(); ++b) {
      FusedRun& run = runs[static_cast<std::size_t>(which[b])];
      trials[b] = run.n_trials;
      n_targets[b] = run.potential > 0 ? run.n_trials : 0;
      for (int t = 0; t < run.n_trials; ++t) {
        const double u = run.rng.uniform();
        if (run.potential > 0) {
          const double scaled = std::floor(u * static_cast<double>(run.potential));
          targets[nt++] = std::min<std::int64_t>(static_cast<std::int64_t>(scaled), run.potential - 1);
        } else {
          rows[b * kMaxTrials + static_cast<std::size_t>(t)] = static_cast<std::int64_t>(
              std::min<double>(std::floor(u * static_cast<double>(n)), static_cast<double>(n - 1)));
        }
      }
    }
    batch = builder.build(runs, which, d, c);
    if (nt > 0) backend.kpp_sample(batch, targets.data(), n_targets.data(), sampled.data());
    std::size_t si = 0;
    for (std::size_t b = 0; b < which.size(); ++b) {
      const FusedRun& run = runs[static_cast<std::size_t>(which[b])];
      for (int t = 0; t < run.n_trials; ++t) {
        const std::size_t slot = b * kMaxTrials + static_cast<std::size_t>(t);
        if (run.potential > 0) rows[slot] = sampled[si++];
      }
    }
    // Candidates, model after model, and their potentials in one pass.
    std::size_t ci = 0;
    for (std::size_t b = 0; b < which.size(); ++b)
      for (int t = 0; t < trials[b]; ++t) cand_rows[ci++] = rows[b * kMaxTrials + static_cast<std::size_t>(t)];
    fetch_rows(split, X, cand_rows.data(), ci, cands.data());
    backend.kpp_potentials(batch, cands.data(), trials.data(), out.data());
    ++passes;
    // Each run keeps the candidate that lowers its potential most (the
    // first on a tie, as numpy's argmin).
    std::size_t o = 0, cbase = 0;
    for (std::size_t b = 0; b < which.size(); ++b) {
      FusedRun& run = runs[static_cast<std::size_t>(which[b])];
      const std::int64_t* pots = out.data() + o + 1;
      const int best = static_cast<int>(std::min_element(pots, pots + trials[b]) - pots);
      const float* chosen = cands.data() + (cbase + static_cast<std::size_t>(best)) * d;
      std::copy(chosen, chosen + d, run.centers_f.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(c) * d));
      run.potential = pots[best];
      o += 1 + static_cast<std::size_t>(trials[b]);
      cbase += static_cast<std::size_t>(trials[b]);
    }
  }
  for (FusedRun& r : runs) r.centers.assign(r.centers_f.begin(), r.centers_f.end());
}

void lloyd_fused(Backend& backend, MatrixView X, const FixedPoint& fp, std::vector<FusedRun>& runs,
                 int max_iter, double tol_abs, const FitProgress& progress, long long& passes) {
  const std::size_t d = X.cols, M = runs.size();
  const RowSplit* split = backend.row_split();
  int k_max = 1;
  for (const FusedRun& r : runs) k_max = std::max(k_max, r.k);
  // Everything the rounds use is sized here: nothing below allocates,
  // except on the rare empty-cluster path.
  BatchBuilder builder(runs, d);
  std::vector<PassSums> sums(M);
  for (PassSums& s : sums) {
    s.sums.reserve(static_cast<std::size_t>(k_max) * d);
    s.counts.reserve(static_cast<std::size_t>(k_max));
  }
  std::vector<std::int64_t> far_rows(static_cast<std::size_t>(k_max));
  std::vector<std::int32_t> far_labels(static_cast<std::size_t>(k_max));
  std::vector<int> live, still;
  live.reserve(M);
  still.reserve(M);
  for (std::size_t r = 0; r < M; ++r) {
    runs[r].next.reserve(runs[r].centers.size());
    live.push_back(static_cast<int>(r));
  }
  while (!live.empty()) {
    if (progress) progress("lloyd", static_cast<int>(live.size()), static_cast<int>(M), passes);
    const ModelBatch batch = builder.build(runs, live, d, -1);
    backend.lloyd_batch(batch, sums.data());
    ++passes;
    still.clear();
    for (std::size_t b = 0; b < live.size(); ++b) {
      FusedRun& run = runs[static_cast<std::size_t>(live[b])];
      if (run.final_pass) {
        run.inertia = fp.dist_value(sums[b].inertia_q);
        run.done = true;
      } else {
        lloyd_step(split, X, fp, run, sums[b], max_iter, tol_abs, far_rows, far_labels);
      }
      if (!run.done) still.push_back(live[b]);
    }
    live.swap(still);
  }
}

}  // namespace archetype
