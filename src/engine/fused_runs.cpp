#include "engine/fused_runs.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

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

/// The (up to) m rows farthest from their nearest centre (farthest_rows;
/// with weights, of positive weight), their values, labels and quantized
/// weights, over every process's rows when they are split.  Returns how
/// many were found.
int farthest_with_values(const RowSplit* split, MatrixView X, const float* centers, int k, int m,
                         std::int64_t* rows, std::int32_t* labels, std::vector<std::int32_t>& row_w,
                         std::vector<float>& values, const std::int32_t* weights) {
  const std::size_t d = X.cols;
  row_w.resize(static_cast<std::size_t>(m));
  int found = 0;
  if (!split) {
    found = farthest_rows(X, centers, k, m, rows, labels, weights);
    for (int e = 0; e < found; ++e) row_w[static_cast<std::size_t>(e)] = weights ? weights[rows[e]] : 1;
  } else {
    found = farthest_rows_split(*split, X, centers, k, m, rows, row_w.data(), weights);
  }
  values.resize(static_cast<std::size_t>(found) * d);
  fetch_rows(split, X, rows, static_cast<std::size_t>(found), values.data());
  if (split)
    for (int e = 0; e < found; ++e)  // what farthest_rows computes from the row itself
      labels[e] = nearest_centre(values.data() + static_cast<std::size_t>(e) * d, centers, k, d, nullptr);
  return found;
}

