#include "engine/cpu_lloyd_bounds.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <tuple>

#include "engine/cpu_clones.hpp"

namespace archetype::cpu {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr std::size_t kLanes = static_cast<std::size_t>(LloydBounds::kGroupSize);
static_assert(kLanes == kGroup, "rows_to_group holds one group tile in the lanes of a row group");
static_assert(LloydBounds::kMaxGroups <= static_cast<int>(kMaxBoundGroups),
              "GroupScratch::group_rows holds kMaxBoundGroups lists");

/// A lower bound on the true distance from a computed squared distance s:
/// the true squared distance is at least s / (1 + delta), and shrink =
/// shrink_for(delta) is below 1 / (1 + delta) (a product instead of a
/// division: these run for every row and group scanned).
ARCHETYPE_INLINE double shrink_for(double delta) { return (1.0 / (1.0 + delta)) * (1.0 - 1e-15); }
ARCHETYPE_INLINE double lower_from(float s, double shrink) {
  const double v = std::sqrt(static_cast<double>(s) * shrink) * (1.0 - 1e-12);
  return s < std::numeric_limits<float>::infinity() ? v : kInf;
}

/// max(v, 0), exactly, without a compare (so that the loops calling it
/// vectorise).
ARCHETYPE_INLINE double positive_part(double v) { return (v + std::fabs(v)) * 0.5; }

/// v (a lower bound, possibly negative) as a float no larger than v and at
/// least 0 (a bound of 0 never spares a scan): v (1 - 2^-22) rounded to the
/// nearest float is below v (the rounding is within 2^-24 of it).
ARCHETYPE_INLINE float stored_bound(double v) { return static_cast<float>(positive_part(v) * (1.0 - 0x1p-22)); }

/// Whether a row at computed squared distance d2 from its own centre must
/// scan a group whose bound is l (0 when l <= 0): unless d2 < l^2 (1 - delta).
/// keep_down = (1 - delta)(1 - 2^-22), so that the limit rounded to a float
/// is no larger than l^2 (1 - delta): a float compare, which vectorises into
/// a byte flag where a double one did not.
ARCHETYPE_INLINE std::uint8_t must_scan(float d2, double l, double keep_down) {
  const double lp = positive_part(l);
  return static_cast<std::uint8_t>(d2 >= static_cast<float>(lp * lp * keep_down));
}

/// Squared distance between centre a (floats) and point b (doubles).
double distance2(const float* a, const double* b, std::size_t d) {
  double s = 0.0;
  for (std::size_t j = 0; j < d; ++j) {
    const double diff = static_cast<double>(a[j]) - b[j];
    s += diff * diff;
  }
  return s;
}

/// Groups of the k centres (row-major, d floats each): three rounds of
/// Lloyd on the centres themselves (double precision, in index order, ties
/// to the lowest group) from the centres at indices g k / G, then each
/// centre placed in the nearest group that has room (pairs in increasing
/// distance, ties by centre then group), so that no group holds more than
/// T x 16 centres.  Groups left empty are dropped.
void form_groups(const float* centers, int k, std::size_t d, int want, CentreGroups& cg) {
  const std::size_t kk = static_cast<std::size_t>(k);
  const std::size_t gg = static_cast<std::size_t>(std::max(1, std::min(want, k)));
  const std::size_t tiles = (kk + gg * kLanes - 1) / (gg * kLanes);  // per group
  const std::size_t room = tiles * kLanes;
  std::vector<std::int32_t> of(kk, 0);
  if (gg > 1) {
    std::vector<double> mean(gg * d), sum(gg * d);
    std::vector<std::size_t> count(gg);
    for (std::size_t g = 0; g < gg; ++g)
      std::copy(centers + g * kk / gg * d, centers + (g * kk / gg + 1) * d, mean.begin() + static_cast<std::ptrdiff_t>(g * d));
    for (int round = 0; round < 3; ++round) {
      std::fill(sum.begin(), sum.end(), 0.0);
      std::fill(count.begin(), count.end(), 0);
      for (std::size_t c = 0; c < kk; ++c) {
        double best = kInf;
        std::size_t at = 0;
        for (std::size_t g = 0; g < gg; ++g) {
          const double s = distance2(centers + c * d, mean.data() + g * d, d);
          if (s < best) best = s, at = g;
        }
        ++count[at];
        for (std::size_t j = 0; j < d; ++j) sum[at * d + j] += centers[c * d + j];
      }
      for (std::size_t g = 0; g < gg; ++g)
        if (count[g] > 0)
          for (std::size_t j = 0; j < d; ++j) mean[g * d + j] = sum[g * d + j] / static_cast<double>(count[g]);
    }
    std::vector<std::tuple<double, std::int32_t, std::int32_t>> pairs;
    pairs.reserve(kk * gg);
    for (std::size_t c = 0; c < kk; ++c)
      for (std::size_t g = 0; g < gg; ++g)
        pairs.emplace_back(distance2(centers + c * d, mean.data() + g * d, d), static_cast<std::int32_t>(c),
                           static_cast<std::int32_t>(g));
    std::sort(pairs.begin(), pairs.end());
    std::vector<std::size_t> filled(gg, 0);
    std::vector<bool> placed(kk, false);
    for (const auto& [dist, c, g] : pairs) {
      (void)dist;
      const std::size_t cu = static_cast<std::size_t>(c), gu = static_cast<std::size_t>(g);
      if (placed[cu] || filled[gu] == room) continue;
      placed[cu] = true;
      ++filled[gu];
      of[cu] = g;
    }
  }
  // Each group's centres in increasing index, padded to whole tiles.
  std::vector<std::vector<std::int32_t>> members(gg);
  for (std::size_t c = 0; c < kk; ++c) members[static_cast<std::size_t>(of[c])].push_back(static_cast<std::int32_t>(c));
  cg.index.clear();
  cg.first_tile.assign(1, 0);
  cg.members.clear();
  cg.group_of.assign(kk, 0);
  int used = 0;
  for (const std::vector<std::int32_t>& mem : members) {
    if (mem.empty()) continue;
    for (std::int32_t c : mem) {
      cg.group_of[static_cast<std::size_t>(c)] = used;
      cg.index.push_back(c);
    }
    while (cg.index.size() % kLanes != 0) cg.index.push_back(-1);
    cg.first_tile.push_back(static_cast<int>(cg.index.size() / kLanes));
    cg.members.push_back(static_cast<int>(mem.size()));
    ++used;
  }
  cg.groups = used;
  cg.drift.assign(static_cast<std::size_t>(used), 0.0);
  cg.next_drift.assign(static_cast<std::size_t>(used), 0.0);
  cg.fastest.assign(static_cast<std::size_t>(used), -1);
  cg.ct.resize(cg.index.size() * d);
}

/// The tiles' centres for this pass, transposed (padding lanes +inf).
void fill_tiles(const float* centers, std::size_t d, CentreGroups& cg) {
  const float inf = std::numeric_limits<float>::infinity();
  for (std::size_t e = 0; e < cg.index.size(); ++e) {
    float* tile = cg.ct.data() + e / kLanes * kLanes * d;
    const std::size_t lane = e % kLanes;
    const std::int32_t c = cg.index[e];
    for (std::size_t j = 0; j < d; ++j)
      tile[j * kLanes + lane] = c < 0 ? inf : centers[static_cast<std::size_t>(c) * d + j];
  }
}

/// Each group's largest and second largest move of a centre from prev to
/// centers (true distances, rounded up).
void group_drifts(const float* centers, const std::vector<float>& prev, int k, std::size_t d, CentreGroups& cg) {
  std::fill(cg.drift.begin(), cg.drift.end(), 0.0);
  std::fill(cg.next_drift.begin(), cg.next_drift.end(), 0.0);
  std::fill(cg.fastest.begin(), cg.fastest.end(), -1);
  for (int c = 0; c < k; ++c) {
    double s = 0.0;
    for (std::size_t j = 0; j < d; ++j) {
      const std::size_t at = static_cast<std::size_t>(c) * d + j;
      const double diff = static_cast<double>(centers[at]) - prev[at];
      s += diff * diff;
    }
    const double moved = std::sqrt(s);
    const std::size_t g = static_cast<std::size_t>(cg.group_of[static_cast<std::size_t>(c)]);
    if (moved > cg.drift[g]) {
      cg.next_drift[g] = cg.drift[g];
      cg.drift[g] = moved;
      cg.fastest[g] = c;
    } else if (moved > cg.next_drift[g]) {
      cg.next_drift[g] = moved;
    }
  }
  for (std::size_t g = 0; g < cg.drift.size(); ++g) {  // double rounding, to spare
    cg.drift[g] = cg.drift[g] * (1.0 + 1e-12) + 1e-300;
    cg.next_drift[g] = cg.next_drift[g] * (1.0 + 1e-12) + 1e-300;
  }
}

/// Group g's smallest squared distance and, where it is at most the row's
/// threshold thr[list[q]] (the row's best so far), its centre (label) and
/// the group's second smallest, for the `count` rows x[list[q] * d ..]:
/// tile by tile, the later tiles' centres having the larger indices
/// (strict <).
ARCHETYPE_INLINE void scan_group(const float* x, std::size_t d, const CentreGroups& cg, std::size_t g,
                                 const std::int32_t* list, std::size_t count, const float* thr, std::int32_t* lab,
                                 float* best, float* second) {
  const std::size_t t0 = static_cast<std::size_t>(cg.first_tile[g]), t1 = static_cast<std::size_t>(cg.first_tile[g + 1]);
  std::int32_t lt[kBlock];
  float bt[kBlock], st[kBlock];
  for (std::size_t t = t0; t < t1; ++t) {
    const float* tile = cg.ct.data() + t * kLanes * d;
    const std::int32_t* index = cg.index.data() + t * kLanes;
    if (t == t0) {
      rows_to_group(x, d, list, count, tile, thr, lab, best, second);
      for (std::size_t q = 0; q < count; ++q) lab[q] = index[lab[q]];
      continue;
    }
    rows_to_group(x, d, list, count, tile, thr, lt, bt, st);
    for (std::size_t q = 0; q < count; ++q) {
      if (bt[q] < best[q]) {
        second[q] = std::min(best[q], st[q]);
        best[q] = bt[q];
        lab[q] = index[lt[q]];
      } else {
        second[q] = std::min(second[q], bt[q]);
      }
    }
  }
}

}  // namespace

