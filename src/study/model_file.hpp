// model.json: everything `predict` needs to label new creators the way
// the fit did (columns, scaler, centroids, persona names), plus the fit's
// parameters for provenance.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "archetype/kmeans.hpp"
#include "archetype/scaler.hpp"
#include "archetype/study_result.hpp"

namespace archetype {

/// model.json files above this are refused before parsing.
inline constexpr long long kMaxModelFileBytes = 256LL << 20;

struct SavedModel {
  std::vector<std::string> columns;  ///< CSV header names of the features
  std::vector<std::string> names;    ///< display names
  std::vector<double> mean, scale;   ///< scaler
  int k = 0;
  std::vector<double> centroids_scaled;  ///< k x d
  std::vector<std::string> persona_names;
  /// The training data's range per feature (original units) and the root
  /// mean squared distance of its rows to their centre (z units); empty / 0
  /// in a model.json written before they were recorded.
  std::vector<double> training_min, training_max;
  /// The training table's id column (empty: none), looked for in new tables.
  std::string id_column;
  /// Per feature, applied to new rows before scaling: "none" or "log1p".
  std::vector<std::string> transforms;
  double training_rms_distance = 0.0;
};

/// model.json of a fitted study (its input, scaler and model sections) and
/// the fit's centres at full precision.
nlohmann::ordered_json model_file_json(const StudyResult& study, const KMeansResult& fit, const KMeansParams& params);

/// Loads and validates model.json; InputError names the file and the field.
SavedModel load_model_file(const std::string& path);

/// The same on the file's text already in memory; `path` is only used in
/// messages.  (The fuzz target's entry point: no file per input.)
SavedModel parse_model_file(std::string_view text, const std::string& path);

}  // namespace archetype
