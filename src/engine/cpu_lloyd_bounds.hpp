// Lloyd bounds of the CPU backend: Hamerly's algorithm, made exact.
//
// For batches whose mean k and full-scan work are large enough, each slot
// (ModelBatch::slots) keeps its rows' labels from the slot's previous pass
// and a lower bound on the true distance from each row to every other
// centre.  A row keeps its label without trying the other centres when its
// computed squared distance to that centre is below
// (lower - drift)^2 x (1 - delta): drift is the most any other centre moved
// since, delta bounds the relative error of a computed squared distance.
// Every other centre's computed squared distance is then strictly larger,
// so the full scan would choose the same label whatever the tie rule, and
// the pass returns the same bits as without bounds.  The bounds hold for
// any new centres given the drift, so a slot reused by another fit is only
// loose; a different k starts it over.  When a bounded pass still had to
// scan more than half of the rows (overlapping clusters, centres still
// moving), the next pass rescans every row to refresh the bounds: stale
// bounds only get looser, and a bounded pass that scans most rows costs
// more than a plain one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "archetype/backend.hpp"
#include "engine/cpu_kernels.hpp"

namespace archetype::cpu {

/// One model's bounds for one batch pass (labels null: a plain pass).
struct ModelBounds {
  std::int32_t* labels = nullptr;  ///< the slot's n labels
  double* lower = nullptr;         ///< the slot's n lower bounds (true distances)
  double max_drift = 0.0;          ///< the most any centre moved since the slot's last pass
  double next_drift = 0.0;         ///< the most any centre but `fastest` moved
  std::int32_t fastest = -1;       ///< the centre that moved max_drift
  bool init = false;               ///< no bounds yet: scan every row, then record them
  std::int64_t* scanned = nullptr;  ///< rows of this pass that had to be scanned (atomic adds)
};

/// The slots' labels and bounds, sized once per reserve_batch.
class LloydBounds {
 public:
  /// Bounds for up to max_models models when their mean k (max_total_k /
  /// max_models) is at least kMinMeanK and a row's full scan (mean k x d)
  /// at least kMinWork, for as many models as max(kBudget, the data's
  /// n x d floats) holds (12 bytes a row a model).  Below that the scan is
  /// cheaper than the bookkeeping: measured on the benchmark's overlapping
  /// blobs, d = 16 with k = 20 took 1.5x longer with bounds, k = 100 the
  /// same, d = 8 with k = 500 0.8x.
  void reserve(std::size_t n, std::size_t d, int max_models, int max_total_k);
  void clear();
  /// Before a batch pass: each model's bounds into out (plain for a model
  /// without a slot the bounds cover).
  void plan(const ModelBatch& batch, std::size_t d, ModelBounds* out);
  /// After the pass: the slots used now describe these centres.
  void commit(const ModelBatch& batch, std::size_t d, const ModelBounds* used);

  static constexpr int kMinMeanK = 64;
  static constexpr std::size_t kMinWork = 1024;
  static constexpr std::size_t kBudget = std::size_t{256} << 20;

 private:
  std::size_t n_ = 0;
  int slots_ = 0;
  std::vector<std::int32_t> labels_;         // slot x n labels of the slot's last pass
  std::vector<double> lower_;                // slot x n lower bounds on the distance to another centre
  std::vector<std::vector<float>> centres_;  // per slot: the centres of its last pass
  std::vector<std::int64_t> scanned_;        // per slot: rows its last bounded pass scanned (-1: none)
};

/// Nearest centres of rows [r, r + m) (at x, row-major; xt: the same rows
/// transposed) of a model with bounds: labels into s.lab, squared
/// distances into s.best, the model's slot updated.
void bounded_nearest(const float* x, const float* xt, std::size_t d, std::size_t m, const float* centers, int k,
                     const ModelBounds& mb, std::size_t r, GroupScratch& s);

}  // namespace archetype::cpu
