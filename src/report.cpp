#include "report.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <vector>

#include "text_table.hpp"

namespace archetype {
namespace {

using json = nlohmann::ordered_json;

std::string skew_words(double skew) {
  const double a = std::fabs(skew);
  const std::string side = skew < 0 ? "left-skewed (a longer tail of low values; most creators sit above the mean)"
                                    : "right-skewed (a longer tail of high values; most creators sit below the mean)";
  if (a < 0.1) return "essentially symmetric";
  if (a < 0.5) return "mildly " + side;
  if (a < 1.0) return "moderately " + side;
  return "strongly " + side;
}

std::string kurtosis_words(double k) {
  if (k < -1.0) return "a flat, spread-out distribution with thin tails (platykurtic), typical of several overlapping groups";
  if (k < -0.3) return "somewhat flatter than normal";
  if (k <= 0.3) return "tails close to a normal distribution";
  if (k <= 1.0) return "somewhat heavier tails than normal";
  return "heavy tails (leptokurtic): outliers matter";
}

void profile_section(std::ostringstream& s, const json& sum) {
  s << "## 1. Data profile\n\n";
  const json& in = sum["input"];
  s << in["rows"].get<std::size_t>() << " creators from `" << in["path"].get<std::string>() << "`";
  if (in["dropped_rows"].get<std::size_t>() > 0) s << " (" << in["dropped_rows"].get<std::size_t>() << " invalid rows dropped)";
  s << ".\n\n";
  TextTable t({"feature", "column", "mean", "std", "skew", "skew (unbiased)", "excess kurtosis", "min", "max"});
  for (const json& p : sum["profile"])
    t.add({p["name"].get<std::string>(), "`" + p["column"].get<std::string>() + "`", format_fixed(p["mean"], 4),
           format_fixed(p["std"], 4), format_signed(p["skew"], 4), format_signed(p["skew_unbiased"], 4),
           format_signed(p["kurtosis"], 4), format_fixed(p["min"], 3), format_fixed(p["max"], 3)});
  s << t.markdown() << "\n";
  for (const json& p : sum["profile"]) {
    s << "- **" << p["name"].get<std::string>() << "** is " << skew_words(p["skew"]) << " (skew "
      << format_signed(p["skew"], 3) << "), with " << kurtosis_words(p["kurtosis"]) << " (excess kurtosis "
      << format_signed(p["kurtosis"], 3) << "). Its QQ plot against the normal has correlation r = "
      << format_fixed(p["qq"]["r"], 4) << ".\n";
  }
  s << "\nThe standard deviation is the population one (ddof = 0); skew is the biased Fisher-Pearson coefficient "
       "(scipy's default) and, in brackets, the adjusted one (pandas). QQ-plot data are in `summary.json` "
       "(`profile[].qq`).\n\n";
}

void preprocessing_section(std::ostringstream& s, const json& sum) {
  if (!sum.contains("scaler")) return;
  s << "## 2. Preprocessing\n\n";
  s << "Each feature is standardized to z-scores, z = (x - mean) / std (population std, as scikit-learn's "
       "StandardScaler), so that both metrics weigh the same in the Euclidean distance K-Means uses.";
  for (const json& w : sum["warnings"]) s << " Warning: " << w.get<std::string>() << ".";
  s << "\n\n";
}

std::string k_text(const json& v) { return v.is_number() ? "k = " + std::to_string(v.get<int>()) : "no clear k"; }

void sweep_section(std::ostringstream& s, const json& sum) {
  if (!sum.contains("sweep")) return;
  s << "## 3. Choosing k\n\n";
  const json& params = sum["parameters"];
  s << "K-Means was fitted for k = " << params["k_min"].get<int>() << ".." << params["k_max"].get<int>()
    << ", each with k-means++ and " << params["n_init"].get<int>() << " runs (best inertia kept).\n\n";
  TextTable t({"k", "WCSS", "silhouette", "Calinski-Harabasz", "Davies-Bouldin", "iterations"});
  const json& sug = sum["suggested_k"];
  for (const json& p : sum["sweep"]) {
    std::string k = std::to_string(p["k"].get<int>());
    if (sug["elbow"] == p["k"]) k += " (elbow)";
    if (sug["silhouette"] == p["k"]) k += " (best silhouette)";
    t.add({k, format_fixed(p["wcss"], 3), format_json_number(p["silhouette"], 4),
           format_json_number(p["calinski_harabasz"], 1), format_json_number(p["davies_bouldin"], 4),
           std::to_string(p["n_iter"].get<int>())});
  }
  s << t.markdown() << "\n";
  s << "- Elbow (Kneedle knee of the WCSS curve): **" << k_text(sug["elbow"]) << "**.\n";
  s << "- Silhouette (highest mean silhouette): **" << k_text(sug["silhouette"]) << "**.\n";
  if (sug["elbow"] != sug["silhouette"])
    s << "- **The criteria disagree**: the elbow points to " << k_text(sug["elbow"]) << " while the silhouette prefers "
      << k_text(sug["silhouette"]) << ".\n";
  else
    s << "- Both criteria agree on " << k_text(sug["elbow"]) << ".\n";
  if (sum.contains("model")) {
    const int k = sum["model"]["k"].get<int>();
    const bool elbow_differs = sug["elbow"].is_number() && sug["elbow"].get<int>() != k;
    const bool silhouette_differs = sug["silhouette"].is_number() && sug["silhouette"].get<int>() != k;
    s << "- This report uses **k = " << k << "** (" << params["k_rule"].get<std::string>() << ").";
    if (elbow_differs || silhouette_differs) {
      s << " **The criteria disagree with this choice**:";
      if (elbow_differs) s << " the elbow picks k = " << sug["elbow"].get<int>() << ";";
      if (silhouette_differs) {
        s << " the silhouette picks k = " << sug["silhouette"].get<int>();
        for (const json& p : sum["sweep"]) {
          if (p["k"].get<int>() == sug["silhouette"].get<int>() && p["silhouette"].is_number())
            s << " (" << format_fixed(p["silhouette"], 4) << " against " << format_json_number(sum["model"]["silhouette"], 4)
              << " at k = " << k << ")";
        }
        s << ";";
      }
      s << " k = " << k << " trades some separation for a finer segmentation.";
    }
    s << "\n";
  }
  s << "\n";
}

void model_section(std::ostringstream& s, const json& sum) {
  if (!sum.contains("model")) return;
  const json& m = sum["model"];
  const json& st = m["stability"];
  s << "## 4. The model\n\n";
  s << "K-Means with k = " << m["k"].get<int>() << ", k-means++ initialisation, best of " << m["n_init"].get<int>()
    << " runs (seed " << m["seed"].get<std::uint64_t>() << "): inertia (WCSS) " << format_fixed(m["inertia"], 4)
    << ", mean silhouette " << format_json_number(m["silhouette"], 4) << ", " << m["n_iter"].get<int>()
    << " Lloyd iterations.\n\n";
  const double spread = st["inertia_max"].get<double>() - st["inertia_min"].get<double>();
  s << "Stability across the runs: inertia from " << format_fixed(st["inertia_min"], 4) << " to "
    << format_fixed(st["inertia_max"], 4) << " (median " << format_fixed(st["inertia_median"], 4)
    << "); mean pairwise adjusted Rand index " << format_fixed(st["mean_ari"], 4) << ". ";
  const double ari = st["mean_ari"].get<double>();
  if (ari > 0.99 && spread <= 1e-6 * st["inertia_min"].get<double>())
    s << "Every run found the same segmentation: the solution is stable.\n\n";
  else if (ari > 0.9)
    s << "The runs mostly agree: the segmentation is stable up to a few boundary creators.\n\n";
  else
    s << "The runs disagree: several local optima exist, so the segmentation should be read with care.\n\n";
}

void personas_section(std::ostringstream& s, const json& sum) {
  if (!sum.contains("model")) return;
  const json& m = sum["model"];
  std::vector<std::string> names;
  for (const json& p : sum["profile"]) names.push_back(p["name"].get<std::string>());
  s << "## 5. Personas\n\n";
  s << "Each cluster is named after the archetype whose prototype (in z units) is nearest to its centroid, by an "
       "optimal one-to-one matching; relative importance is the cluster mean over the platform mean, minus 1.\n\n";
  std::vector<std::string> headers = {"persona", "creators", "share"};
  for (const std::string& n : names) headers.push_back(n);
  headers.push_back("relative importance");
  headers.push_back("silhouette");
  TextTable t(headers);
  for (const json& c : m["clusters"]) {
    std::vector<std::string> row = {"**" + c["persona"].get<std::string>() + "**",
                                    std::to_string(c["size"].get<long long>()), format_percent(c["share"])};
    for (const json& v : c["centroid"]) row.push_back(format_fixed(v, 3));
    std::string rel;
    for (std::size_t j = 0; j < c["relative_importance"].size(); ++j) {
      const json& v = c["relative_importance"][j];
      rel += (j ? ", " : "") + (v.is_number() ? format_signed(v, 3) : std::string("n/a"));
    }
    row.push_back(rel);
    row.push_back(format_json_number(c["silhouette"], 3));
    t.add(row);
  }
  s << t.markdown() << "\n";
  TextTable d({"persona", "characteristics", "strategic value"});
  for (const json& c : m["clusters"]) {
    const std::string ch = c["characteristics"].get<std::string>();
    d.add({c["persona"].get<std::string>(), ch.empty() ? "No archetype matched; named from its levels." : ch,
           c["strategic_value"].get<std::string>()});
  }
  s << d.markdown() << "\n";
}

void recommendations_section(std::ostringstream& s, const json& sum) {
  if (!sum.contains("model")) return;
  std::vector<json> clusters(sum["model"]["clusters"].begin(), sum["model"]["clusters"].end());
  std::stable_sort(clusters.begin(), clusters.end(),
                   [](const json& a, const json& b) { return a["share"].get<double>() > b["share"].get<double>(); });
  s << "## 6. Strategic recommendations\n\n";
  s << "By segment size:\n\n";
  for (const json& c : clusters) {
    const std::string action = c["action"].get<std::string>();
    s << "- **" << c["persona"].get<std::string>() << "** (" << c["size"].get<long long>() << " creators, "
      << format_percent(c["share"]) << "): "
      << (action.empty() ? "no archetype matched this segment; review it by hand before acting on it." : action) << "\n";
  }
  // The segment furthest above average on each feature, from the numbers.
  std::vector<std::string> names;
  for (const json& p : sum["profile"]) names.push_back(p["name"].get<std::string>());
  s << "\n";
  for (std::size_t j = 0; j < names.size(); ++j) {
    const json* best = nullptr;
    for (const json& c : clusters) {
      const json& v = c["relative_importance"][j];
      if (v.is_number() && (!best || v.get<double>() > (*best)["relative_importance"][j].get<double>())) best = &c;
    }
    if (best)
      s << "- Highest " << names[j] << ": **" << (*best)["persona"].get<std::string>() << "** ("
        << format_signed(100.0 * (*best)["relative_importance"][j].get<double>(), 1) << "% vs the platform average).\n";
  }
  s << "\n";
}

}  // namespace

std::string render_report_markdown(const json& sum) {
  std::ostringstream s;
  s << "# Creator archetypes: segmentation report\n\n";
  s << "_Generated by Archetype " << sum["archetype_version"].get<std::string>() << " (`archetype "
    << sum["command"].get<std::string>() << "`, backend " << sum.value("backend", std::string("none")) << ")._\n\n";
  if (sum.contains("model")) {
    const json& m = sum["model"];
    s << "**Summary.** " << sum["input"]["rows"].get<std::size_t>() << " creators were segmented into "
      << m["k"].get<int>() << " personas (silhouette " << format_json_number(m["silhouette"], 3) << ").";
    if (sum.contains("suggested_k"))
      s << " Elbow: " << k_text(sum["suggested_k"]["elbow"]) << "; silhouette: " << k_text(sum["suggested_k"]["silhouette"]) << ".";
    s << "\n\n";
  }
  profile_section(s, sum);
  preprocessing_section(s, sum);
  sweep_section(s, sum);
  model_section(s, sum);
  personas_section(s, sum);
  recommendations_section(s, sum);
  return s.str();
}

}  // namespace archetype
