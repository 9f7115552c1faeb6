// What every binding file shares (docs/PYTHON.md): NumPy arrays as engine
// DataViews without a copy, vectors handed to NumPy without a copy, engine
// options with the KeyboardInterrupt poll, and the engine's notices
// collected while the GIL is released and turned into Python warnings after.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "archetype/clusterer.hpp"

namespace archetype::python {

namespace py = pybind11;

/// A 2-D float32 or float64 NumPy array (any strides) as a DataView on its
/// buffer: no copy.  `sample_weight` is None or a 1-D C-contiguous float64
/// array of one weight per row.  The arrays must stay alive while the view
/// is used (the callers hold them).  TypeError/ValueError for anything else
/// (the Python layer converts other inputs before calling).
DataView data_view(const py::array& X, const py::object& sample_weight);

/// Hands `v` to NumPy without copying: the array owns the vector.
template <typename T>
py::array_t<T> to_numpy(std::vector<T>&& v, std::vector<py::ssize_t> shape = {}) {
  if (shape.empty()) shape = {static_cast<py::ssize_t>(v.size())};
  auto* owned = new std::vector<T>(std::move(v));
  py::capsule free_when_done(owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>(shape, owned->data(), free_when_done);
}

/// The engine's one-line notices, collected during a call (no GIL needed)
/// and issued afterwards as archetype.NoticeWarning (a UserWarning).
class Notices {
 public:
  NoticeFn sink();
  /// With the GIL held: one warnings.warn per collected line.
  void flush();

 private:
  std::shared_ptr<std::vector<std::string>> lines_ = std::make_shared<std::vector<std::string>>();
};

/// archetype.NoticeWarning (a UserWarning subclass), made once.
py::object notice_warning_class();

/// EngineOptions for a call from Python: the backend, threads and device
/// asked for, the notices into `notices`, and a poll that raises
/// KeyboardInterrupt (as an exception out of the engine call) when Python
/// has a pending signal: at most every 50 ms it takes the GIL and runs
/// PyErr_CheckSignals (docs/PYTHON.md, "Interrupts").
EngineOptions engine_options(const std::string& backend, int threads, int device, Notices& notices);
std::function<void()> signal_poll();

/// omp_set_num_threads(threads) for the calling thread while alive (0: as
/// it was), so that the engine's host-side OpenMP work (transform, label
/// sums, the profile) uses the same thread count as the CPU backend.
class OmpThreads {
 public:
  explicit OmpThreads(int threads);
  ~OmpThreads();
  OmpThreads(const OmpThreads&) = delete;
  OmpThreads& operator=(const OmpThreads&) = delete;

 private:
  int previous_ = 0;
};

/// Runs fn() with the GIL released and OpenMP on `threads` threads.
template <typename Fn>
auto compute(int threads, Fn&& fn) -> decltype(fn()) {
  py::gil_scoped_release release;
  OmpThreads omp(threads);
  return fn();
}

/// KMeansParams from the Python arguments (n_clusters is ignored by a
/// sweep).  `stability`: compare the restarts' labels (the study reports
/// it); KMeans and sweep report no stability, so they compare one row:
/// the pairwise ARI of the n_init runs on 100,000 rows would be a quarter
/// of a 1,000,000-row fit's time, for a number nobody reads.
KMeansParams kmeans_params(int n_clusters, int n_init, int max_iter, double tol, std::uint64_t seed,
                           bool stability = false);

/// Labels as the engine wants them: a 1-D int32 array, each in [0, k).
std::vector<std::int32_t> labels_vector(const py::array_t<std::int32_t, py::array::c_style>& labels);

/// k x d centres (float64, C order) as the engine's row-major doubles.
std::vector<double> centers_vector(const py::array_t<double, py::array::c_style>& centers, std::size_t d, int& k);

void bind_kmeans(py::module_& m);
void bind_metrics(py::module_& m);
void bind_sweep(py::module_& m);
void bind_study(py::module_& m);

}  // namespace archetype::python
