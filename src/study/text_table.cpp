#include "study/text_table.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace archetype {

namespace {

/// Display width in code points (UTF-8 continuation bytes do not count).
std::size_t width(const std::string& s) {
  std::size_t w = 0;
  for (unsigned char c : s) w += (c & 0xC0) != 0x80;
  return w;
}

}  // namespace

std::string TextTable::render() const {
  std::vector<std::size_t> w(headers_.size(), 0);
  for (std::size_t i = 0; i < headers_.size(); ++i) w[i] = width(headers_[i]);
  for (const auto& r : rows_)
    for (std::size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], width(r[i]));
  std::ostringstream s;
  auto line = [&](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < w.size(); ++i) {
      const std::string c = i < cells.size() ? cells[i] : "";
      s << (i ? "  " : "") << c << std::string(w[i] - width(c), ' ');
    }
    s << '\n';
  };
  line(headers_);
  std::vector<std::string> rule;
  for (std::size_t x : w) rule.push_back(std::string(x, '-'));
  line(rule);
  for (const auto& r : rows_) line(r);
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
  for (const FeatureSummary& f : profile) {
    const FeatureProfile& p = f.stats;
    t.add({f.name, format_fixed(p.mean, 4), format_fixed(p.std, 4), format_signed(p.skew, 4),
           format_signed(p.skew_unbiased, 4), format_signed(p.kurtosis, 4), format_fixed(p.min, 4),
           format_fixed(p.max, 4)});
  }
  s << t.render();
  return s.str();
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
  std::vector<std::string> headers = {"persona", "size", "share"};
  for (const std::string& n : names) headers.push_back(n);
  for (const std::string& n : names) headers.push_back("vs avg: " + n);
  TextTable t(headers);
  for (const ClusterSummary& c : model.clusters) {
    std::vector<std::string> row = {c.persona.name, std::to_string(c.size), format_percent(c.share)};
    for (double v : c.centroid) row.push_back(format_fixed(v, 3));
    for (const std::optional<double>& v : c.relative_importance) row.push_back(v ? format_signed(*v, 3) : "n/a");
    t.add(row);
  }
  s << t.render();
  return s.str();
}

}  // namespace archetype
