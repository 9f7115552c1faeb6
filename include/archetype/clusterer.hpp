// The engine's front door: one object per dataset that owns the backend,
// the fixed-point grids and the binding, in the style of faiss's
// Clustering.h and cuVS's kmeans.hpp.
//
//   archetype::DataView data{values, DataView::DType::Float32, rows, cols, cols, 1};
//   archetype::Clusterer c(data, {});            // validates once; no copy here
//   archetype::KMeansParams p;  p.n_clusters = 5;
//   archetype::KMeansResult fit = c.fit(p);       // labels included
//   auto sil = c.silhouette(fit.labels, fit.k);
//
// Every method takes everything it depends on as arguments (labels,
// centres, parameters): no result depends on which methods ran before or
// in which order.  Results are the same bits on every backend and thread
// count (docs/ARCHITECTURE.md).  The data are expected standardized (the
// fixed-point grids assume centres inside the rows' hull; raw values beyond
// ~1e19 are refused by FixedPoint).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "archetype/communicator.hpp"
#include "archetype/evaluation.hpp"
#include "archetype/fixed_point.hpp"
#include "archetype/kmeans.hpp"
#include "archetype/matrix.hpp"
#include "archetype/notice.hpp"
#include "archetype/profile.hpp"
#include "archetype/sweep.hpp"

namespace archetype {

struct EngineOptions {
  /// "auto": the CUDA backend when this build has it and the device is
  /// usable, else the CPU (with a notice saying why); a GPU that fails
  /// during a call (DeviceError) is given up for the CPU, which redoes that
  /// call.  "cpu", "cuda": that backend only; "cuda" throws InputError when
  /// unusable, and its DeviceErrors propagate.
  std::string backend = "auto";
  /// CPU threads; 0 means OpenMP's default (OMP_NUM_THREADS or the cores).
  /// Results do not depend on it.
  int threads = 0;
  /// CUDA device ordinal.
  int device = 0;
  /// Receives one-line notices (CPU fallback, why no GPU); may be empty.
  NoticeFn notice;
  /// A job split across processes (mpirun; communicator.hpp), or nullptr
  /// (one process).  With more than one rank, the DataView holds this
  /// process's rows, which follow the previous rank's rows (a rank may
  /// hold none); every rank constructs its Clusterer and then makes the
  /// same calls with the same arguments (labels aside: each rank passes
  /// its own rows' labels), and gets the results of one process holding
  /// all rows, bit for bit: rows() counts all rows; labels, transform(),
  /// data() and SilhouetteResult::values are this process's rows'.  A GPU
  /// failure is not retried on the CPU (the other ranks are mid-call).
  Communicator* communicator = nullptr;
  /// Cancellation hook; may be empty.  Called on the calling thread before
  /// every pass over the rows of fit() and sweep() (each k-means++ step and
  /// Lloyd round, all restarts fused) and after each k the sweep scores.
  /// To abandon the call it throws: the exception leaves the Clusterer
  /// method, nothing is returned, and the Clusterer stays usable (the next
  /// call starts afresh).  The Python binding raises KeyboardInterrupt this
  /// way; the CLI needs none (its signal watcher exits the process).  With
  /// a communicator of several ranks, a poll that throws on one rank alone
  /// would leave the others in a collective: there, interrupts end the
  /// whole job instead (mpirun signals every rank; the CLI's watcher exits).
  std::function<void()> poll;
};

/// A non-owning description of an n x d array, NumPy style: element (i, j)
/// is at data + i * row_stride + j * col_stride, strides counted in
/// elements (NumPy's byte strides divided by the itemsize).  Any strides
/// are accepted, negative and zero included (reversed or broadcast arrays):
/// the values are only read.  C-contiguous float32 (row_stride == cols,
/// col_stride == 1, aligned) is used in place; anything else is copied once
/// into a C-contiguous float32 matrix (float64 rounded to nearest once).
struct DataView {
  enum class DType { Float32, Float64 };

  const void* data = nullptr;     ///< element (0, 0); need not be aligned
  DType dtype = DType::Float32;   ///< float32 or float64 elements
  std::size_t rows = 0;           ///< samples (at least 1)
  std::size_t cols = 0;           ///< features (at least 1)
  std::ptrdiff_t row_stride = 0;  ///< elements from row i to row i + 1
  std::ptrdiff_t col_stride = 1;  ///< elements from column j to column j + 1
  /// Optional sample_weight (scikit-learn's meaning): `rows` contiguous
  /// doubles (under a communicator, this process's rows'; a process
  /// without rows may pass none), read once at construction (the Clusterer keeps its own
  /// copy, quantized: WeightGrid in fixed_point.hpp).  nullptr: every row
  /// weighs 1.  Weights must be finite and non-negative with a positive
  /// total.  They weigh the fit (k-means++, means, inertia, empty
  /// clusters), predict's inertia and the dispersion scores; integer
  /// weights give exactly the results of the rows repeated w times.  The
  /// silhouette, transform and profile ignore them.
  const double* sample_weight = nullptr;

