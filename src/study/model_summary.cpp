#include "study/model_summary.hpp"


namespace archetype {
namespace {

std::optional<Interval> sampled_ci(const SilhouetteResult& s) {
  if (!s.defined || !s.sampled) return std::nullopt;
  return Interval{s.ci_low, s.ci_high};
}

std::optional<double> defined(bool is_defined, double v) {
  return is_defined ? std::optional<double>(v) : std::nullopt;
}

}  // namespace

std::vector<SweepRow> sweep_rows(const SweepResult& sweep) {
  std::vector<SweepRow> rows;
  for (const SweepPoint& p : sweep.points) {
    SweepRow r;
    r.k = p.k;
    r.wcss = p.wcss;
    r.silhouette = defined(p.silhouette.defined, p.silhouette.score);
    r.silhouette_rows = p.silhouette.evaluated;
    r.silhouette_ci = sampled_ci(p.silhouette);
    r.calinski_harabasz = defined(p.dispersion.defined, p.dispersion.calinski_harabasz);
    r.davies_bouldin = defined(p.dispersion.defined, p.dispersion.davies_bouldin);
    r.n_iter = p.n_iter;
    r.sizes = p.sizes;
    rows.push_back(std::move(r));
  }
  return rows;
}

SuggestedK suggested_k(const SweepResult& sweep) { return {sweep.elbow_k, sweep.silhouette_k}; }

ModelSummary model_summary(const KMeansResult& fit, const SilhouetteResult& sil, const StandardScaler& scaler,
                           const std::vector<FeatureSummary>& profile, const std::vector<double>& quantiles,
                           const Naming& naming, int n_init, std::uint64_t seed, std::string& note,
                           bool weighted) {
  const std::size_t k = static_cast<std::size_t>(fit.k), d = fit.d;
  PersonaRequest request;
  request.k = k;
  request.z_centroids = fit.centers;
  request.catalog_chosen = naming.catalog_chosen;
  for (const FeatureSummary& f : profile) {
    request.feature_names.push_back(f.name);
    request.columns.push_back(f.column);
  }
  if (naming.names.size() == profile.size()) request.feature_names = naming.names;
  request.quantiles = quantiles;
  PersonaAssignment assigned = assign_personas(*naming.catalog, request);
  note = assigned.note;
  const std::vector<Persona>& personas = assigned.personas;
  std::int64_t n = 0;
  for (std::int64_t c : fit.counts) n += c;
  double total_weight = 0.0;
  for (double w : fit.weights) total_weight += w;
  ModelSummary m;
  m.catalog_personas = assigned.catalog_applies;
  m.k = fit.k;
  m.inertia = fit.inertia;
  m.silhouette = defined(sil.defined, sil.score);
  m.silhouette_rows = sil.evaluated;
  m.silhouette_ci = sampled_ci(sil);
  m.n_iter = fit.n_iter;
  m.n_init = n_init;
  m.seed = seed;
  m.best_run = fit.best_run;
  m.stability = fit.stability;
  for (const KMeansRun& run : fit.runs) {
    KMeansRun r = run;
    r.centers.clear();  // not reported
    m.runs.push_back(std::move(r));
  }
  for (std::size_t c = 0; c < k; ++c) {
    ClusterSummary cs;
    cs.id = static_cast<int>(c);
    cs.size = fit.counts[c];
    cs.share = n > 0 ? static_cast<double>(fit.counts[c]) / static_cast<double>(n) : 0.0;
    if (weighted && c < fit.weights.size()) {
      cs.weight = fit.weights[c];
      cs.weight_share = total_weight > 0.0 ? fit.weights[c] / total_weight : 0.0;
    }
    for (std::size_t j = 0; j < d; ++j) {
      cs.centroid.push_back(scaler.inverse(fit.centers[c * d + j], j));
      cs.centroid_scaled.push_back(fit.centers[c * d + j]);
      const double mean_orig = scaler.inverse(fit.means[c * d + j], j);
      const double platform = scaler.mean[j];  // the profile's mean, or the weighted mean with weights
      cs.relative_importance.push_back(platform != 0.0 ? std::optional<double>(mean_orig / platform - 1.0)
                                                       : std::nullopt);
    }
    // An empty cluster (k above the distinct rows) has no silhouette.
    cs.silhouette = defined(sil.defined && fit.counts[c] > 0, sil.cluster_means.empty() ? 0.0 : sil.cluster_means[c]);
    cs.persona = personas[c];
    if (cs.persona.archetype >= 0) cs.archetype = naming.catalog->archetypes[static_cast<std::size_t>(cs.persona.archetype)].name;
    m.clusters.push_back(std::move(cs));
  }
  return m;
}

std::vector<std::string> persona_names(const ModelSummary& model) {
  std::vector<std::string> names;
  for (const ClusterSummary& c : model.clusters) names.push_back(c.persona.name);
  return names;
}

}  // namespace archetype
