// Steps 4-6 of the study as typed results: the sweep's rows and suggested
// k, and the final model with its personas.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "archetype/evaluation.hpp"
#include "archetype/kmeans.hpp"
#include "archetype/personas.hpp"
#include "archetype/scaler.hpp"
#include "archetype/study_result.hpp"
#include "archetype/sweep.hpp"

namespace archetype {

std::vector<SweepRow> sweep_rows(const SweepResult& sweep);
SuggestedK suggested_k(const SweepResult& sweep);

/// How clusters are named: the catalog, and whether the user chose it.
struct Naming {
  const PersonaCatalog* catalog = nullptr;
  bool catalog_chosen = false;  ///< --personas: positional matching allowed
  /// Names to build data-driven names from, when not the profile's: the
  /// features before a transform (quantiles do not change under log1p, and
  /// "High followers" reads better than "High log1p(followers)").
  std::vector<std::string> names;
};

/// The final model: every cluster's size (and, `weighted`, its total
/// sample weight and share of it), centroid in original and z units,
/// relative importance against the platform means (the scaler's: weighted
/// with weights), silhouette, and its persona (personas.hpp; the features'
/// names come from `profile`, `quantiles` (k x d, cluster_quantiles.hpp)
/// place each cluster in each feature for data-driven names).  When the
/// catalog does not apply, `note` gets the warning that says so.
ModelSummary model_summary(const KMeansResult& fit, const SilhouetteResult& sil, const StandardScaler& scaler,
                           const std::vector<FeatureSummary>& profile, const std::vector<double>& quantiles,
                           const Naming& naming, int n_init, std::uint64_t seed, std::string& note,
                           bool weighted = false);

/// The personas' names, cluster by cluster.
std::vector<std::string> persona_names(const ModelSummary& model);

}  // namespace archetype
