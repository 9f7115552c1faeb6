// Persona catalog loading and cluster-to-persona assignment.
#include "archetype/personas.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <stdexcept>

#include "archetype/error.hpp"
#include "archetype/hungarian.hpp"

namespace archetype {
namespace {

using nlohmann::json;

std::string lowercase(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// ---------------------------------------------------------------------------
// Catalog loading
// ---------------------------------------------------------------------------

// Reads one catalog file.  Every error names the file and the JSON path of
// the offending field ("archetypes[2].levels"), so a user can fix the file
// without reading this code.
class CatalogReader {
 public:
  explicit CatalogReader(std::string path) : path_(std::move(path)) {}

  PersonaCatalog read() const {
    const json root = parse();
    if (!root.is_object()) fail_file("expected a JSON object at the top level");
    check_keys(root, "", {"version", "features", "max_match_distance", "levels", "archetypes"});

    PersonaCatalog catalog;
    read_version(root);
    read_features(root, catalog);
    if (root.contains("max_match_distance")) {
      catalog.max_match_distance = number(root.at("max_match_distance"), "max_match_distance");
      if (!(catalog.max_match_distance > 0.0)) fail("max_match_distance", "must be positive");
    }
    if (root.contains("levels")) read_levels(root.at("levels"), catalog);
    read_archetypes(root, catalog);
    return catalog;
  }

 private:
  std::string path_;

  [[noreturn]] void fail_file(const std::string& message) const {
    throw InputError(path_ + ": " + message);
  }
  [[noreturn]] void fail(const std::string& field, const std::string& message) const {
    fail_file("field '" + field + "': " + message);
  }
  [[noreturn]] void wrong_type(const json& value, const std::string& field,
                               const std::string& expected) const {
    fail(field, "expected " + expected + ", found " + value.type_name());
  }

  json parse() const {
    std::ifstream in(path_, std::ios::binary);
    if (!in) fail_file("cannot open file");
    try {
      return json::parse(in);
    } catch (const json::parse_error& e) {
      fail_file("invalid JSON at byte " + std::to_string(e.byte) + ": " + e.what());
    } catch (const json::exception& e) {
      // The parser throws out_of_range for a number beyond double's range ("1e999").
      fail_file(std::string("invalid JSON: ") + e.what());
    }
  }

  static std::string child(const std::string& parent, const std::string& key) {
    return parent.empty() ? key : parent + "." + key;
  }
  static std::string item(const std::string& parent, std::size_t i) {
    return parent + "[" + std::to_string(i) + "]";
  }

  // Unknown keys are almost always typos ("max_match_distnce") that would
  // otherwise be silently replaced by defaults; "_" keys are comments.
  void check_keys(const json& obj, const std::string& field,
                  const std::set<std::string>& known) const {
    for (const auto& [key, value] : obj.items()) {
      (void)value;
      if (!key.empty() && key[0] == '_') continue;
      if (known.count(key) == 0) fail(child(field, key), "unknown field");
    }
  }

  const json& require(const json& obj, const std::string& parent, const std::string& key) const {
    if (!obj.contains(key)) fail(child(parent, key), "missing");
    return obj.at(key);
  }

  double number(const json& value, const std::string& field) const {
    if (!value.is_number()) wrong_type(value, field, "a number");
    const double v = value.get<double>();
    if (!std::isfinite(v)) fail(field, "must be finite");
    return v;
  }

  std::string text(const json& value, const std::string& field, bool allow_empty) const {
    if (!value.is_string()) wrong_type(value, field, "a string");
    std::string s = value.get<std::string>();
    if (!allow_empty && s.empty()) fail(field, "must not be empty");
    return s;
  }

  std::string optional_text(const json& obj, const std::string& parent,
                            const std::string& key) const {
    return obj.contains(key) ? text(obj.at(key), child(parent, key), true) : std::string();
  }

  const json& array(const json& value, const std::string& field) const {
    if (!value.is_array()) wrong_type(value, field, "an array");
    return value;
  }

  const json& object(const json& value, const std::string& field) const {
    if (!value.is_object()) wrong_type(value, field, "an object");
    return value;
  }

  void read_version(const json& root) const {
    const json& v = require(root, "", "version");
    if (!v.is_number_integer()) wrong_type(v, "version", "an integer");
    if (v.get<long long>() != 1)
      fail("version", "unsupported version " + v.dump() + ", expected 1");
  }

  void read_features(const json& root, PersonaCatalog& catalog) const {
    const json& features = array(require(root, "", "features"), "features");
    if (features.empty()) fail("features", "must not be empty");
    // Data columns are matched by name or short name, case-insensitively, so
    // those must identify one feature each.
    std::set<std::string> seen;
    auto claim = [&](const std::string& name, const std::string& field) {
      if (!seen.insert(lowercase(name)).second) fail(field, "name '" + name + "' is used twice");
    };
    for (std::size_t i = 0; i < features.size(); ++i) {
      const std::string field = item("features", i);
      const json& f = object(features[i], field);
      check_keys(f, field, {"name", "short"});
      const std::string name = text(require(f, field, "name"), child(field, "name"), false);
      const std::string short_name =
          f.contains("short") ? text(f.at("short"), child(field, "short"), false) : name;
      claim(name, child(field, "name"));
      if (lowercase(short_name) != lowercase(name)) claim(short_name, child(field, "short"));
      catalog.features.push_back(name);
      catalog.short_names.push_back(short_name);
    }
  }

  void read_levels(const json& value, PersonaCatalog& catalog) const {
    const json& levels = object(value, "levels");
    check_keys(levels, "levels", {"high", "low"});
    if (levels.contains("high")) catalog.high_level = number(levels.at("high"), "levels.high");
    if (levels.contains("low")) catalog.low_level = number(levels.at("low"), "levels.low");
    if (catalog.low_level > catalog.high_level) fail("levels", "'low' is above 'high'");
  }

  void read_archetypes(const json& root, PersonaCatalog& catalog) const {
    const json& list = array(require(root, "", "archetypes"), "archetypes");
    std::set<std::string> seen;
    for (std::size_t i = 0; i < list.size(); ++i) {
      Archetype a = read_archetype(list[i], item("archetypes", i), catalog.features.size());
      if (!seen.insert(a.name).second)
        fail(child(item("archetypes", i), "name"), "duplicate archetype '" + a.name + "'");
      catalog.archetypes.push_back(std::move(a));
    }
  }

  Archetype read_archetype(const json& value, const std::string& field, std::size_t d) const {
    const json& obj = object(value, field);
    check_keys(obj, field, {"name", "levels", "characteristics", "strategic_value", "action"});
    Archetype a;
    a.name = text(require(obj, field, "name"), child(field, "name"), false);
    const std::string levels_field = child(field, "levels");
    const json& levels = array(require(obj, field, "levels"), levels_field);
    if (levels.size() != d)
      fail(levels_field,
           "expected " + std::to_string(d) + " numbers, found " + std::to_string(levels.size()));
    for (std::size_t j = 0; j < d; ++j)
      a.levels.push_back(number(levels[j], item(levels_field, j)));
    a.characteristics = optional_text(obj, field, "characteristics");
    a.strategic_value = optional_text(obj, field, "strategic_value");
    a.action = optional_text(obj, field, "action");
    return a;
  }
};

// ---------------------------------------------------------------------------
// Assignment
// ---------------------------------------------------------------------------

bool same_name(const std::string& a, const std::string& b) { return lowercase(a) == lowercase(b); }

// How the catalog's features sit among the data's.
struct FeatureMap {
  /// Data column of each catalog feature; empty when the catalog cannot be
  /// used and every cluster is described instead.
  std::optional<std::vector<std::size_t>> columns;
  /// Label of each data feature in descriptive names.
  std::vector<std::string> labels;
};

// Data column whose name is the catalog feature's name or short name
// (case-insensitively), if any.
std::optional<std::size_t> find_feature(const PersonaCatalog& catalog, std::size_t f,
                                        const std::vector<std::string>& feature_names) {
  for (std::size_t j = 0; j < feature_names.size(); ++j)
    if (same_name(feature_names[j], catalog.features[f]) ||
        same_name(feature_names[j], catalog.short_names[f]))
      return j;
  return std::nullopt;
}

FeatureMap map_features(const PersonaCatalog& catalog,
                        const std::vector<std::string>& feature_names) {
  const std::size_t d = feature_names.size();
  FeatureMap map;
  map.labels = feature_names;
  std::vector<std::size_t> columns;
  for (std::size_t f = 0; f < catalog.features.size(); ++f) {
    if (const auto j = find_feature(catalog, f, feature_names)) {
      columns.push_back(*j);
      map.labels[*j] = catalog.short_names[f];
    }
  }
  if (columns.size() == catalog.features.size()) {
    map.columns = std::move(columns);
  } else if (columns.empty() && d == catalog.features.size()) {
    // Unnamed or differently named data of the right shape: trust the order.
    map.columns = std::vector<std::size_t>(d);
    for (std::size_t j = 0; j < d; ++j) (*map.columns)[j] = j;
    map.labels = catalog.short_names;
  }
  return map;
}

double prototype_distance(const Archetype& a, const std::vector<std::size_t>& columns,
                          const double* z) {
  double sum = 0.0;
  for (std::size_t f = 0; f < columns.size(); ++f) {
    const double diff = z[columns[f]] - a.levels[f];
    sum += diff * diff;
  }
  return std::sqrt(sum);
}

// One-to-one matching of clusters to archetypes; pairs farther apart than
// max_match_distance are dropped afterwards, leaving those clusters unnamed.
void match_archetypes(const PersonaCatalog& catalog, const std::vector<std::size_t>& columns,
                      const std::vector<double>& z_centroids, std::size_t k, std::size_t d,
                      std::vector<Persona>& personas) {
  const std::size_t m = catalog.archetypes.size();
  std::vector<double> cost(k * m);
  for (std::size_t c = 0; c < k; ++c)
    for (std::size_t a = 0; a < m; ++a)
      cost[c * m + a] = prototype_distance(catalog.archetypes[a], columns, &z_centroids[c * d]);

  const std::vector<int> assignment = solve_assignment(cost, k, m);
  for (std::size_t c = 0; c < k; ++c) {
    if (assignment[c] < 0) continue;
    const auto a = static_cast<std::size_t>(assignment[c]);
    if (cost[c * m + a] > catalog.max_match_distance) continue;
    const Archetype& arch = catalog.archetypes[a];
    personas[c] = Persona{
        arch.name,  assignment[c], cost[c * m + a], arch.characteristics, arch.strategic_value,
        arch.action};
  }
}

// Repeated descriptive names become "X", "X (2)", "X (3)" in cluster order.
void number_duplicates(std::vector<Persona>& personas) {
  std::map<std::string, int> seen;
  for (Persona& p : personas) {
    if (p.archetype >= 0) continue;
    const int count = ++seen[p.name];
    if (count > 1) p.name += " (" + std::to_string(count) + ")";
  }
}

}  // namespace

PersonaCatalog load_persona_catalog(const std::string& path) { return CatalogReader(path).read(); }

std::vector<Persona> assign_personas(const PersonaCatalog& catalog,
                                     const std::vector<std::string>& feature_names,
                                     const std::vector<double>& z_centroids, std::size_t k) {
  const std::size_t d = feature_names.size();
  if (z_centroids.size() != k * d)
    throw std::invalid_argument("assign_personas: z_centroids is not k x d");

  const FeatureMap map = map_features(catalog, feature_names);
  std::vector<Persona> personas(k);
  if (map.columns) match_archetypes(catalog, *map.columns, z_centroids, k, d, personas);
  for (std::size_t c = 0; c < k; ++c)
    if (personas[c].archetype < 0)
      personas[c].name = describe_levels(catalog, map.labels, &z_centroids[c * d], d);
  number_duplicates(personas);
  return personas;
}

std::string describe_levels(const PersonaCatalog& catalog,
                            const std::vector<std::string>& short_names, const double* z,
                            std::size_t d) {
  if (short_names.size() < d) throw std::invalid_argument("describe_levels: too few names");
  std::string name;
  for (std::size_t j = 0; j < d; ++j) {
    const char* level = z[j] > catalog.high_level  ? "High"
                        : z[j] < catalog.low_level ? "Low"
                                                   : "Moderate";
    if (j > 0) name += ", ";
    name += std::string(level) + " " + short_names[j];
  }
  return name;
}

}  // namespace archetype
