// Naming clusters as creator personas (step 6 of the study).
//
// A catalog (data/personas.json) holds archetypes, each with a prototype
// level per feature in z units (standard deviations from the platform
// average).  Clusters are matched to archetypes one-to-one by the Hungarian
// method on the Euclidean distance between the cluster's z-centroid and the
// prototype; a cluster left over, or matched farther than
// max_match_distance, gets a descriptive name built from its levels.
#pragma once

#include <cstddef>
#include <string>
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
  std::vector<std::string> short_names;  ///< short names for descriptive labels
  double max_match_distance = 1.5;       ///< in z units
  double high_level = 0.5;               ///< z above which a level is "High"
  double low_level = -0.5;               ///< z below which a level is "Low"
  std::vector<Archetype> archetypes;
};

/// Loads and validates a catalog; throws InputError naming the file and the
/// offending field.
PersonaCatalog load_persona_catalog(const std::string& path);

struct Persona {
  std::string name;
  int archetype = -1;       ///< index into the catalog, -1 for a descriptive name
  double distance = 0.0;    ///< z distance to the matched prototype (0 when descriptive)
  std::string characteristics;
  std::string strategic_value;
  std::string action;
};

/// One persona per cluster.  `feature_names` are the display names of the
/// data's features; catalog features are matched to them by name, and when
/// no name matches but the counts agree, by position.  When neither works,
/// every cluster gets a descriptive name.  z_centroids is k x d, row-major.
std::vector<Persona> assign_personas(const PersonaCatalog& catalog,
                                     const std::vector<std::string>& feature_names,
                                     const std::vector<double>& z_centroids, std::size_t k);

/// "High Engagement, Low Monetization" style name from z levels.
std::string describe_levels(const PersonaCatalog& catalog,
                            const std::vector<std::string>& short_names, const double* z,
                            std::size_t d);

}  // namespace archetype
