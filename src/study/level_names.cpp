#include "study/level_names.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <numeric>

namespace archetype {
namespace {

/// "Very high" -> "very high" for the second and later parts of a name.
std::string lower_first(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

/// A feature name cut to `room` bytes with "..." (never inside a UTF-8
/// sequence).
std::string fit_name(const std::string& name, std::size_t room) {
  if (name.size() <= room) return name;
  if (room <= 3) return std::string(room, '.');
  std::size_t cut = room - 3;
  while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;
  return name.substr(0, cut) + "...";
}

/// The features of one cluster, most distinctive first.  Ties go by name,
/// then by position (only for equal names), so the order of the columns
/// does not change it.
std::vector<std::size_t> by_distinction(const std::vector<std::string>& features, const double* q) {
  std::vector<std::size_t> order(features.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const double da = std::fabs(q[a] - 0.5), db = std::fabs(q[b] - 0.5);
    if (da != db) return da > db;
    return features[a] < features[b];
  });
  return order;
}

/// The first `parts` features of `order` as "High a, low b", shortened to fit.
std::string compose(const std::vector<std::string>& features, const double* q, const std::vector<std::size_t>& order,
                    std::size_t parts) {
  std::string name;
  for (std::size_t p = 0; p < parts && p < order.size(); ++p) {
    const std::size_t j = order[p];
    const std::string level = p == 0 ? quantile_level(q[j]) : lower_first(quantile_level(q[j]));
    name += (p ? ", " : "") + level + " " + features[j];
  }
  return name;
}

/// "Mid" says little: a name lists a feature at mid level only when it is
/// the most distinctive one, and a cluster mid on every feature is "Typical".
std::string shortest_fitting(const std::vector<std::string>& features, const double* q,
                             const std::vector<std::size_t>& order, std::size_t parts) {
  if (order.empty() || std::string(quantile_level(q[order[0]])) == "Mid") return "Typical (mid on every feature)";
  parts = std::min(parts, order.size());
  while (parts > 1 && std::string(quantile_level(q[order[parts - 1]])) == "Mid") --parts;
  for (std::size_t p = std::min(parts, order.size()); p >= 1; --p) {
    const std::string name = compose(features, q, order, p);
    if (name.size() <= kMaxLevelNameLength || p == 1) {
      if (name.size() <= kMaxLevelNameLength) return name;
      const std::string level = quantile_level(q[order[0]]);
      return level + " " + fit_name(features[order[0]], kMaxLevelNameLength - level.size() - 1);
    }
  }
  return "Cluster";
}

}  // namespace

const char* quantile_level(double q) {
  if (q < 0.1) return "Very low";
  if (q < 0.35) return "Low";
  if (q <= 0.65) return "Mid";
  if (q <= 0.9) return "High";
  if (q <= 0.99) return "Very high";
  return "Top 1%";
}

std::vector<std::string> level_names(const std::vector<std::string>& features, const std::vector<double>& quantiles,
                                     std::size_t k) {
  const std::size_t d = features.size();
  std::vector<std::vector<std::size_t>> order(k);
  std::vector<std::string> names(k);
  for (std::size_t c = 0; c < k; ++c) {
    order[c] = by_distinction(features, &quantiles[c * d]);
    names[c] = shortest_fitting(features, &quantiles[c * d], order[c], 2);
  }
  // Clusters that share a name: keep their most distinctive feature and
  // name the first other feature (in name order) whose levels tell them all
  // apart, when that fits; else one more feature each while that fits.
  std::vector<std::size_t> by_name(d);
  std::iota(by_name.begin(), by_name.end(), std::size_t{0});
  std::stable_sort(by_name.begin(), by_name.end(), [&](std::size_t a, std::size_t b) { return features[a] < features[b]; });
  {
    std::map<std::string, std::vector<std::size_t>> groups;
    for (std::size_t c = 0; c < k; ++c) groups[names[c]].push_back(c);
    for (auto& [name, members] : groups) {
      if (members.size() < 2) continue;
      for (std::size_t j : by_name) {
        std::map<std::string, std::size_t> tried;
        bool fits = true;
        for (std::size_t c : members) {
          if (j == order[c][0]) fits = false;
          const std::vector<std::size_t> pair = {order[c][0], j};
          const std::string candidate = compose(features, &quantiles[c * d], pair, 2);
          fits = fits && candidate.size() <= kMaxLevelNameLength && tried.emplace(candidate, c).second;
        }
        if (!fits) continue;
        for (const auto& [candidate, c] : tried) names[c] = candidate;
        break;
      }
    }
  }
  for (std::size_t parts = 3; parts <= std::min<std::size_t>(d, 4); ++parts) {
    std::map<std::string, std::vector<std::size_t>> groups;
    for (std::size_t c = 0; c < k; ++c) groups[names[c]].push_back(c);
    for (auto& [name, members] : groups) {
      if (members.size() < 2) continue;
      for (std::size_t c : members) {
        const std::string longer = compose(features, &quantiles[c * d], order[c], parts);
        if (longer.size() <= kMaxLevelNameLength) names[c] = longer;
      }
    }
  }
  // Still equal: number them, in an order of their quantiles by feature
  // name (not by cluster id, which depends on the run).
  std::map<std::string, std::vector<std::size_t>> groups;
  for (std::size_t c = 0; c < k; ++c) groups[names[c]].push_back(c);
  for (auto& [name, members] : groups) {
    if (members.size() < 2) continue;
    std::stable_sort(members.begin(), members.end(), [&](std::size_t a, std::size_t b) {
      for (std::size_t j : by_name)
        if (quantiles[a * d + j] != quantiles[b * d + j]) return quantiles[a * d + j] > quantiles[b * d + j];
      return false;
    });
    for (std::size_t i = 0; i < members.size(); ++i) {
      const std::string suffix = " (" + std::to_string(i + 1) + ")";
      std::string& n = names[members[i]];
      if (n.size() + suffix.size() > kMaxLevelNameLength) n = fit_name(n, kMaxLevelNameLength - suffix.size());
      n += suffix;
    }
  }
  return names;
}

}  // namespace archetype
