// KMeans: fit, predict and transform through the Clusterer, for
// archetype.KMeans (python/archetype/_kmeans.py), which validates the
// parameters and arrays first.
#include <pybind11/stl.h>

#include "archetype/clusterer.hpp"
#include "python/binding_support.hpp"

namespace archetype::python {
namespace {

py::dict fit(const py::array& X, const py::object& sample_weight, int n_clusters, int n_init, int max_iter,
             double tol, std::uint64_t seed, const std::string& backend, int threads, int device) {
  const DataView view = data_view(X, sample_weight);
  const KMeansParams p = kmeans_params(n_clusters, n_init, max_iter, tol, seed);
  Notices notices;
  KMeansResult r;
  std::string backend_name;
  compute(threads, [&] {
    Clusterer engine(view, engine_options(backend, threads, device, notices));
    r = engine.fit(p);
    backend_name = engine.backend_name();
  });
  notices.flush();
  py::list runs;
  for (const KMeansRun& run : r.runs)
    runs.append(py::dict(py::arg("seed") = run.seed, py::arg("inertia") = run.inertia,
                         py::arg("n_iter") = run.n_iter, py::arg("converged") = run.converged));
  const auto k = static_cast<py::ssize_t>(r.k), d = static_cast<py::ssize_t>(r.d);
  return py::dict(py::arg("centers") = to_numpy(std::move(r.centers), {k, d}),
                  py::arg("labels") = to_numpy(std::move(r.labels)), py::arg("inertia") = r.inertia,
                  py::arg("n_iter") = r.n_iter, py::arg("counts") = to_numpy(std::move(r.counts)),
                  py::arg("best_run") = r.best_run, py::arg("runs") = runs, py::arg("backend") = backend_name);
}

py::tuple predict(const py::array& X, const py::object& sample_weight,
                  const py::array_t<double, py::array::c_style>& centers, const std::string& backend, int threads,
                  int device) {
  const DataView view = data_view(X, sample_weight);
  int k = 0;
  const std::vector<double> c = centers_vector(centers, view.cols, k);
  Notices notices;
  Prediction p = compute(threads, [&] {
    Clusterer engine(view, engine_options(backend, threads, device, notices));
    return engine.predict(c, k);
  });
  notices.flush();
  return py::make_tuple(to_numpy(std::move(p.labels)), p.inertia);
}

py::array_t<double> transform(const py::array& X, const py::array_t<double, py::array::c_style>& centers,
                              int threads) {
  const DataView view = data_view(X, py::none());
  int k = 0;
  const std::vector<double> c = centers_vector(centers, view.cols, k);
  Notices notices;
  std::vector<double> out = compute(threads, [&] {
    // transform runs on the host whatever the backend: no GPU to probe.
    Clusterer engine(view, engine_options("cpu", threads, 0, notices));
    return engine.transform(c, k);
  });
  return to_numpy(std::move(out), {static_cast<py::ssize_t>(view.rows), static_cast<py::ssize_t>(k)});
}

/// Whether the engine reads X where it is (tests: the zero-copy rule).
bool reads_in_place(const py::array& X) {
  const DataView view = data_view(X, py::none());
  Notices notices;
  Clusterer engine(view, engine_options("cpu", 1, 0, notices));
  return static_cast<const void*>(engine.data().values) == view.data;
}

}  // namespace

void bind_kmeans(py::module_& m) {
  m.def("_reads_in_place", &reads_in_place, py::arg("X"),
        "Whether the engine reads this array in place (no copy): the zero-copy rule, for the tests.");
  m.def("kmeans_fit", &fit, py::arg("X"), py::arg("sample_weight"), py::arg("n_clusters"), py::arg("n_init"),
        py::arg("max_iter"), py::arg("tol"), py::arg("seed"), py::arg("backend"), py::arg("threads"),
        py::arg("device"),
        "K-Means (k-means++ seeding, Lloyd, n_init fused restarts; the lowest inertia wins) on a 2-D float32 "
        "or float64 array, read in place when C-contiguous float32.  Returns a dict: centers (k x d float64), "
        "labels (int32), inertia, n_iter, counts, best_run, runs, backend.");
  m.def("kmeans_predict", &predict, py::arg("X"), py::arg("sample_weight"), py::arg("centers"),
        py::arg("backend"), py::arg("threads"), py::arg("device"),
        "(labels, inertia) of X's rows under k x d centres: the nearest centre (ties: the lowest index).");
  m.def("kmeans_transform", &transform, py::arg("X"), py::arg("centers"), py::arg("threads"),
        "n x k Euclidean distances of X's rows to the centres (float64).");
}

}  // namespace archetype::python
