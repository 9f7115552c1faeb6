// The per-pass math of K-Means and of the clustering metrics, behind one
// small interface (faiss style): host code owns the algorithms (Lloyd loop,
// convergence test, empty-cluster handling, k-means++ bookkeeping, random
// numbers); a Backend only runs passes over the rows and returns exact
// integer partial sums (see fixed_point.hpp).  The CPU backend is the oracle
// for the CUDA backend: both must return the same bits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "archetype/fixed_point.hpp"
#include "archetype/matrix.hpp"

namespace archetype {

struct RowSplit;  // communicator.hpp

/// Exact partial sums of one Lloyd pass.  Integer only, so partial results
/// of several processes or devices can be all-reduced by addition.  With
/// weights (Backend::bind) every row adds w_q times its values: counts are
/// sums of w_q (rows when unweighted).
struct PassSums {
  std::vector<std::int64_t> sums;    ///< k x d sums of w_q x quantized feature per cluster
  std::vector<std::int64_t> counts;  ///< k sums of w_q per cluster (rows without weights)
  std::int64_t inertia_q = 0;        ///< sum of w_q x each row's quantized squared distance
  std::int64_t changed = 0;          ///< rows whose label differs from the previous pass

  void resize(std::size_t k, std::size_t d) {
    sums.assign(k * d, 0);
    counts.assign(k, 0);
    inertia_q = 0;
    changed = 0;
  }
};

/// Up to this many k-means++ candidates per model and pass.
constexpr int kMaxTrials = 32;

/// Several independent models evaluated together in one pass over the rows.
/// Model b uses ks[b] centres, stored after those of the models before it:
/// `centers` holds sum(ks) x d floats.  Non-owning, like a CUB argument pack.
struct ModelBatch {
  const float* centers = nullptr;
  const int* ks = nullptr;
  int models = 0;
  /// Optional: a stable id per model (0 <= slot < reserve_batch's
  /// max_models), so that a backend may keep per-model state between
  /// passes: in k-means++ passes each model's nearest-centre distances
  /// (folding in only the centres added since; k-means++ adds one per
  /// step), in Lloyd passes its labels, distance bounds and running sums
  /// (adding only what changed).  A hint: the results are the same with or
  /// without it, and a backend may ignore it.
  const int* slots = nullptr;
};

class Backend {
 public:
  virtual ~Backend() = default;

  /// "cpu" or "cuda".
  virtual std::string name() const = 0;
  /// Human description of where it runs ("2 OpenMP threads", a GPU's name).
  virtual std::string device() const = 0;
  /// Where the rows it is bound to sit when they are one process's share of
  /// a job split across processes (the distributed decorator,
  /// src/engine/distributed_backend.hpp, whose passes then return the sums
  /// over every process's rows); nullptr (every other backend): the rows
  /// are all the rows.  The engine's host code asks, so that its own work
  /// over rows (k-means++ draws, relocation, samples) spans all processes.
  virtual const RowSplit* row_split() const { return nullptr; }

  /// Binds the standardized data (a view: the values must outlive the
  /// backend's use of them; nothing is copied on the host) and sizes all
  /// per-row scratch once; k_max sizes the per-cluster scratch.  Nothing is
  /// allocated by the Lloyd and batch passes below.  May be called again
  /// (other data, grids or k_max): everything is sized anew.
  ///
  /// `weights`: n quantized sample weights (WeightGrid::q on the grid
  /// fp.weight_exp; a view like X), or null: every row weighs 1.  Every
  /// sum below then adds w_q x the row's quantized value (integer products:
  /// still exact and order-free), and k-means++ sampling walks prefix sums
  /// of w_q x q(closest); the silhouette ignores weights.
  virtual void bind(MatrixView X, const std::int32_t* weights, const FixedPoint& fp, int k_max) = 0;
  /// Unweighted: every row weighs 1.
  void bind(MatrixView X, const FixedPoint& fp, int k_max) { bind(X, nullptr, fp, k_max); }

  // ---- Lloyd --------------------------------------------------------------
  // The label store: the backend keeps the labels of its last lloyd_pass
  // (on the device for CUDA), because the next pass needs them (the CPU
  // updates running sums from the rows whose label changed) and because
  // copying n labels to the host every Lloyd iteration would cost more than
  // the pass.  One rule for every backend: only lloyd_pass writes the store,
  // reset_labels clears it, take_labels empties it; the readers
  // (copy_labels, gather_labels) are the engine's own, called in the same
  // function as the pass that wrote the labels.  No public function reads
  // labels that an earlier call left in the store: results never depend on
  // the order of calls.

