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

/// The final model: every cluster's size, centroid in original and z
/// units, relative importance against the platform means of `profile`,
/// silhouette, and its persona from `catalog` (matched on `names`).
ModelSummary model_summary(const KMeansResult& fit, const SilhouetteResult& sil, const StandardScaler& scaler,
                           const std::vector<FeatureSummary>& profile, const std::vector<std::string>& names,
                           const PersonaCatalog& catalog, int n_init, std::uint64_t seed);

/// The personas' names, cluster by cluster.
std::vector<std::string> persona_names(const ModelSummary& model);

}  // namespace archetype