/// One Lloyd step of one run from its pass sums (scikit-learn's
/// _kmeans_single_lloyd).  Empty clusters (no weight: scikit-learn's
/// weight_in_clusters == 0) take the rows farthest from their nearest
/// centre, with the row's whole weight, as _relocate_empty_clusters_dense
/// does; rows of weight 0 are not candidates (scikit-learn would move one
/// and leave a zero centre).  The run
/// stops when the squared centre shift is within tol_abs; if the centres
/// moved at all, one more pass gives the labels and inertia of the final
/// centres (when they did not move, this pass's are already final: that is
/// scikit-learn's "labels unchanged" strict convergence, detected without
/// storing labels, since exact sums make equal labels give equal centres).
void lloyd_step(const RowSplit* split, MatrixView X, const FixedPoint& fp, FusedRun& run, PassSums& sums,
                int max_iter, double tol_abs, std::vector<std::int64_t>& far_rows,
                std::vector<std::int32_t>& far_labels, const std::int32_t* weights) {
  const std::size_t d = X.cols, kk = static_cast<std::size_t>(run.k);
  std::vector<int> empty;
  for (int c = 0; c < run.k; ++c)
    if (sums.counts[static_cast<std::size_t>(c)] == 0) empty.push_back(c);
  std::vector<std::pair<std::size_t, const float*>> relocated;  // (cluster, the row's values)
  std::vector<float> far_values;
  std::vector<std::int32_t> far_weights;
  if (!empty.empty()) {
    const int m = farthest_with_values(split, X, run.centers_f.data(), run.k, static_cast<int>(empty.size()),
                                       far_rows.data(), far_labels.data(), far_weights, far_values, weights);
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
      const std::int64_t w = far_weights[static_cast<std::size_t>(e)];
      for (std::size_t j = 0; j < d; ++j) {
        const std::int64_t q = w * quantize_feature(row[j], fp.feature_scale());
        sums.sums[from * d + j] -= q;
        sums.sums[to * d + j] = q;
      }
      sums.counts[from] -= w;
      sums.counts[to] = w;
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

namespace {

/// rows_at_weight over one process's quantized weights (n > 0 of them),
/// the targets below their total.
std::vector<std::int64_t> local_rows_at_weight(const std::int32_t* w, std::size_t n,
                                               const std::vector<std::int64_t>& targets) {
  std::vector<std::int64_t> rows(targets);
  std::vector<std::size_t> order(targets.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return targets[a] < targets[b]; });
  std::size_t row = 0;
  std::int64_t prefix = w[0];  // inclusive prefix of `row`
  for (std::size_t i : order) {
    while (prefix <= targets[i] && row + 1 < n) prefix += w[++row];
    rows[i] = static_cast<std::int64_t>(row);
  }
  return rows;
}

}  // namespace

std::vector<std::int64_t> rows_at_weight(const RowSplit* split, const WeightGrid* weights,
                                         const std::vector<std::int64_t>& targets) {
  // Every row weighs 1: target t is row t.  (The targets are the same on
  // every process: an empty list enters no collective anywhere.)
  if (!is_weighted(weights) || targets.empty()) return targets;
  if (!split) return local_rows_at_weight(weights->q.data(), weights->q.size(), targets);
  // Each target's process: the one whose share of the total weight, in
  // rank (= row) order, holds it; its own prefix then finds the row, which
  // is summed in from that process (zeros elsewhere), as kpp_sample does.
  const std::int64_t mine = std::accumulate(weights->q.begin(), weights->q.end(), std::int64_t{0});
  const std::vector<std::int64_t> shares = allgather_value(*split->comm, mine);
  const std::size_t me = static_cast<std::size_t>(split->comm->rank());
  std::vector<std::int64_t> local_targets, rows(targets.size(), 0);
  std::vector<std::size_t> where;
  for (std::size_t t = 0; t < targets.size(); ++t) {
    std::int64_t before = 0;
    std::size_t r = 0;
    while (r + 1 < shares.size() && before + shares[r] <= targets[t]) before += shares[r++];
    if (r != me) continue;
    local_targets.push_back(targets[t] - before);
    where.push_back(t);
  }
  if (!local_targets.empty()) {
    const std::vector<std::int64_t> local = local_rows_at_weight(weights->q.data(), weights->q.size(), local_targets);
    for (std::size_t i = 0; i < where.size(); ++i) rows[where[i]] = local[i] + static_cast<std::int64_t>(split->offset);
  }
  split->comm->allreduce_sum(rows.data(), rows.size());
  return rows;
}

void seed_fused(Backend& backend, MatrixView X, std::vector<FusedRun>& runs, const FitProgress& progress,
                long long& passes, const WeightGrid* weights) {
  const RowSplit* split = backend.row_split();  // rows split across processes: draws from all of them
  const std::size_t n = all_rows(split, X), d = X.cols, M = runs.size();
  // Draws over the total weight (the rows without weights: the same draws).
  const std::int64_t total = is_weighted(weights) ? weights->total : static_cast<std::int64_t>(n);
  int k_max = 0;
  std::vector<std::int64_t> draws;
  for (FusedRun& r : runs) {
    k_max = std::max(k_max, r.k);
    r.centers_f.assign(static_cast<std::size_t>(r.k) * d, 0.0f);
    // The first centre: a row drawn with probability proportional to its
    // weight (uniformly without weights).
    draws.push_back(static_cast<std::int64_t>(r.rng.below(static_cast<std::uint64_t>(total))));
  }
  {
    const std::vector<std::int64_t> firsts = rows_at_weight(split, weights, draws);
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
    // a centre, into targets over the total weight: any row is as good as
    // another).
    std::size_t nt = 0;
    draws.clear();
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
          draws.push_back(static_cast<std::int64_t>(
              std::min<double>(std::floor(u * static_cast<double>(total)), static_cast<double>(total - 1))));
        }
      }
    }
    batch = builder.build(runs, which, d, c);
    if (nt > 0) backend.kpp_sample(batch, targets.data(), n_targets.data(), sampled.data());
    const std::vector<std::int64_t> uniform = rows_at_weight(split, weights, draws);
    std::size_t si = 0, ui = 0;
    for (std::size_t b = 0; b < which.size(); ++b) {
      const FusedRun& run = runs[static_cast<std::size_t>(which[b])];
      for (int t = 0; t < run.n_trials; ++t) {
        const std::size_t slot = b * kMaxTrials + static_cast<std::size_t>(t);
        rows[slot] = run.potential > 0 ? sampled[si++] : uniform[ui++];
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
                 int max_iter, double tol_abs, const FitProgress& progress, long long& passes,
                 const WeightGrid* weights) {
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
        lloyd_step(split, X, fp, run, sums[b], max_iter, tol_abs, far_rows, far_labels, row_weights(weights));
      }
      if (!run.done) still.push_back(live[b]);
    }
    live.swap(still);
  }
}

}  // namespace archetype
