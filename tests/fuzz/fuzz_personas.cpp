// libFuzzer target: the persona catalog reader behind `--personas`
// (parse_persona_catalog, what load_persona_catalog runs on the file's
// text).  Besides the contract (load or InputError), a loaded catalog is
// checked for what the naming relies on (one short name and alias list
// per feature, one finite level per feature and archetype, a positive
// match distance), and then names three clusters with it: a valid catalog
// may never make assign_personas throw or return fewer names.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "archetype/personas.hpp"
#include "fuzz_contract.hpp"

namespace {

using archetype::fuzz::finding;

/// Wider catalogs are checked, not assigned (the Hungarian matching is
/// cubic in the clusters, the names linear in the features: both fine, but
/// slow per input).
constexpr std::size_t kMaxAssignedFeatures = 64;

void check_catalog(const archetype::PersonaCatalog& c) {
  const std::size_t d = c.features.size();
  if (d == 0) finding("a loaded catalog without features");
  if (c.short_names.size() != d || c.aliases.size() != d) finding("short_names or aliases not one per feature");
  if (!(c.max_match_distance > 0.0) || !std::isfinite(c.max_match_distance)) finding("max_match_distance not positive");
  if (!(c.low_level <= c.high_level)) finding("levels.low above levels.high");
  for (const archetype::Archetype& a : c.archetypes) {
    if (a.name.empty()) finding("an archetype without a name");
    if (a.levels.size() != d) finding("an archetype whose levels are not one per feature");
    for (double v : a.levels)
      if (!std::isfinite(v)) finding("a non-finite level");
  }
}

/// Names three clusters of a table with the catalog's features, centred
/// on values taken from the input, with the catalog applying by name.
void check_naming(const archetype::PersonaCatalog& c, const std::uint8_t* data, std::size_t size) {
  const std::size_t d = c.features.size();
  if (d > kMaxAssignedFeatures) return;
  archetype::PersonaRequest r;
  r.feature_names = c.features;
  r.k = 3;
  for (std::size_t i = 0; i < r.k * d; ++i) {
    const std::uint8_t b = size ? data[i % size] : 0;
    r.z_centroids.push_back((static_cast<int>(b) - 128) / 32.0);
    r.quantiles.push_back(b / 255.0);
  }
  archetype::PersonaAssignment a;
  try {
    a = archetype::assign_personas(c, r);
  } catch (const std::exception& e) {
    finding(std::string("assign_personas threw on a valid catalog: ") + e.what());
  }
  if (a.personas.size() != r.k) finding("not one persona per cluster");
  if (!a.catalog_applies) finding("a catalog named by its own features does not apply");
  for (const archetype::Persona& p : a.personas) {
    if (p.name.empty()) finding("a persona without a name");
    if (p.archetype >= static_cast<int>(c.archetypes.size())) finding("a persona matched to no archetype");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  archetype::PersonaCatalog catalog;
  if (archetype::fuzz::parses_or_input_error([&] { catalog = archetype::parse_persona_catalog(text, "fuzz.json"); })) {
    check_catalog(catalog);
    check_naming(catalog, data, size);
  }
  return 0;
}