int LloydBounds::groups_for(int k, int cap) {
  return std::max(1, std::min({(k + kGroupSize - 1) / kGroupSize, cap, kMaxGroups}));
}

void LloydBounds::reserve(std::size_t n, std::size_t d, int max_models, int max_total_k, int k_max) {
  n_ = n;
  slots_ = 0;
  cap_ = 1;
  const std::size_t models = static_cast<std::size_t>(std::max(max_models, 1));
  const std::size_t mean_k = static_cast<std::size_t>(std::max(max_total_k, 0)) / models;
  if (n > 0 && max_models > 0 && mean_k >= static_cast<std::size_t>(kMinMeanK) && mean_k * d >= kMinWork) {
    // As many groups as every model's slot can have within the budget (at
    // least one: Hamerly's bound), then as many slots as fit.
    const std::size_t budget = std::max(kBudget, n * d * sizeof(float));
    const std::size_t per_row = budget / (n * models * sizeof(float));
    const int fit = per_row > 1 ? static_cast<int>(std::min<std::size_t>(per_row - 1, kMaxGroups)) : 1;
    cap_ = groups_for(std::max(k_max, 1), fit);
    const std::size_t per_model = n * sizeof(float) * (1 + static_cast<std::size_t>(cap_));
    slots_ = static_cast<int>(std::min<std::size_t>(models, budget / per_model));
  }
  labels_.assign(static_cast<std::size_t>(slots_) * n, 0);
  lower_.assign(static_cast<std::size_t>(slots_) * n * static_cast<std::size_t>(cap_), 0.0f);
  centres_.assign(static_cast<std::size_t>(slots_), {});
  groups_.assign(static_cast<std::size_t>(slots_), CentreGroups{});
  scanned_.assign(static_cast<std::size_t>(slots_), -1);
}

