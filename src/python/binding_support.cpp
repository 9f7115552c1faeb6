#include "python/binding_support.hpp"

#include <omp.h>

#include <chrono>

namespace archetype::python {
namespace {

PyObject* notice_category() {
  static PyObject* category =
      PyErr_NewExceptionWithDoc("archetype.NoticeWarning",
                                "A one-line notice of the engine (a CPU fallback, why no GPU).",
                                PyExc_UserWarning, nullptr);
  return category;
}

}  // namespace

py::object notice_warning_class() { return py::reinterpret_borrow<py::object>(notice_category()); }

DataView data_view(const py::array& X, const py::object& sample_weight) {
  if (X.ndim() != 2) throw py::value_error("expected a 2-D array, got " + std::to_string(X.ndim()) + "-D");
  DataView v;
  if (X.dtype().is(py::dtype::of<float>())) {
    v.dtype = DataView::DType::Float32;
  } else if (X.dtype().is(py::dtype::of<double>())) {
    v.dtype = DataView::DType::Float64;
  } else {
    throw py::type_error("expected float32 or float64 values, got " + std::string(py::str(X.dtype())));
  }
  const py::ssize_t item = X.itemsize();
  // NumPy's strides are in bytes; the engine's in elements.  A stride that
  // is not a multiple of the item size (a view into a record array) has no
  // element stride: the Python layer copies those arrays first.
  if (X.strides(0) % item != 0 || X.strides(1) % item != 0)
    throw py::value_error("the array's strides are not multiples of its item size");
  v.data = X.data();
  v.rows = static_cast<std::size_t>(X.shape(0));
  v.cols = static_cast<std::size_t>(X.shape(1));
  v.row_stride = static_cast<std::ptrdiff_t>(X.strides(0) / item);
  v.col_stride = static_cast<std::ptrdiff_t>(X.strides(1) / item);
  if (!sample_weight.is_none()) {
    const auto w = sample_weight.cast<py::array>();
    if (!w.dtype().is(py::dtype::of<double>()) || w.ndim() != 1 || !(w.flags() & py::array::c_style))
      throw py::type_error("sample_weight must be a 1-D C-contiguous float64 array");
    if (static_cast<std::size_t>(w.shape(0)) != v.rows)
      throw py::value_error("sample_weight has " + std::to_string(w.shape(0)) + " values for " +
                            std::to_string(v.rows) + " rows");
    v.sample_weight = static_cast<const double*>(w.data());
  }
  return v;
}

NoticeFn Notices::sink() {
  return [lines = lines_](const std::string& line) { lines->push_back(line); };
}

void Notices::flush() {
  std::vector<std::string> lines;
  lines.swap(*lines_);
  for (const std::string& line : lines)
    if (PyErr_WarnEx(notice_category(), line.c_str(), 2) != 0) throw py::error_already_set();  // at the caller of the package function
}

std::function<void()> signal_poll() {
  using Clock = std::chrono::steady_clock;
  static constexpr auto kInterval = std::chrono::milliseconds(50);
  auto next = std::make_shared<Clock::time_point>(Clock::now() + kInterval);
  return [next] {
    const Clock::time_point now = Clock::now();
    if (now < *next) return;
    *next = now + kInterval;
    // The engine calls this on the thread that released the GIL: take it
    // back for PyErr_CheckSignals (which runs Python's SIGINT handler on
    // the main thread and is a no-op elsewhere).  The exception carries
    // the KeyboardInterrupt out of the engine; pybind11 restores it.
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
  };
}

EngineOptions engine_options(const std::string& backend, int threads, int device, Notices& notices) {
  EngineOptions o;
  o.backend = backend;
  o.threads = threads;
  o.device = device;
  o.notice = notices.sink();
  o.poll = signal_poll();
  return o;
}

OmpThreads::OmpThreads(int threads) : previous_(threads > 0 ? omp_get_max_threads() : 0) {
  if (threads > 0) omp_set_num_threads(threads);
}

OmpThreads::~OmpThreads() {
  if (previous_ > 0) omp_set_num_threads(previous_);
}

KMeansParams kmeans_params(int n_clusters, int n_init, int max_iter, double tol, std::uint64_t seed,
                           bool stability) {
  KMeansParams p;
  if (!stability) p.stability_rows = 1;
  p.n_clusters = n_clusters;
  p.n_init = n_init;
  p.max_iter = max_iter;
  p.tol = tol;
  p.seed = seed;
  return p;
}

std::vector<std::int32_t> labels_vector(const py::array_t<std::int32_t, py::array::c_style>& labels) {
  if (labels.ndim() != 1) throw py::value_error("labels must be 1-D");
  return std::vector<std::int32_t>(labels.data(), labels.data() + labels.size());
}

std::vector<double> centers_vector(const py::array_t<double, py::array::c_style>& centers, std::size_t d, int& k) {
  if (centers.ndim() != 2 || static_cast<std::size_t>(centers.shape(1)) != d)
    throw py::value_error("centers must be k x " + std::to_string(d));
  k = static_cast<int>(centers.shape(0));
  return std::vector<double>(centers.data(), centers.data() + centers.size());
}

}  // namespace archetype::python
