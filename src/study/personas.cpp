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
#include <sstream>
#include <stdexcept>

#include "archetype/error.hpp"
#include "archetype/hungarian.hpp"
#include "study/level_names.hpp"

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

  /// The file's text, refused above kMaxCatalogBytes before it is read.
  std::string load() const {
    std::ifstream in(path_, std::ios::binary);
    if (!in) fail_file("cannot open file");
    in.seekg(0, std::ios::end);
    const std::streamoff size = in.tellg();
    if (size > static_cast<std::streamoff>(kMaxCatalogBytes))
      fail_file(std::to_string(static_cast<long long>(size)) + " bytes, above the 16 MiB a persona catalog may have");
    in.seekg(0, std::ios::beg);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in && !in.eof()) fail_file("cannot read file");
    return text.str();
  }

  PersonaCatalog read(std::string_view text) const {
    const json root = parse(text);
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

  json parse(std::string_view text) const {
    if (text.size() > kMaxCatalogBytes)
      fail_file(std::to_string(text.size()) + " bytes, above the 16 MiB a persona catalog may have");
    try {
      return json::parse(text.begin(), text.end());
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
      check_keys(f, field, {"name", "short", "aliases"});
      const std::string name = text(require(f, field, "name"), child(field, "name"), false);
      const std::string short_name =
          f.contains("short") ? text(f.at("short"), child(field, "short"), false) : name;
      claim(name, child(field, "name"));
      if (lowercase(short_name) != lowercase(name)) claim(short_name, child(field, "short"));
      std::vector<std::string> aliases;
      if (f.contains("aliases")) {
        const json& list = array(f.at("aliases"), child(field, "aliases"));
        for (std::size_t a = 0; a < list.size(); ++a) {
          aliases.push_back(text(list[a], item(child(field, "aliases"), a), false));
          claim(aliases.back(), item(child(field, "aliases"), a));
        }
      }
      catalog.features.push_back(name);
      catalog.short_names.push_back(short_name);
      catalog.aliases.push_back(std::move(aliases));
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

/// The names catalog feature f goes by.
std::vector<std::string> names_of(const PersonaCatalog& catalog, std::size_t f) {
  std::vector<std::string> names = {catalog.features[f], catalog.short_names[f]};
  if (f < catalog.aliases.size()) names.insert(names.end(), catalog.aliases[f].begin(), catalog.aliases[f].end());
  return names;
}

// Data column whose display name or file column name is one of the catalog
// feature's names (case-insensitively), if any.
std::optional<std::size_t> find_feature(const PersonaCatalog& catalog, std::size_t f, const PersonaRequest& r) {
  for (const std::string& name : names_of(catalog, f))
    for (std::size_t j = 0; j < r.feature_names.size(); ++j)
      if (same_name(r.feature_names[j], name) || (j < r.columns.size() && same_name(r.columns[j], name))) return j;
  return std::nullopt;
}

/// Data column of each catalog feature, when the catalog applies.
std::optional<std::vector<std::size_t>> map_features(const PersonaCatalog& catalog, const PersonaRequest& r) {
  std::vector<std::size_t> columns;
  for (std::size_t f = 0; f < catalog.features.size(); ++f)
    if (const auto j = find_feature(catalog, f, r)) columns.push_back(*j);
  if (columns.size() == catalog.features.size()) return columns;
  if (r.catalog_chosen && columns.empty() && r.feature_names.size() == catalog.features.size()) {
    // A catalog the user chose for differently named data of its shape:
    // the user vouches for the order.
    columns.resize(catalog.features.size());
    for (std::size_t j = 0; j < columns.size(); ++j) columns[j] = j;
    return columns;
  }
  return std::nullopt;
}

std::string catalog_note(const PersonaCatalog& catalog) {
  std::string metrics;
  for (std::size_t f = 0; f < catalog.features.size(); ++f)
    metrics += (f == 0 ? "" : f + 1 == catalog.features.size() ? " and " : ", ") + catalog.features[f];
  return "the persona catalog describes " + metrics +
         ", which this table does not have: clusters are named from where their members sit in each "
         "feature's distribution, without the catalog's personas and advice (--personas FILE gives a catalog for "
         "these features)";
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

}  // namespace

PersonaCatalog load_persona_catalog(const std::string& path) {
  const CatalogReader reader(path);
  return reader.read(reader.load());
}

PersonaCatalog parse_persona_catalog(std::string_view text, const std::string& source_name) {
  return CatalogReader(source_name).read(text);
}

PersonaAssignment assign_personas(const PersonaCatalog& catalog, const PersonaRequest& r) {
  const std::size_t d = r.feature_names.size(), k = r.k;
  if (r.z_centroids.size() != k * d || r.quantiles.size() != k * d)
    throw std::invalid_argument("assign_personas: centroids or quantiles are not k x d");
  PersonaAssignment out;
  out.personas.resize(k);
  const auto columns = map_features(catalog, r);
  out.catalog_applies = columns.has_value();
  if (columns) match_archetypes(catalog, *columns, r.z_centroids, k, d, out.personas);
  else out.note = catalog_note(catalog);
  // Every cluster without an archetype gets a data-driven name, distinct
  // from the others and from the archetypes' names.
  std::vector<std::size_t> unnamed;
  for (std::size_t c = 0; c < k; ++c)
    if (out.personas[c].archetype < 0) unnamed.push_back(c);
  std::vector<double> q;
  for (std::size_t c : unnamed) q.insert(q.end(), r.quantiles.begin() + c * d, r.quantiles.begin() + (c + 1) * d);
  const std::vector<std::string> names = level_names(r.feature_names, q, unnamed.size());
  for (std::size_t i = 0; i < unnamed.size(); ++i) out.personas[unnamed[i]].name = names[i];
  return out;
}

}  // namespace archetype
