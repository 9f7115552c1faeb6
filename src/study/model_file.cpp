#include "study/model_file.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "archetype/error.hpp"
#include "io/printable.hpp"

namespace archetype {
namespace {

constexpr const char* kFormat = "archetype-model";
constexpr int kVersion = 1;

using json = nlohmann::json;

[[noreturn]] void fail(const std::string& path, const std::string& field, const std::string& what) {
  throw InputError(path + ": field '" + field + "': " + what);
}

const json& need(const json& j, const char* key, const std::string& path, const std::string& prefix = "") {
  if (!j.is_object() || !j.contains(key)) fail(path, prefix + key, "missing");
  return j.at(key);
}

std::vector<double> numbers(const json& j, std::size_t expected, const std::string& path, const std::string& field) {
  if (!j.is_array() || j.size() != expected)
    fail(path, field, "expected an array of " + std::to_string(expected) + " numbers");
  std::vector<double> v;
  for (std::size_t i = 0; i < j.size(); ++i) {
    if (!j[i].is_number()) fail(path, field + "[" + std::to_string(i) + "]", "expected a number");
    const double x = j[i].get<double>();
    if (!std::isfinite(x)) fail(path, field + "[" + std::to_string(i) + "]", "expected a finite number");
    v.push_back(x);
  }
  return v;
}

}  // namespace

nlohmann::ordered_json model_file_json(const StudyResult& study, const KMeansResult& fit, const KMeansParams& params) {
  const std::vector<std::string>& columns = study.input.columns;
  const std::vector<std::string>& names = study.input.feature_names;
  const StandardScaler& scaler = study.scaler.value();
  std::vector<std::string> persona_names;
  for (const ClusterSummary& c : study.model.value().clusters) persona_names.push_back(c.persona.name);
  nlohmann::ordered_json features = nlohmann::ordered_json::array();
  for (std::size_t j = 0; j < columns.size(); ++j) features.push_back({{"column", columns[j]}, {"name", names[j]}});
  nlohmann::ordered_json centroids = nlohmann::ordered_json::array();
  for (std::size_t c = 0; c < static_cast<std::size_t>(fit.k); ++c)
    centroids.push_back(std::vector<double>(fit.centers.begin() + static_cast<std::ptrdiff_t>(c * fit.d),
                                            fit.centers.begin() + static_cast<std::ptrdiff_t>((c + 1) * fit.d)));
  nlohmann::ordered_json m;
  m["format"] = kFormat;
  m["version"] = kVersion;
  m["archetype_version"] = ARCHETYPE_VERSION;
  m["features"] = features;
  m["scaler"] = {{"mean", scaler.mean}, {"scale", scaler.scale}};
  m["k"] = fit.k;
  m["centroids_scaled"] = centroids;
  m["personas"] = persona_names;
  m["inertia"] = fit.inertia;
  m["parameters"] = {{"seed", params.seed}, {"n_init", params.n_init}, {"max_iter", params.max_iter},
                     {"tol", params.tol}, {"init", "k-means++"}};
  m["training_input"] = study.input.path;
  m["transforms"] = study.input.transforms.empty() ? std::vector<std::string>(columns.size(), "none")
                                                   : study.input.transforms;
  m["id_column"] = study.input.id_column.empty() ? nlohmann::ordered_json(nullptr)
                                                 : nlohmann::ordered_json(study.input.id_column);
  // What predict compares new rows with: each feature's range in original
  // units, and the root mean squared distance of the training rows to their
  // centre (z units).
  nlohmann::ordered_json mins = nlohmann::ordered_json::array(), maxs = nlohmann::ordered_json::array();
  for (const FeatureSummary& f : study.profile) {
    mins.push_back(f.stats.min);
    maxs.push_back(f.stats.max);
  }
  // With weights the inertia is weighted: its mean is over the total weight.
  const double rows = study.input.sample_weight ? study.input.sample_weight->total
                                                : static_cast<double>(study.input.rows);
  m["training"] = {{"rows", study.input.rows},
                   {"min", mins},
                   {"max", maxs},
                   {"rms_distance", rows > 0 ? std::sqrt(fit.inertia / rows) : 0.0}};
  return m;
}

SavedModel load_model_file(const std::string& path) {
  if (path.empty()) throw InputError("predict needs --model FILE (a model.json written by fit or run)");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open the model file (" + std::strerror(errno) + ")");
  // An ifstream opens a directory too, which then reads as empty "JSON".
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    throw InputError(path + ": expected a model file, found a directory");
  // Parsed JSON takes about ten times its text: refuse what no model.json
  // Archetype writes comes near (k = 4,096 x d = 1,024 is about 80 MB).
  if (st.st_size > kMaxModelFileBytes)
    throw InputError(path + ": " + std::to_string(st.st_size) + " bytes, above the " +
                     std::to_string(kMaxModelFileBytes >> 20) + " MiB a model.json may have");
  std::stringstream buf;
  buf << in.rdbuf();
  return parse_model_file(buf.str(), path);
}

SavedModel parse_model_file(std::string_view text, const std::string& path) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    // parse_error names the line and column; out_of_range comes from a
    // number beyond double (1e400).  Both are bad input, not a crash.
    throw InputError(path + ": not valid JSON (" + e.what() + ")");
  }
  if (!j.is_object())
    throw InputError(path + ": expected a JSON object (a model.json written by fit or run), found " +
                     std::string(j.type_name()));
  const json& format = need(j, "format", path);
  if (!format.is_string() || format.get<std::string>() != kFormat)
    fail(path, "format", std::string("expected \"") + kFormat + "\", found " + printable(format.dump(), 80));
  // Compared as JSON values: get<int>() would wrap 4294967297 to 1.
  const json& version = need(j, "version", path);
  if (!version.is_number_integer() || version != json(kVersion))
    fail(path, "version", "expected " + std::to_string(kVersion) + " (the model format this build reads), found " +
                              printable(version.dump(), 80));
  SavedModel m;
  const json& features = need(j, "features", path);
  if (!features.is_array() || features.empty()) fail(path, "features", "expected a non-empty array");
  for (std::size_t i = 0; i < features.size(); ++i) {
    const std::string f = "features[" + std::to_string(i) + "]";
    const json& col = need(features[i], "column", path, f + ".");
    const json& name = need(features[i], "name", path, f + ".");
    if (!col.is_string() || !name.is_string()) fail(path, f, "expected strings 'column' and 'name'");
    m.columns.push_back(col.get<std::string>());
    m.names.push_back(name.get<std::string>());
  }
  const std::size_t d = m.columns.size();
  const json& scaler = need(j, "scaler", path);
  m.mean = numbers(need(scaler, "mean", path, "scaler."), d, path, "scaler.mean");
  m.scale = numbers(need(scaler, "scale", path, "scaler."), d, path, "scaler.scale");
  // A scale of 1e-300 would turn every new value into inf; a mean of 1e300
  // loses every value's digits: both are refused by field.
  for (std::size_t i = 0; i < d; ++i) {
    if (!(m.scale[i] >= 1e-30)) fail(path, "scaler.scale[" + std::to_string(i) + "]", "expected a number >= 1e-30");
    if (!(std::fabs(m.mean[i]) <= 1e30)) fail(path, "scaler.mean[" + std::to_string(i) + "]", "expected |mean| <= 1e30");
  }
  const json& k = need(j, "k", path);
  if (!k.is_number_integer() || k.get<long long>() < 1 || k.get<long long>() > 1000000)
    fail(path, "k", "expected a positive integer");
  m.k = k.get<int>();
  const json& cents = need(j, "centroids_scaled", path);
  if (!cents.is_array() || cents.size() != static_cast<std::size_t>(m.k))
    fail(path, "centroids_scaled", "expected " + std::to_string(m.k) + " centroids");
  for (std::size_t c = 0; c < cents.size(); ++c) {
    const std::vector<double> v = numbers(cents[c], d, path, "centroids_scaled[" + std::to_string(c) + "]");
    // Centres are in z units: a magnitude of 1e6 is already absurd; far
    // beyond it the squared distances leave float32.
    for (std::size_t j = 0; j < d; ++j)
      if (std::fabs(v[j]) > 1e6)
        fail(path, "centroids_scaled[" + std::to_string(c) + "][" + std::to_string(j) + "]",
             "expected a centre in z units (standard deviations, |value| <= 1e6), found " + printable(cents[c][j].dump(), 40));
    m.centroids_scaled.insert(m.centroids_scaled.end(), v.begin(), v.end());
  }
  const json& personas = need(j, "personas", path);
  if (!personas.is_array() || personas.size() != static_cast<std::size_t>(m.k))
    fail(path, "personas", "expected " + std::to_string(m.k) + " names");
  for (std::size_t c = 0; c < personas.size(); ++c) {
    if (!personas[c].is_string()) fail(path, "personas[" + std::to_string(c) + "]", "expected a string");
    m.persona_names.push_back(personas[c].get<std::string>());
  }
  // Optional (older files have none): transforms, the training data's extent.
  if (j.contains("id_column") && j.at("id_column").is_string()) m.id_column = j.at("id_column").get<std::string>();
  m.transforms.assign(d, "none");
  if (j.contains("transforms")) {
    const json& t = j.at("transforms");
    if (!t.is_array() || t.size() != d) fail(path, "transforms", "expected " + std::to_string(d) + " names");
    for (std::size_t i = 0; i < d; ++i) {
      if (t[i] != "none" && t[i] != "log1p")
        fail(path, "transforms[" + std::to_string(i) + "]", "expected \"none\" or \"log1p\"");
      m.transforms[i] = t[i].get<std::string>();
    }
  }
  if (j.contains("training")) {
    const json& t = j.at("training");
    m.training_min = numbers(need(t, "min", path, "training."), d, path, "training.min");
    m.training_max = numbers(need(t, "max", path, "training."), d, path, "training.max");
    const json& rms = need(t, "rms_distance", path, "training.");
    if (!rms.is_number() || !(rms.get<double>() >= 0.0) || !std::isfinite(rms.get<double>()))
      fail(path, "training.rms_distance", "expected a non-negative number");
    m.training_rms_distance = rms.get<double>();
  }
  return m;
}

}  // namespace archetype
