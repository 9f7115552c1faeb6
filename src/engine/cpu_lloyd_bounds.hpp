// Lloyd bounds of the CPU backend: Yinyang's grouped bounds (Ding et al.,
// "Yinyang K-Means", ICML 2015), made exact.
//
// For batches whose mean k and full-scan work are large enough, each slot
// (ModelBatch::slots) keeps its rows' labels from the slot's previous pass
// and, for each group of centres, a lower bound on the true distance from
// the row to every centre of the group but the row's own.  The groups are
// formed when a slot starts over (see CentreGroups): ceil(k / 16) of them,
// at most kMaxGroups and as many as the memory budget allows; one group is
// Hamerly's single bound.  A pass lowers each group's bound by the most
// any of its centres moved since, computes the row's squared distance d2
// to its own centre, and scans only the groups whose bound l fails
// d2 < l^2 x (1 - delta) (delta bounds the relative error of a computed
// squared distance).  Every centre of a group not scanned then has a
// computed squared distance strictly larger than d2, so it can neither win
// nor tie: the row's new label, the lowest index among the smallest
// computed distances of its own centre and the scanned groups, is the one
// the full scan chooses, and the pass returns the same bits as without
// bounds.  The bounds hold for any new centres given the drift, so a slot
// reused by another fit is only loose; a different k, or a bounded pass
// that still computed more than 90% of the full scan's distances (a slot
// taken over by another fit), starts it over: groups formed again from
// the current centres and every row scanned.
//
// The scans hold a group's 16 centres in the SIMD lanes and broadcast the
// row's features (rows_to_group), so that the scattered rows a group needs
// are read where they are, not gathered and transposed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "archetype/backend.hpp"
#include "engine/cpu_kernels.hpp"

namespace archetype::cpu {

/// The centres of one model grouped for a bounded pass.  Group g holds
/// tiles [first_tile[g], first_tile[g + 1]) of 16 lanes each; lane e of
/// the whole (tile e / 16, lane e % 16) is centre index[e], or -1 for a
/// padding lane (+inf in every feature: never nearest, never second).
/// Within a group, centres in increasing index, so that lane order is
/// index order.  Only how much the bounds spare depends on the grouping,
/// never the result.
struct CentreGroups {
  int groups = 0;
  std::vector<int> first_tile;         ///< groups + 1 tile offsets
  std::vector<int> members;            ///< per group: its centres (not padding)
  std::vector<std::int32_t> index;     ///< per lane of every tile: the centre, or -1
  std::vector<std::int32_t> group_of;  ///< per centre: its group
  std::vector<float> ct;               ///< per tile, d x 16 floats: this pass's centres transposed
  std::vector<double> drift;           ///< per group: the most any of its centres moved
  std::vector<double> next_drift;      ///< per group: the most any but `fastest` moved
  std::vector<std::int32_t> fastest;   ///< per group: the centre that moved drift[g]
};

/// One model's bounds for one batch pass (labels null: a plain pass).
struct ModelBounds {
  std::int32_t* labels = nullptr;        ///< the slot's n labels
  float* lower = nullptr;                ///< the slot's groups x n lower bounds (true distances), group-major
  std::size_t rows = 0;                  ///< n: the stride of `lower` from one group to the next
  const CentreGroups* groups = nullptr;  ///< the slot's groups, with this pass's centres and drifts
  bool init = false;                     ///< no bounds yet: scan every row, then record them
  std::int64_t* scanned = nullptr;       ///< (row, centre) distances this pass computed (atomic adds)
};

/// The slots' labels, bounds and groups, sized once per reserve_batch.
class LloydBounds {
 public:
  /// Bounds for up to max_models models when their mean k (max_total_k /
  /// max_models) is at least kMinMeanK and a row's full scan (mean k x d)
  /// at least kMinWork, for as many models as max(kBudget, the data's
  /// n x d floats) holds (4 bytes a row for the label and 4 a group).
  /// Below that the scan is cheaper than the bookkeeping: measured on the
  /// benchmark's overlapping blobs (Hamerly's single bound), d = 16 with
  /// k = 20 took 1.5x longer with bounds, k = 100 the same, d = 8 with
  /// k = 500 0.8x.  k_max: the largest k of any model (its groups size the
  /// slots).
  void reserve(std::size_t n, std::size_t d, int max_models, int max_total_k, int k_max);
  void clear();
  /// Before a batch pass: each model's bounds into out (plain for a model
  /// without a slot the bounds cover).
  void plan(const ModelBatch& batch, std::size_t d, ModelBounds* out);
  /// After the pass: the slots used now describe these centres.
  void commit(const ModelBatch& batch, std::size_t d, const ModelBounds* used);

  static constexpr int kMinMeanK = 64;
  static constexpr std::size_t kMinWork = 1024;
  static constexpr std::size_t kBudget = std::size_t{256} << 20;
  /// Centres a group holds (one tile of SIMD lanes), and the most groups a
  /// model has (a row's bounds are tested group by group on every pass).
  static constexpr int kGroupSize = 16;
  static constexpr int kMaxGroups = 64;

  /// Groups for k centres given `cap` bounds a row: ceil(k / kGroupSize),
  /// within 1 .. min(cap, kMaxGroups).
  static int groups_for(int k, int cap);

 private:
  std::size_t n_ = 0;
  int slots_ = 0;
  int cap_ = 1;                              // bounds a row per model slot
  std::vector<std::int32_t> labels_;         // slot x n labels of the slot's last pass
  std::vector<float> lower_;                 // slot x n x cap_ lower bounds
  std::vector<std::vector<float>> centres_;  // per slot: the centres of its last pass
  std::vector<CentreGroups> groups_;         // per slot: its groups
  std::vector<std::int64_t> scanned_;        // per slot: distances its last bounded pass computed (-1: none)
};

/// Nearest centres of rows [r, r + m) (at x, row-major; xt: the same rows
/// transposed) of a model with bounds: labels into s.lab, squared
/// distances into s.best, the model's slot updated.  centers: the model's
/// k centres in index order.
void bounded_nearest(const float* x, const float* xt, std::size_t d, std::size_t m, const float* centers, int k,
                     const ModelBounds& mb, std::size_t r, GroupScratch& s);

}  // namespace archetype::cpu