  /// Sets every stored label to -1 (so the first pass counts all rows as
  /// changed).  A pass with another k than the stored labels' does the same
  /// first: stored labels belong to one k.
  virtual void reset_labels() = 0;
  /// Assigns every row to its nearest centre (k x d floats; ties go to the
  /// lowest index), stores the labels, and returns the exact sums.
  virtual void lloyd_pass(const float* centers, int k, PassSums& out) = 0;
  /// Copies the stored labels (n values).
  virtual void copy_labels(std::int32_t* out) const = 0;
  /// Moves the stored labels into `out` (n values; what `out` held is
  /// freed first), leaving the store empty on every backend: copy_labels and
  /// gather_labels throw std::logic_error until the next lloyd_pass, which
  /// starts from all -1.  Host memory holds the labels once: the CPU backend
  /// hands over its own array; the CUDA backend copies them from the device
  /// (in streaming mode from its pinned staging array, which it keeps).
  virtual void take_labels(std::vector<std::int32_t>& out) = 0;
  /// Copies the stored labels of the given rows (m values), without an
  /// n-sized copy.
  virtual void gather_labels(const std::size_t* rows, std::size_t m, std::int32_t* out) const = 0;

  // ---- fused passes over many models (the sweep) ----------------------------
  /// Sizes the scratch of the batch passes below once, for batches of up to
  /// max_models models holding up to max_total_k centres together (at most
  /// kMaxTrials k-means++ candidates per model).  Nothing is allocated by the
  /// batch passes themselves.
  virtual void reserve_batch(int max_models, int max_total_k) = 0;
  /// One Lloyd pass for every model of the batch in one read of the rows:
  /// out[b] gets model b's exact sums under nearest-centre assignment (the
  /// labels are not stored; out[b].changed is -1).  Each out[b] equals what
  /// lloyd_pass would return for that model alone.
  virtual void lloyd_batch(const ModelBatch& batch, PassSums* out) = 0;
  /// k-means++ potentials in one read of the rows.  With closest_b(i) the
  /// squared distance of row i to the nearest of model b's centres:
  /// out[o_b] = sum_i w_i q(closest_b(i)) and, for its trials[b] candidates
  /// (d floats each, model after model in `candidates`),
  /// out[o_b + 1 + t] = sum_i w_i q(min(closest_b(i), d2(row i, candidate t))),
  /// where o_b is the sum of (1 + trials) over the models before b and w_i
  /// the row's quantized weight (1 without weights).
  virtual void kpp_potentials(const ModelBatch& batch, const float* candidates, const int* trials,
                              std::int64_t* out) = 0;
  /// k-means++ sampling: for each of model b's n_targets[b] targets t
  /// (0 <= t < its potential; model after model in `targets`), the smallest
  /// row index whose inclusive prefix sum of w_i q(closest_b) exceeds t (a
  /// row of weight 0 is never drawn).
  virtual void kpp_sample(const ModelBatch& batch, const std::int64_t* targets, const int* n_targets,
                          std::int64_t* out_rows) = 0;

  // ---- metrics ----------------------------------------------------------------
  /// Per cluster, the (weighted) quantized sums of d2 and of sqrt(d2) of its rows to
  /// its centre (k x d floats), under `labels`: n host values in [0, k)
  /// (not the store: the caller says which partition it scores).
  virtual void dispersion(const float* centers, int k, const std::int32_t* labels, std::int64_t* out_sq,
                          std::int64_t* out_root) = 0;
  /// Silhouette value of every row of Y (any rows, not the bound data) under
  /// `labels` in [0, k), in the canonical order of docs/ARCHITECTURE.md;
  /// out has Y.rows values.  Rows of size-1 clusters score 0.
  virtual void silhouette(MatrixView Y, const std::int32_t* labels, int k, double* out) = 0;
};

/// The OpenMP CPU backend; threads <= 0 means OpenMP's default.
std::unique_ptr<Backend> make_cpu_backend(int threads);

}  // namespace archetype
