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

/// Exact partial sums of one Lloyd pass.  Integer only, so partial results
/// of several processes or devices can be all-reduced by addition.
struct PassSums {
  std::vector<std::int64_t> sums;    ///< k x d quantized feature sums per cluster
  std::vector<std::int64_t> counts;  ///< k rows per cluster
  std::int64_t inertia_q = 0;        ///< quantized sum of each row's squared distance
  std::int64_t changed = 0;          ///< rows whose label differs from the previous pass

  void resize(std::size_t k, std::size_t d) {
    sums.assign(k * d, 0);
    counts.assign(k, 0);
    inertia_q = 0;
    changed = 0;
  }
};

class Backend {
 public:
  virtual ~Backend() = default;

  /// "cpu" or "cuda".
  virtual std::string name() const = 0;
  /// Human description of where it runs ("2 OpenMP threads", a GPU's name).
  virtual std::string device() const = 0;

  /// Binds the standardized data (must outlive the backend's use of it) and
  /// sizes all per-row scratch once; k_max sizes the per-cluster scratch.
  /// Nothing is allocated by the pass functions below.
  virtual void bind(const Matrix& X, const FixedPoint& fp, int k_max) = 0;

  // ---- Lloyd --------------------------------------------------------------
  /// Sets every stored label to -1 (so the first pass counts all rows as changed).
  virtual void reset_labels() = 0;
  /// Assigns every row to its nearest centre (k x d floats; ties go to the
  /// lowest index), stores the labels, and returns the exact sums.
  virtual void lloyd_pass(const float* centers, int k, PassSums& out) = 0;
  /// The m rows farthest from the centre of their stored label, farthest
  /// first, ties to the lower row index; their labels go to out_labels.
  virtual void farthest_rows(const float* centers, int k, int m, std::int64_t* out_rows,
                             std::int32_t* out_labels) = 0;
  /// Copies the stored labels (n values).
  virtual void copy_labels(std::int32_t* out) const = 0;
  /// Copies the stored labels of the given rows (m values), without an
  /// n-sized copy.
  virtual void gather_labels(const std::size_t* rows, std::size_t m, std::int32_t* out) const = 0;

  // ---- k-means++ ------------------------------------------------------------
  /// closest[i] = d2(row i, center).
  virtual void seed_distances(const float* center) = 0;
  /// For each of the m candidates c: sum over rows of q(min(closest[i], d2(row i, c))).
  virtual void trial_potentials(const float* candidates, int m, std::int64_t* out_potentials) = 0;
  /// closest[i] = min(closest[i], d2(row i, center)).
  virtual void commit_center(const float* center) = 0;
  /// Sum over rows of q(closest[i]).
  virtual std::int64_t potential() = 0;
  /// For each target t (0 <= t < potential()), the smallest row index i whose
  /// inclusive prefix sum of q(closest) exceeds t.
  virtual void sample_by_potential(const std::int64_t* targets, int m, std::int64_t* out_rows) = 0;

  // ---- metrics ----------------------------------------------------------------
  /// With the stored labels: per cluster, the quantized sums of d2 and of
  /// sqrt(d2) to the given centres (k x d floats).
  virtual void dispersion(const float* centers, int k, std::int64_t* out_sq,
                          std::int64_t* out_root) = 0;
  /// Silhouette value of every row of Y (any rows, not the bound data) under
  /// `labels` in [0, k), in the canonical order of docs/ARCHITECTURE.md;
  /// out has Y.rows values.  Rows of size-1 clusters score 0.
  virtual void silhouette(const Matrix& Y, const std::int32_t* labels, int k, double* out) = 0;
};

/// The m row indices with the largest d2, largest first, ties to the lower
/// index (the empty-cluster relocation rule shared by all backends).
void select_farthest(const float* d2, std::size_t n, int m, std::int64_t* out_rows);

/// The OpenMP CPU backend; threads <= 0 means OpenMP's default.
std::unique_ptr<Backend> make_cpu_backend(int threads);

}  // namespace archetype
