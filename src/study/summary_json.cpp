#include "study/summary_json.hpp"

#include "study/feature_stats.hpp"

namespace archetype {
namespace {

using json = nlohmann::ordered_json;

template <typename T>
json nullable(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

json interval(const std::optional<Interval>& ci) {
  return ci ? json::array({ci->first, ci->second}) : json(nullptr);
}

json input_json(const InputSummary& in) {
  return {{"path", in.path},
          {"rows", in.rows},
          {"columns", in.columns},
          {"feature_names", in.feature_names},
          {"id_column", in.id_column.empty() ? json(nullptr) : json(in.id_column)},
          {"dropped_rows", in.dropped_rows},
          {"transforms", in.transforms},
          {"sample_weight", in.sample_weight ? json{{"column", in.sample_weight->column},
                                                    {"total", in.sample_weight->total},
                                                    {"zero_rows", in.sample_weight->zero_rows}}
                                             : json(nullptr)}};
}

/// Every feature's statistics; the QQ points, histogram and density curve
/// (figure data) of the first kPlottedFeatures only.
json profile_json(const std::vector<FeatureSummary>& profile) {
  json arr = json::array();
  for (std::size_t j = 0; j < profile.size(); ++j) {
    const FeatureSummary& f = profile[j];
    const FeatureProfile& p = f.stats;
    json e = {{"column", f.column},
              {"name", f.name},
              {"mean", p.mean},
              {"std", p.std},
              {"skew", p.skew},
              {"skew_unbiased", p.skew_unbiased},
              {"kurtosis", p.kurtosis},
              {"min", p.min},
              {"max", p.max}};
    if (j < kPlottedFeatures) {
      e["qq"] = {{"theoretical", f.qq.theoretical},
                 {"sample", f.qq.sample},
                 {"slope", f.qq.slope},
                 {"intercept", f.qq.intercept},
                 {"r", f.qq.r}};
      e["histogram"] = {{"edges", f.histogram.edges}, {"counts", f.histogram.counts}};
      e["density"] = {{"x", f.density.x}, {"y", f.density.y}, {"bandwidth", f.density.bandwidth}};
    } else {
      e["qq"] = {{"slope", f.qq.slope}, {"intercept", f.qq.intercept}, {"r", f.qq.r}};
    }
    arr.push_back(std::move(e));
  }
  return arr;
}

json sweep_json(const std::vector<SweepRow>& sweep) {
  json arr = json::array();
  for (const SweepRow& p : sweep)
    arr.push_back({{"k", p.k},
                   {"wcss", p.wcss},
                   {"silhouette", nullable(p.silhouette)},
                   {"silhouette_rows", p.silhouette_rows},
                   {"silhouette_ci", interval(p.silhouette_ci)},
                   {"calinski_harabasz", nullable(p.calinski_harabasz)},
                   {"davies_bouldin", nullable(p.davies_bouldin)},
                   {"n_iter", p.n_iter},
                   {"sizes", p.sizes}});
  return arr;
}

json parameters_json(const StudyParameters& p) {
  json j = {{"seed", p.seed},
            {"n_init", p.n_init},
            {"max_iter", p.max_iter},
            {"tol", p.tol},
            {"init", "k-means++"},
            {"silhouette", p.silhouette},
            {"silhouette_sample", p.silhouette_sample},
            {"silhouette_threshold", p.silhouette_threshold}};
  if (p.k_range) {
    j["k_min"] = p.k_range->first;
    j["k_max"] = p.k_range->second;
  }
  if (p.k) {
    j["k"] = *p.k;
    j["k_rule"] = p.k_rule;
  }
  return j;
}

json model_json(const ModelSummary& m) {
  json runs = json::array();
  for (const KMeansRun& run : m.runs)
    runs.push_back({{"seed", run.seed}, {"inertia", run.inertia}, {"n_iter", run.n_iter}, {"converged", run.converged}});
  json clusters = json::array();
  for (const ClusterSummary& c : m.clusters) {
    json rel = json::array();
    for (const std::optional<double>& r : c.relative_importance) rel.push_back(nullable(r));
    const bool matched = !c.archetype.empty();
    clusters.push_back({{"id", c.id},
                        {"size", c.size},
                        {"share", c.share},
                        {"weight", nullable(c.weight)},
                        {"weight_share", nullable(c.weight_share)},
                        {"centroid", c.centroid},
                        {"centroid_scaled", c.centroid_scaled},
                        {"relative_importance", rel},
                        {"silhouette", nullable(c.silhouette)},
                        {"persona", c.persona.name},
                        {"persona_archetype", matched ? json(c.archetype) : json(nullptr)},
                        {"persona_distance", matched ? json(c.persona.distance) : json(nullptr)},
                        {"characteristics", c.persona.characteristics},
                        {"strategic_value", c.persona.strategic_value},
                        {"action", c.persona.action}});
  }
  return {{"k", m.k},
          {"inertia", m.inertia},
          {"silhouette", nullable(m.silhouette)},
          {"silhouette_rows", m.silhouette_rows},
          {"silhouette_ci", interval(m.silhouette_ci)},
          {"n_iter", m.n_iter},
          {"n_init", m.n_init},
          {"seed", m.seed},
          {"best_run", m.best_run},
          {"stability", {{"inertia_min", m.stability.inertia_min},
                         {"inertia_median", m.stability.inertia_median},
                         {"inertia_max", m.stability.inertia_max},
                         {"mean_ari", m.stability.mean_ari},
                         {"rows_compared", m.stability.rows_compared}}},
          {"runs", runs},
          {"persona_catalog", m.catalog_personas},
          {"clusters", clusters}};
}

json prediction_json(const PredictionSummary& p) {
  json clusters = json::array();
  for (const PredictionSummary::Cluster& c : p.clusters)
    clusters.push_back({{"id", c.id}, {"persona", c.persona}, {"size", c.size}, {"share", c.share}});
  return {{"k", p.k},
          {"inertia", p.inertia},
          {"outside_training_share", nullable(p.outside_training_share)},
          {"distance_ratio", nullable(p.distance_ratio)},
          {"clusters", clusters}};
}

}  // namespace

json summary_json(const StudyResult& r) {
  json s;
  s["archetype_version"] = r.version;
  s["command"] = r.command;
  s["input"] = input_json(r.input);
  if (!r.backend.empty()) {
    s["backend"] = r.backend;
    s["device"] = r.device;
  }
  if (r.distributed)
    s["distributed"] = {{"ranks", r.distributed->ranks},
                        {"hosts", r.distributed->hosts},
                        {"communication_seconds", r.distributed->communication_seconds},
                        {"sums_over", r.distributed->sums_over}};
  if (r.prediction) {
    s["model_file"] = r.prediction->model_file;
    s["prediction"] = prediction_json(*r.prediction);
  } else {
    s["profile"] = profile_json(r.profile);
  }
  if (r.scaler) s["scaler"] = {{"mean", r.scaler->mean}, {"scale", r.scaler->scale}, {"constant", r.scaler->constant}};
  if (r.sweep) s["sweep"] = sweep_json(*r.sweep);
  if (r.suggested_k)
    s["suggested_k"] = {{"elbow", nullable(r.suggested_k->elbow)}, {"silhouette", nullable(r.suggested_k->silhouette)}};
  if (r.parameters) s["parameters"] = parameters_json(*r.parameters);
  if (r.model) s["model"] = model_json(*r.model);
  if (r.projection)
    s["projection"] = {{"method", r.projection->method},
                       {"features", r.projection->features},
                       {"explained_variance_ratio", r.projection->explained_variance_ratio},
                       {"axes", r.projection->axes}};
  if (r.warnings) s["warnings"] = *r.warnings;
  json t = json::object();
  for (const auto& [stage, ms] : r.timings_ms) t[stage] = ms;
  s["timings_ms"] = t;
  return s;
}

}  // namespace archetype
