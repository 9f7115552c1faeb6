#include "study/text_table.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "io/printable.hpp"

namespace archetype {

namespace {

/// Display width in code points (UTF-8 continuation bytes do not count).
std::size_t width(const std::string& s) {
  std::size_t w = 0;
  for (unsigned char c : s) w += (c & 0xC0) != 0x80;
  return w;
}

/// A cell as shown: one line, at most kMaxCellChars code points.
std::string shown_cell(const std::string& text) {
  std::string s = single_line(text);
  if (width(s) <= kMaxCellChars) return s;
  std::size_t chars = 0, i = 0;  // cut before code point kMaxCellChars - 3
  for (; i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && chars++ == kMaxCellChars - 3) break;
  s.resize(i);
  return s + "...";
}

}  // namespace

std::string more_features(std::size_t shown, std::size_t total, const std::string& where) {
  if (shown >= total) return {};
  return "... and " + count_text(static_cast<std::int64_t>(total - shown)) + " more feature" +
         (total - shown == 1 ? "" : "s") + " (" + where + ")";
}

std::string count_text(std::int64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > (n < 0 ? 1 : 0); i -= 3) s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

std::string TextTable::render() const {
  std::vector<std::string> headers;
  for (const std::string& h : headers_) headers.push_back(shown_cell(h));
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : rows_) {
    rows.emplace_back();
    for (const std::string& c : r) rows.back().push_back(shown_cell(c));
  }
  std::vector<std::size_t> w(headers.size(), 0);
  for (std::size_t i = 0; i < headers.size(); ++i) w[i] = width(headers[i]);
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], width(r[i]));
  std::ostringstream s;
  auto line = [&](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < w.size(); ++i) {
      const std::string c = i < cells.size() ? cells[i] : "";
      s << (i ? "  " : "") << c << std::string(w[i] - width(c), ' ');
    }
    s << '\n';
  };
  line(headers);
  std::vector<std::string> rule;
  for (std::size_t x : w) rule.push_back(std::string(x, '-'));
  line(rule);
  for (const auto& r : rows) line(r);
  return s.str();
}

std::string format_fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string format_signed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%+.*f", decimals, v);
  return buf;
}

std::string format_percent(double share) { return format_fixed(100.0 * share, 1) + "%"; }

std::string format_optional(const std::optional<double>& v, int decimals) {
  return v ? format_fixed(*v, decimals) : "n/a";
}

std::string render_profile_table(const std::vector<FeatureSummary>& profile, const std::string& path, std::size_t rows) {
  std::ostringstream s;
  s << "Data: " << path << " (" << rows << " rows)\n";
  TextTable t({"feature", "mean", "std", "skew", "skew (unbiased)", "kurtosis", "min", "max"});
  const std::size_t shown = std::min(profile.size(), kListedFeatures);
  for (std::size_t j = 0; j < shown; ++j) {
    const FeatureSummary& f = profile[j];
    const FeatureProfile& p = f.stats;
    t.add({f.name, format_fixed(p.mean, 4), format_fixed(p.std, 4), format_signed(p.skew, 4),
           format_signed(p.skew_unbiased, 4), format_signed(p.kurtosis, 4), format_fixed(p.min, 4),
           format_fixed(p.max, 4)});
  }
  s << t.render();
  if (const std::string more = more_features(shown, profile.size(), "summary.json has every one"); !more.empty())
    s << more << "\n";
  return s.str();
}

