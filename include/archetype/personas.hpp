// Naming clusters as creator personas (step 6 of the study).
//
// A catalog (data/personas.json) holds archetypes, each with a prototype
// level per feature in z units (standard deviations from the platform
// average).  It names clusters only when the table's features are the
// catalog's metrics (by name, short name or alias, in any order), or by
// position when the user chose the catalog (--personas).  Clusters are then
// matched to archetypes one-to-one by the Hungarian method on the Euclidean
// distance between the cluster's z-centroid and the prototype.  Every other
// cluster (a table the catalog does not describe, a cluster left over or
// matched farther than max_match_distance) gets a short data-driven name from
// the quantiles of its centroid ("High followers, low revenue") and no
// catalog text.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace archetype {

struct Archetype {
  std::string name;
  std::vector<double> levels;  ///< prototype z level per catalog feature
  std::string characteristics;
  std::string strategic_value;
  std::string action;          ///< recommended action
};

struct PersonaCatalog {
  std::vector<std::string> features;     ///< display names the levels refer to
  std::vector<std::string> short_names;  ///< short names, also matched against the data's names
  std::vector<std::vector<std::string>> aliases;  ///< more names each feature goes by (column names)
  double max_match_distance = 1.5;       ///< in z units
  /// z thresholds of the catalog format's "levels"; read for compatibility,
  /// unused since descriptive names come from quantiles (level_names.hpp).
  double high_level = 0.5;
  double low_level = -0.5;
  std::vector<Archetype> archetypes;
};

/// The most a catalog file may have: parsed JSON takes about ten times its
/// text, so a larger one is refused before parsing.
inline constexpr std::size_t kMaxCatalogBytes = std::size_t{16} << 20;

/// Loads and validates a catalog; throws InputError naming the file and the
/// offending field.
PersonaCatalog load_persona_catalog(const std::string& path);
/// The same on a catalog's text; `source_name` names it in the messages.
PersonaCatalog parse_persona_catalog(std::string_view text, const std::string& source_name);

struct Persona {
  std::string name;
  int archetype = -1;       ///< index into the catalog, -1 for a descriptive name
  double distance = 0.0;    ///< z distance to the matched prototype (0 when descriptive)
  std::string characteristics;
  std::string strategic_value;
  std::string action;
};

/// What the naming needs to know about the fitted clusters.
struct PersonaRequest {
  std::vector<std::string> feature_names;  ///< display names, one per feature
  std::vector<std::string> columns;        ///< the same features' names in the file (may be empty)
  std::size_t k = 0;
  std::vector<double> z_centroids;         ///< k x d, row-major, z units
  /// k x d: each centroid's quantile within its feature's distribution, in [0, 1].
  std::vector<double> quantiles;
  /// The user chose the catalog (--personas): when no name matches but the
  /// feature counts agree, its features are taken by position.
  bool catalog_chosen = false;
};

struct PersonaAssignment {
  std::vector<Persona> personas;  ///< one per cluster
  bool catalog_applies = false;   ///< the catalog's features were found in the table
  std::string note;               ///< why the catalog does not apply (empty when it does)
};

/// Names every cluster (see the top of this file).  Throws
/// std::invalid_argument when the request's sizes disagree.
PersonaAssignment assign_personas(const PersonaCatalog& catalog, const PersonaRequest& request);

}  // namespace archetype
