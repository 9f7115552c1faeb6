// archetype.study: the study of `archetype run` (run_pipeline, the CLI's
// own code path) from Python, and the typed StudyResult it returns, bound
// field by field (read-only properties; each access returns a copy).
#include <pybind11/stl.h>

#include "archetype/study_result.hpp"
#include "cli/pipeline.hpp"
#include "python/binding_support.hpp"

namespace archetype::python {
namespace {

/// A read-only property `field` of `cls` (a copy of the C++ value).
#define ARCHETYPE_RO(cls, Type, field) cls.def_property_readonly(#field, [](const Type& s) { return s.field; })

void bind_result_types(py::module_& m) {
  py::class_<FeatureProfile> profile(m, "FeatureProfile", "One feature's descriptive statistics.");
  ARCHETYPE_RO(profile, FeatureProfile, count);
  ARCHETYPE_RO(profile, FeatureProfile, mean);
  ARCHETYPE_RO(profile, FeatureProfile, std);
  ARCHETYPE_RO(profile, FeatureProfile, skew);
  ARCHETYPE_RO(profile, FeatureProfile, skew_unbiased);
  ARCHETYPE_RO(profile, FeatureProfile, kurtosis);
  ARCHETYPE_RO(profile, FeatureProfile, min);
  ARCHETYPE_RO(profile, FeatureProfile, max);

  py::class_<QQData> qq(m, "QQData", "QQ plot data against the normal (scipy.stats.probplot).");
  ARCHETYPE_RO(qq, QQData, theoretical);
  ARCHETYPE_RO(qq, QQData, sample);
  ARCHETYPE_RO(qq, QQData, slope);
  ARCHETYPE_RO(qq, QQData, intercept);
  ARCHETYPE_RO(qq, QQData, r);

  py::class_<Histogram> hist(m, "Histogram");
  ARCHETYPE_RO(hist, Histogram, edges);
  ARCHETYPE_RO(hist, Histogram, counts);

  py::class_<DensityCurve> density(m, "DensityCurve");
  ARCHETYPE_RO(density, DensityCurve, x);
  ARCHETYPE_RO(density, DensityCurve, y);
  ARCHETYPE_RO(density, DensityCurve, bandwidth);

  py::class_<InputSummary> input(m, "InputSummary", "The input table as read.");
  ARCHETYPE_RO(input, InputSummary, path);
  ARCHETYPE_RO(input, InputSummary, rows);
  ARCHETYPE_RO(input, InputSummary, columns);
  ARCHETYPE_RO(input, InputSummary, feature_names);
  ARCHETYPE_RO(input, InputSummary, id_column);
  ARCHETYPE_RO(input, InputSummary, dropped_rows);
  ARCHETYPE_RO(input, InputSummary, transforms);

  py::class_<FeatureSummary> feature(m, "FeatureSummary", "Step 2: one feature's profile.");
  ARCHETYPE_RO(feature, FeatureSummary, column);
  ARCHETYPE_RO(feature, FeatureSummary, name);
  ARCHETYPE_RO(feature, FeatureSummary, stats);
  ARCHETYPE_RO(feature, FeatureSummary, qq);
  ARCHETYPE_RO(feature, FeatureSummary, histogram);
  ARCHETYPE_RO(feature, FeatureSummary, density);

  py::class_<StandardScaler> scaler(m, "StandardScaler", "Per-feature mean and population std.");
  ARCHETYPE_RO(scaler, StandardScaler, mean);
  ARCHETYPE_RO(scaler, StandardScaler, scale);
  ARCHETYPE_RO(scaler, StandardScaler, constant);

  py::class_<SweepRow> row(m, "SweepRow", "Step 4: one k of the sweep.");
  ARCHETYPE_RO(row, SweepRow, k);
  ARCHETYPE_RO(row, SweepRow, wcss);
  ARCHETYPE_RO(row, SweepRow, silhouette);
  ARCHETYPE_RO(row, SweepRow, silhouette_rows);
  ARCHETYPE_RO(row, SweepRow, silhouette_ci);
  ARCHETYPE_RO(row, SweepRow, calinski_harabasz);
  ARCHETYPE_RO(row, SweepRow, davies_bouldin);
  ARCHETYPE_RO(row, SweepRow, n_iter);
  ARCHETYPE_RO(row, SweepRow, sizes);

  py::class_<SuggestedK> suggested(m, "SuggestedK", "k as each criterion of the sweep suggests it.");
  ARCHETYPE_RO(suggested, SuggestedK, elbow);
  ARCHETYPE_RO(suggested, SuggestedK, silhouette);

  py::class_<StudyParameters> params(m, "StudyParameters", "The settings that shaped the result.");
  ARCHETYPE_RO(params, StudyParameters, seed);
  ARCHETYPE_RO(params, StudyParameters, n_init);
  ARCHETYPE_RO(params, StudyParameters, max_iter);
  ARCHETYPE_RO(params, StudyParameters, tol);
  ARCHETYPE_RO(params, StudyParameters, silhouette);
  ARCHETYPE_RO(params, StudyParameters, silhouette_sample);
  ARCHETYPE_RO(params, StudyParameters, silhouette_threshold);
  ARCHETYPE_RO(params, StudyParameters, k_range);
  ARCHETYPE_RO(params, StudyParameters, k);
  ARCHETYPE_RO(params, StudyParameters, k_rule);

  py::class_<Persona> persona(m, "Persona", "A cluster's name and, from the catalog, what to do about it.");
  ARCHETYPE_RO(persona, Persona, name);
  ARCHETYPE_RO(persona, Persona, archetype);
  ARCHETYPE_RO(persona, Persona, distance);
  ARCHETYPE_RO(persona, Persona, characteristics);
  ARCHETYPE_RO(persona, Persona, strategic_value);
  ARCHETYPE_RO(persona, Persona, action);

  py::class_<ClusterSummary> cluster(m, "ClusterSummary", "Step 6: one cluster of the final model.");
  ARCHETYPE_RO(cluster, ClusterSummary, id);
  ARCHETYPE_RO(cluster, ClusterSummary, size);
  ARCHETYPE_RO(cluster, ClusterSummary, share);
  ARCHETYPE_RO(cluster, ClusterSummary, centroid);
  ARCHETYPE_RO(cluster, ClusterSummary, centroid_scaled);
  ARCHETYPE_RO(cluster, ClusterSummary, relative_importance);
  ARCHETYPE_RO(cluster, ClusterSummary, silhouette);
  ARCHETYPE_RO(cluster, ClusterSummary, persona);
  ARCHETYPE_RO(cluster, ClusterSummary, archetype);

  py::class_<Stability> stability(m, "Stability", "Agreement between the n_init runs.");
  ARCHETYPE_RO(stability, Stability, inertia_min);
  ARCHETYPE_RO(stability, Stability, inertia_median);
  ARCHETYPE_RO(stability, Stability, inertia_max);
  ARCHETYPE_RO(stability, Stability, mean_ari);
  ARCHETYPE_RO(stability, Stability, rows_compared);

  py::class_<KMeansRun> run(m, "KMeansRun", "One k-means++ + Lloyd run.");
  ARCHETYPE_RO(run, KMeansRun, seed);
  ARCHETYPE_RO(run, KMeansRun, inertia);
  ARCHETYPE_RO(run, KMeansRun, n_iter);
  ARCHETYPE_RO(run, KMeansRun, converged);

  py::class_<ModelSummary> model(m, "ModelSummary", "Step 5: the final model.");
  ARCHETYPE_RO(model, ModelSummary, k);
  ARCHETYPE_RO(model, ModelSummary, inertia);
  ARCHETYPE_RO(model, ModelSummary, silhouette);
  ARCHETYPE_RO(model, ModelSummary, silhouette_rows);
  ARCHETYPE_RO(model, ModelSummary, silhouette_ci);
  ARCHETYPE_RO(model, ModelSummary, n_iter);
  ARCHETYPE_RO(model, ModelSummary, n_init);
  ARCHETYPE_RO(model, ModelSummary, seed);
  ARCHETYPE_RO(model, ModelSummary, best_run);
  ARCHETYPE_RO(model, ModelSummary, stability);
  ARCHETYPE_RO(model, ModelSummary, runs);
  ARCHETYPE_RO(model, ModelSummary, clusters);
  ARCHETYPE_RO(model, ModelSummary, catalog_personas);

  py::class_<ProjectionSummary> projection(m, "ProjectionSummary", "The 2-D view of more than 2 features.");
  ARCHETYPE_RO(projection, ProjectionSummary, method);
  ARCHETYPE_RO(projection, ProjectionSummary, features);
  ARCHETYPE_RO(projection, ProjectionSummary, explained_variance_ratio);
  ARCHETYPE_RO(projection, ProjectionSummary, axes);

  py::class_<StudyResult> result(m, "StudyResult",
                                 "Every number summary.json holds, typed (archetype/study_result.hpp).");
  ARCHETYPE_RO(result, StudyResult, version);
  ARCHETYPE_RO(result, StudyResult, command);
  ARCHETYPE_RO(result, StudyResult, input);
  ARCHETYPE_RO(result, StudyResult, backend);
  ARCHETYPE_RO(result, StudyResult, device);
  ARCHETYPE_RO(result, StudyResult, profile);
  ARCHETYPE_RO(result, StudyResult, scaler);
  ARCHETYPE_RO(result, StudyResult, sweep);
  ARCHETYPE_RO(result, StudyResult, suggested_k);
  ARCHETYPE_RO(result, StudyResult, parameters);
  ARCHETYPE_RO(result, StudyResult, model);
  ARCHETYPE_RO(result, StudyResult, projection);
  ARCHETYPE_RO(result, StudyResult, warnings);
  ARCHETYPE_RO(result, StudyResult, timings_ms);
}

#undef ARCHETYPE_RO

/// One call of `archetype run`: the options as main.cpp maps them.
py::tuple run_study(const std::string& input, const std::vector<std::string>& columns, const std::string& id_column,
                    char delimiter, bool drop_invalid, const std::vector<std::string>& feature_names,
                    const std::string& transform, int k, const std::string& k_source, int k_min, int k_max,
                    int n_init, int max_iter, double tol, std::uint64_t seed, const std::string& silhouette,
                    std::size_t silhouette_sample, std::size_t silhouette_threshold, const std::string& personas,
                    bool keep_columns, const std::string& out, bool force, bool figures, const std::string& backend,
                    int threads, int device) {
  PipelineOptions o;
  o.csv = input;
  o.csv_options.columns = columns;
  o.csv_options.id_column = id_column;
  o.csv_options.delimiter = delimiter;
  o.csv_options.drop_invalid = drop_invalid;
  o.feature_names = feature_names;
  o.transform = transform;
  o.k_auto = k == 0;
  o.k = k == 0 ? 5 : k;
  o.k_source = k_source;
  o.k_min = k_min;
  o.k_max = k_max;
  o.kmeans = kmeans_params(0, n_init, max_iter, tol, seed, /*stability=*/true);
  o.silhouette_mode = silhouette;
  o.silhouette_sample = silhouette_sample;
  o.silhouette_threshold = silhouette_threshold;
  o.personas_path = personas;
  o.keep_columns = keep_columns;
  o.out_dir = out;
  o.force = force;
  o.figures = figures;
  o.backend = backend;
  o.threads = threads;
  o.device = device;
  o.poll = signal_poll();
  o.return_labels = true;
  Notices notices;
  PipelineOutcome outcome = compute(threads, [&] { return run_pipeline(Command::Run, o, notices.sink()); });
  notices.flush();
  return py::make_tuple(std::move(outcome.result), to_numpy(std::move(outcome.labels)), outcome.ids, outcome.table,
                        outcome.files);
}

}  // namespace

void bind_study(py::module_& m) {
  bind_result_types(m);
  m.def("run_study", &run_study, py::arg("input"), py::arg("columns"), py::arg("id_column"), py::arg("delimiter"),
        py::arg("drop_invalid"), py::arg("feature_names"), py::arg("transform"), py::arg("k"), py::arg("k_source"),
        py::arg("k_min"), py::arg("k_max"), py::arg("n_init"), py::arg("max_iter"), py::arg("tol"), py::arg("seed"),
        py::arg("silhouette"), py::arg("silhouette_sample"), py::arg("silhouette_threshold"), py::arg("personas"),
        py::arg("keep_columns"), py::arg("out"), py::arg("force"), py::arg("figures"), py::arg("backend"),
        py::arg("threads"), py::arg("device"),
        "`archetype run` on a CSV or .npy file (k = 0: chosen by the sweep's silhouette), writing its outputs "
        "into `out`.  Returns (StudyResult, labels, ids, terminal tables, files written).");
}

}  // namespace archetype::python