namespace {

/// The clusters a terminal table lists: every one, in order, up to
/// kTableClusters; beyond, the largest, largest first (ties in order):
/// thousands of rows would bury the rest.
std::vector<std::size_t> listed_clusters(const std::vector<std::int64_t>& sizes) {
  std::vector<std::size_t> at(sizes.size());
  for (std::size_t i = 0; i < at.size(); ++i) at[i] = i;
  if (at.size() <= kTableClusters) return at;
  std::stable_sort(at.begin(), at.end(), [&](std::size_t a, std::size_t b) { return sizes[a] > sizes[b]; });
  at.resize(kTableClusters);
  return at;
}

/// "... and 4,066 smaller clusters (where)\n" when a table of `total`
/// clusters listed only kTableClusters; empty otherwise.
std::string more_clusters(std::size_t total, const std::string& where) {
  if (total <= kTableClusters) return {};
  const std::size_t rest = total - kTableClusters;
  return "... and " + count_text(static_cast<std::int64_t>(rest)) + " smaller cluster" + (rest == 1 ? "" : "s") +
         " (" + where + ")\n";
}

}  // namespace

std::string render_prediction_table(const PredictionSummary& p) {
  TextTable table({"cluster", "persona", "size", "share"});
  std::vector<std::int64_t> sizes;
  for (const PredictionSummary::Cluster& c : p.clusters) sizes.push_back(c.size);
  for (const std::size_t i : listed_clusters(sizes)) {
    const PredictionSummary::Cluster& c = p.clusters[i];
    table.add({std::to_string(c.id), c.persona, std::to_string(c.size), format_percent(c.share)});
  }
  return table.render() + more_clusters(sizes.size(), "summary.json has every one");
}

std::string render_sweep_table(const std::vector<SweepRow>& sweep, const SuggestedK& suggested) {
  std::ostringstream s;
  TextTable t({"k", "WCSS", "silhouette", "Calinski-Harabasz", "Davies-Bouldin", "iterations"});
  for (const SweepRow& p : sweep)
    t.add({std::to_string(p.k), format_fixed(p.wcss, 3), format_optional(p.silhouette, 4),
           format_optional(p.calinski_harabasz, 1), format_optional(p.davies_bouldin, 4), std::to_string(p.n_iter)});
  s << "Choosing k\n" << t.render();
  const auto pick = [](const std::optional<int>& k) { return k ? std::to_string(*k) : std::string("none"); };
  s << "Elbow (Kneedle): k = " << pick(suggested.elbow) << "; highest silhouette: k = " << pick(suggested.silhouette)
    << "\n";
  return s.str();
}

std::string render_model_table(const ModelSummary& model, const std::vector<std::string>& names) {
  std::ostringstream s;
  s << "Model: k = " << model.k << ", inertia " << format_fixed(model.inertia, 3) << ", silhouette "
    << format_optional(model.silhouette, 4) << ", best of " << model.n_init << " runs\n";
  // The first kTableFeatures features (a centroid column and a deviation
  // column each): a row of a wide table must still fit a terminal.
  const std::size_t shown = std::min(names.size(), kTableFeatures);
  std::vector<std::string> headers = {"persona", "size", "share"};
  for (std::size_t j = 0; j < shown; ++j) headers.push_back(names[j]);
  for (std::size_t j = 0; j < shown; ++j) headers.push_back("vs avg: " + names[j]);
  TextTable t(headers);
  std::vector<std::int64_t> sizes;
  for (const ClusterSummary& c : model.clusters) sizes.push_back(c.size);
  for (const std::size_t i : listed_clusters(sizes)) {
    const ClusterSummary& c = model.clusters[i];
    std::vector<std::string> row = {c.persona.name, std::to_string(c.size), format_percent(c.share)};
    for (std::size_t j = 0; j < shown && j < c.centroid.size(); ++j) row.push_back(format_fixed(c.centroid[j], 3));
    for (std::size_t j = 0; j < shown && j < c.relative_importance.size(); ++j) {
      const std::optional<double>& v = c.relative_importance[j];
      row.push_back(v ? format_signed(*v, 3) : "n/a");
    }
    t.add(row);
  }
  s << t.render() << more_clusters(sizes.size(), "report.md, summary.json and model.json have every one");
  if (const std::string more = more_features(shown, names.size(), "every centre is in summary.json and model.json");
      !more.empty())
    s << more << "\n";
  return s.str();
}

}  // namespace archetype
