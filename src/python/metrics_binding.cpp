// The cluster-quality metrics for archetype.silhouette_score,
// calinski_harabasz_score and davies_bouldin_score (python/archetype/
// _metrics.py encodes the labels to 0..k-1 and checks their number first).
#include "archetype/clusterer.hpp"
#include "python/binding_support.hpp"

namespace archetype::python {
namespace {

double silhouette_score(const py::array& X, const py::array_t<std::int32_t, py::array::c_style>& labels, int k,
                        const std::string& backend, int threads, int device) {
  const DataView view = data_view(X, py::none());
  const std::vector<std::int32_t> l = labels_vector(labels);
  Notices notices;
  const SilhouetteResult s = compute(threads, [&] {
    Clusterer engine(view, engine_options(backend, threads, device, notices));
    return engine.silhouette(l, k);  // exact: the Python layer draws scikit-learn's sample itself
  });
  notices.flush();
  if (!s.defined) throw py::value_error("the silhouette is undefined for these labels");
  return s.score;
}

py::tuple dispersion(const py::array& X, const py::array_t<std::int32_t, py::array::c_style>& labels, int k,
                     const std::string& backend, int threads, int device) {
  const DataView view = data_view(X, py::none());
  const std::vector<std::int32_t> l = labels_vector(labels);
  Notices notices;
  const DispersionScores s = compute(threads, [&] {
    Clusterer engine(view, engine_options(backend, threads, device, notices));
    return engine.dispersion(l, k);
  });
  notices.flush();
  if (!s.defined) throw py::value_error("the dispersion scores are undefined for these labels");
  return py::make_tuple(s.calinski_harabasz, s.davies_bouldin);
}

}  // namespace

void bind_metrics(py::module_& m) {
  m.def("silhouette_score", &silhouette_score, py::arg("X"), py::arg("labels"), py::arg("k"),
        py::arg("backend") = "auto", py::arg("threads") = 0, py::arg("device") = 0,
        "Mean silhouette (Euclidean, exact) of labels in [0, k), one per row of X.");
  m.def("dispersion_scores", &dispersion, py::arg("X"), py::arg("labels"), py::arg("k"),
        py::arg("backend") = "auto", py::arg("threads") = 0, py::arg("device") = 0,
        "(Calinski-Harabasz, Davies-Bouldin) of labels in [0, k), one per row of X.");
}

}  // namespace archetype::python