  /// A C-contiguous float32 matrix (no copy).
  static DataView of(const Matrix& m) {
    return {m.values.data(), DType::Float32, m.rows, m.cols, static_cast<std::ptrdiff_t>(m.cols), 1};
  }
};

/// Labels and inertia of the data under given centres (Clusterer::predict).
struct Prediction {
  std::vector<std::int32_t> labels;  ///< nearest centre per row (ties: lowest index)
  double inertia = 0.0;              ///< sum of (weighted) squared distances to the nearest centre
};

class Clusterer {
 public:
  /// Validates the data once: rows >= 1, cols >= 1, strides that address
  /// only the described elements without overflow, every value finite (as
  /// float32 too: a float64 beyond ~3.4e38 is refused).  InputError names
  /// the first offending value by 1-based row and column, as the CSV
  /// reader's messages do; a bad sample_weight likewise by its row
  /// ("sample_weight: row 3: the weight -1 is negative"), or a total of 0.
  /// The values must outlive the Clusterer when they
  /// are used in place (C-contiguous float32); otherwise they may be freed
  /// after construction.  Selects the backend (EngineOptions::backend) and
  /// computes the fixed-point grids; binds lazily, on the first call that
  /// needs it.
  Clusterer(const DataView& data, const EngineOptions& options);
  ~Clusterer();
  Clusterer(Clusterer&&) noexcept;
  Clusterer& operator=(Clusterer&&) noexcept;
  Clusterer(const Clusterer&) = delete;
  Clusterer& operator=(const Clusterer&) = delete;

  /// K-Means with k-means++ seeding (fit_kmeans); labels always included.
  /// InputError when params.n_clusters is outside [1, rows].
  KMeansResult fit(const KMeansParams& params);

  /// Every k of params.k_min..k_max (those <= rows), all restarts fused,
  /// scored (run_sweep).  When keep_k is in the range, `kept` holds that
  /// k's whole fit WITH labels: the same result as fit() for that k.
  SweepResult sweep(const SweepParams& params, int keep_k = 0);

  /// Labels of these rows under k x d centres (doubles, rounded to float
  /// as in a fit; the centres need not come from this data) and the
  /// inertia, on grids sized for these centres: exactly what the CLI's
  /// predict computes (assign_labels).  Binds the backend for that; the
  /// next fit or metric binds again (one pass's worth of work).
  Prediction predict(const std::vector<double>& centers, int k);

  /// n x k Euclidean distances of every row to every centre (row-major,
  /// like scikit-learn's KMeans.transform): the squared distance in float
  /// with the engine's operations (archetype/distance.hpp, centres rounded
  /// to float), then sqrt in double.  Computed on the host (OpenMP), on
  /// every backend: n x k doubles of output dominate the cost anyway.
  std::vector<double> transform(const std::vector<double>& centers, int k) const;

  /// Silhouette of `labels` (one per row, each in [0, k): InputError
  /// otherwise), exact or sampled as `params` says.
  SilhouetteResult silhouette(const std::vector<std::int32_t>& labels, int k, const SilhouetteParams& params = {});

  /// Calinski-Harabasz and Davies-Bouldin of `labels` (one per row, each
  /// in [0, k)), around the labels' exact cluster means.
  DispersionScores dispersion(const std::vector<std::int32_t>& labels, int k);

  /// Descriptive statistics of every feature (profile_feature).
  std::vector<FeatureProfile> profile() const;

  /// Rows of the data (of every process's, under a communicator).
  std::size_t rows() const;
  std::size_t cols() const;
  /// "cpu" or "cuda": the backend the next call runs on ("cpu" after an
  /// auto fallback).
  std::string backend_name() const;
  /// Where it runs (a GPU's name, "host CPU (OpenMP)").
  std::string device() const;
  /// The data's fixed-point grids (FixedPoint::for_data).
  const FixedPoint& fixed_point() const;
  /// The sample weights as the engine uses them (quantized; without
  /// weights: none, total = rows).  Under a communicator: q holds this
  /// process's rows, the grid and totals are all rows'.
  const WeightGrid& weights() const;
  /// The data as the engine reads them: the caller's values or the copy.
  MatrixView data() const;

 private:
  friend struct ClustererAccess;  // tests: a given backend (src/engine/clusterer_access.hpp)
  struct Impl;
  explicit Clusterer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace archetype