void LloydBounds::clear() {
  slots_ = 0;
  labels_.clear();
  labels_.shrink_to_fit();
  lower_.clear();
  lower_.shrink_to_fit();
  centres_.clear();
  groups_.clear();
  scanned_.clear();
}

void LloydBounds::plan(const ModelBatch& batch, std::size_t d, ModelBounds* out) {
  const float* centers = batch.centers;
  for (int b = 0; b < batch.models; ++b) {
    const int k = batch.ks[b];
    const std::size_t kd = static_cast<std::size_t>(k) * d;
    ModelBounds& mb = out[b];
    mb = ModelBounds{};
    const int slot = batch.slots ? batch.slots[b] : -1;
    if (slot >= 0 && slot < slots_) {
      const std::size_t sl = static_cast<std::size_t>(slot);
      CentreGroups& cg = groups_[sl];
      mb.labels = labels_.data() + sl * n_;
      mb.lower = lower_.data() + sl * n_ * static_cast<std::size_t>(cap_);
      mb.rows = n_;
      mb.groups = &cg;
      const std::vector<float>& prev = centres_[sl];
      // A new k, or a last bounded pass that computed nearly all of the
      // full scan's distances (a slot taken over by another fit): regroup
      // and rescan every row.  Not sooner: a scanned group's bound is
      // tight again after the pass, and on overlapping clusters a pass
      // that computes 50-90% still costs less than the rescan (measured:
      // at half, 12,000 x 64, k = 100 rescanned every other pass).
      mb.init = prev.size() != kd || scanned_[sl] * 10 > static_cast<std::int64_t>(n_) * k * 9;
      if (mb.init) {
        form_groups(centers, k, d, groups_for(k, cap_), cg);
      } else {
        group_drifts(centers, prev, k, d, cg);
      }
      fill_tiles(centers, d, cg);
      scanned_[sl] = mb.init ? -1 : 0;
      mb.scanned = mb.init ? nullptr : &scanned_[sl];
    }
    centers += kd;
  }
}

