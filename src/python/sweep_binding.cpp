// The fused sweep (Clusterer::sweep: every k and restart in one batch) for
// archetype.sweep (python/archetype/_sweep.py, which makes the table).
#include <pybind11/stl.h>

#include <limits>

#include "archetype/clusterer.hpp"
#include "archetype/evaluation.hpp"
#include "cli/pipeline.hpp"
#include "python/binding_support.hpp"

namespace archetype::python {
namespace {

py::dict sweep(const py::array& X, const py::object& sample_weight, int k_min, int k_max, int n_init,
               int max_iter, double tol, std::uint64_t seed, std::size_t silhouette_sample,
               const std::string& backend, int threads, int device) {
  const DataView view = data_view(X, sample_weight);
  SweepParams sp;
  sp.k_min = k_min;
  sp.k_max = k_max;
  sp.kmeans = kmeans_params(0, n_init, max_iter, tol, seed);
  sp.silhouette.sample_size = silhouette_sample;
  sp.silhouette.seed = seed;
  Notices notices;
  std::string backend_name;
  const SweepResult r = compute(threads, [&] {
    Clusterer engine(view, engine_options(backend, threads, device, notices));
    SweepResult out = engine.sweep(sp);
    backend_name = engine.backend_name();
    return out;
  });
  notices.flush();
  const std::size_t m = r.points.size();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<std::int64_t> ks(m), n_iter(m), sil_rows(m);
  std::vector<double> inertia(m), sil(m), ci_low(m), ci_high(m), ch(m), db(m);
  py::list sizes;
  for (std::size_t i = 0; i < m; ++i) {
    const SweepPoint& p = r.points[i];
    ks[i] = p.k;
    inertia[i] = p.wcss;
    n_iter[i] = p.n_iter;
    sil[i] = p.silhouette.defined ? p.silhouette.score : nan;
    sil_rows[i] = static_cast<std::int64_t>(p.silhouette.evaluated);
    ci_low[i] = p.silhouette.defined ? p.silhouette.ci_low : nan;
    ci_high[i] = p.silhouette.defined ? p.silhouette.ci_high : nan;
    ch[i] = p.dispersion.defined ? p.dispersion.calinski_harabasz : nan;
    db[i] = p.dispersion.defined ? p.dispersion.davies_bouldin : nan;
    sizes.append(to_numpy(std::vector<std::int64_t>(p.sizes)));
  }
  const py::object none = py::none();
  return py::dict(py::arg("k") = to_numpy(std::move(ks)), py::arg("inertia") = to_numpy(std::move(inertia)),
                  py::arg("silhouette") = to_numpy(std::move(sil)),
                  py::arg("calinski_harabasz") = to_numpy(std::move(ch)),
                  py::arg("davies_bouldin") = to_numpy(std::move(db)), py::arg("n_iter") = to_numpy(std::move(n_iter)),
                  py::arg("silhouette_rows") = to_numpy(std::move(sil_rows)),
                  py::arg("silhouette_ci_low") = to_numpy(std::move(ci_low)),
                  py::arg("silhouette_ci_high") = to_numpy(std::move(ci_high)), py::arg("sizes") = sizes,
                  py::arg("elbow_k") = r.elbow_k ? py::object(py::int_(*r.elbow_k)) : none,
                  py::arg("silhouette_k") = r.silhouette_k ? py::object(py::int_(*r.silhouette_k)) : none,
                  py::arg("backend") = backend_name);
}

}  // namespace

void bind_sweep(py::module_& m) {
  m.def(
      "silhouette_auto_sample",
      [](std::size_t rows, std::size_t features) {
        return silhouette_sample_size(rows, 0, PipelineOptions().silhouette_threshold, false, features);
      },
      py::arg("rows"), py::arg("features"),
      "The rows `archetype run --silhouette auto` samples for the silhouette (0: exact).");
  m.def("sweep", &sweep, py::arg("X"), py::arg("sample_weight"), py::arg("k_min"), py::arg("k_max"),
        py::arg("n_init"), py::arg("max_iter"), py::arg("tol"), py::arg("seed"), py::arg("silhouette_sample"),
        py::arg("backend"), py::arg("threads"), py::arg("device"),
        "Fits every k of k_min..k_max (all restarts fused) and scores each: a dict of per-k arrays (k, "
        "inertia, silhouette, calinski_harabasz, davies_bouldin, n_iter, silhouette_rows, CI bounds, sizes) "
        "and elbow_k, silhouette_k.  silhouette_sample 0: exact.");
}

}  // namespace archetype::python