void LloydBounds::commit(const ModelBatch& batch, std::size_t d, const ModelBounds* used) {
  const float* centers = batch.centers;
  for (int b = 0; b < batch.models; ++b) {
    const std::size_t kd = static_cast<std::size_t>(batch.ks[b]) * d;
    if (used[b].labels) centres_[static_cast<std::size_t>(batch.slots[b])].assign(centers, centers + kd);
    centers += kd;
  }
}

// Cloned like the kernels it calls: its per-row, per-group bound updates
// and tests (double arithmetic over the block's rows) ran as baseline
// SSE2 code, two doubles an instruction, a quarter of a bounded fit at
// d = 32, k = 100.  Same IEEE operations in every clone: the same bounds.
ARCHETYPE_CLONES
void bounded_nearest(const float* x, const float* xt, std::size_t d, std::size_t m, const float* centers, int k,
                     const ModelBounds& mb, std::size_t r, GroupScratch& s) {
  // Relative error of a computed squared distance: each of the d terms and
  // the running sum round once or twice (2^-24 each); twice that, to spare.
  const double delta = static_cast<double>(d + 4) * std::ldexp(1.0, -23);
  const double shrink = shrink_for(delta);
  const CentreGroups& cg = *mb.groups;
  const std::size_t G = static_cast<std::size_t>(cg.groups);
  std::int32_t* __restrict lab = mb.labels + r;
  // Group g's bound of block row i at low[g * n + i] (group-major: each
  // group's test runs over the block's rows in one vector loop).
  float* __restrict low = mb.lower + r;
  const std::size_t n = mb.rows;
  float* __restrict best = s.best;  // the row's best so far, then its nearest
  std::int32_t* __restrict out = s.lab;
  // Per row: the group its best came from by a scan (-1: its own centre,
  // not scanned) and that group's second distance.
  float* __restrict sec = s.second;
  std::int32_t from[kBlock];
  auto take = [&](std::size_t i, float b, std::int32_t c, std::int32_t g, float second) __attribute__((always_inline)) {
    // The lowest index among the smallest distances (c == out[i]: the own
    // centre found again by its group's scan, which records the group).
    if (b < best[i] || (b == best[i] && c <= out[i])) {
      best[i] = b;
      out[i] = c;
      from[i] = g;
      sec[i] = second;
    }
  };
  std::int32_t l2[kBlock];
  float b2[kBlock], s2[kBlock];
  if (mb.init) {
    std::int32_t* all = s.idx;
    for (std::size_t i = 0; i < m; ++i) {
      all[i] = static_cast<std::int32_t>(i);
      best[i] = std::numeric_limits<float>::infinity();
      out[i] = k;
      from[i] = -1;
    }
    for (std::size_t g = 0; g < G; ++g) {
      scan_group(x, d, cg, g, all, m, best, l2, b2, s2);
      for (std::size_t i = 0; i < m; ++i) {
        low[g * n + i] = stored_bound(lower_from(b2[i], shrink));
        take(i, b2[i], l2[i], static_cast<std::int32_t>(g), s2[i]);
      }
    }
    for (std::size_t i = 0; i < m; ++i) {
      low[static_cast<std::size_t>(from[i]) * n + i] = stored_bound(lower_from(sec[i], shrink));
      lab[i] = out[i];
    }
    return;
  }
  float own[kBlock];
  assigned_distances(xt, d, m, centers, lab, best, s.aux.data());
  // Each group's bounds lowered by its drift; the rows whose bound no
  // longer spares the group, listed per group.
  std::size_t count[kMaxBoundGroups] = {};
  std::int32_t* rows = s.group_rows.data();
  bool own_scanned[kBlock];
  std::int32_t own_group[kBlock];
  // need[g * kBlock + i]: row i's bound no longer spares group g.
  std::uint8_t* need = s.need.data();
  const double keep_down = (1.0 - delta) * (1.0 - 0x1p-22);
  // The rows of the centre that moved most in its group: their bound on
  // the own group excludes that centre, so it moves by the most any other
  // centre of the group moved (next_drift).  Taken before the group loops
  // overwrite the bounds.
  std::int32_t fast_rows[kBlock];
  double fast_bound[kBlock];
  std::size_t fast = 0;
  for (std::size_t i = 0; i < m; ++i) {
    const std::int32_t a = lab[i];
    const std::int32_t ga = cg.group_of[static_cast<std::size_t>(a)];
    own[i] = best[i];
    out[i] = a;
    from[i] = -1;
    own_group[i] = ga;
    const std::size_t gu = static_cast<std::size_t>(ga);
    if (a == cg.fastest[gu]) {
      fast_rows[fast] = static_cast<std::int32_t>(i);
      fast_bound[fast++] = static_cast<double>(low[gu * n + i]) - cg.next_drift[gu];
    }
  }
  // Each group's bounds lowered by the most any of its centres moved, and
  // the test, over the block's rows.
  for (std::size_t g = 0; g < G; ++g) {
    float* __restrict lo = low + g * n;
    std::uint8_t* __restrict ng = need + g * kBlock;
    const double dg = cg.drift[g];
#pragma omp simd
    for (std::size_t i = 0; i < m; ++i) {
      const double l = static_cast<double>(lo[i]) - dg;
      lo[i] = stored_bound(l);
      ng[i] = must_scan(best[i], l, keep_down);
    }
  }
  for (std::size_t f = 0; f < fast; ++f) {
    const std::size_t i = static_cast<std::size_t>(fast_rows[f]), g = static_cast<std::size_t>(own_group[i]);
    const double l = fast_bound[f];
    low[g * n + i] = stored_bound(l);
    need[g * kBlock + i] = must_scan(best[i], l, keep_down);
  }
  // Each group's list: every row is written at the list's end, which
  // advances only where the row needs the group (no branch per row), and
  // eight rows none of which needs it (most, once the centres settle) are
  // passed over with one test.
  for (std::size_t g = 0; g < G; ++g) {
    std::int32_t* list = rows + g * kBlock;
    const std::uint8_t* ng = need + g * kBlock;
    std::size_t c = 0, i = 0;
    for (; i + 8 <= m; i += 8) {
      std::uint64_t any = 0;
      std::memcpy(&any, ng + i, sizeof any);
      if (any == 0) continue;
      for (std::size_t j = i; j < i + 8; ++j) {
        list[c] = static_cast<std::int32_t>(j);
        c += ng[j];
      }
    }
    for (; i < m; ++i) {
      list[c] = static_cast<std::int32_t>(i);
      c += ng[i];
    }
    count[g] = c;
  }
  for (std::size_t i = 0; i < m; ++i)
    own_scanned[i] = need[static_cast<std::size_t>(own_group[i]) * kBlock + i] != 0;
  std::int64_t computed = 0;
  for (std::size_t g = 0; g < G; ++g) {
    const std::size_t c = count[g];
    if (c == 0) continue;
    const std::int32_t* list = rows + g * kBlock;
    scan_group(x, d, cg, g, list, c, best, l2, b2, s2);
    computed += static_cast<std::int64_t>(c) * cg.members[g];
    float bound[kBlock];
    for (std::size_t q = 0; q < c; ++q) bound[q] = stored_bound(lower_from(b2[q], shrink));
    for (std::size_t q = 0; q < c; ++q) {
      const std::size_t i = static_cast<std::size_t>(list[q]);
      low[g * n + i] = bound[q];
      take(i, b2[q], l2[q], static_cast<std::int32_t>(g), s2[q]);
    }
  }
  if (computed > 0) __atomic_fetch_add(mb.scanned, computed, __ATOMIC_RELAXED);
  for (std::size_t i = 0; i < m; ++i) {
    if (from[i] >= 0) low[static_cast<std::size_t>(from[i]) * n + i] = stored_bound(lower_from(sec[i], shrink));
    if (out[i] != lab[i] && !own_scanned[i]) {
      // The old centre is now another centre of its group, not scanned.
      float& lo = low[static_cast<std::size_t>(own_group[i]) * n + i];
      lo = std::min(lo, stored_bound(lower_from(own[i], shrink)));
    }
    lab[i] = out[i];
  }
}

}  // namespace archetype::cpu
