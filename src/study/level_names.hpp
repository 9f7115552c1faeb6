// Data-driven cluster names for tables the persona catalog does not
// describe: "High followers, low revenue", from where each cluster's
// centroid sits in each feature's distribution (its quantile in original
// units), so heavy tails do not squash every cluster into "moderate".
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace archetype {

/// Names are at most this many characters (bytes).
constexpr std::size_t kMaxLevelNameLength = 40;

/// "Very low" (q < 0.1), "Low" (< 0.35), "Mid", "High" (> 0.65), "Very
/// high" (> 0.9), "Top 1%" (> 0.99).
const char* quantile_level(double q);

/// One name per cluster: its most distinctive features (quantile farthest
/// from the median; ties by feature name), two where they fit in
/// kMaxLevelNameLength and the second is not "Mid" ("Typical (mid on every
/// feature)" when even the first is), a third or a number where that is
/// needed to tell clusters apart.  `quantiles` is k x d.  The names do not depend on the
/// order of the features, and they are distinct.
std::vector<std::string> level_names(const std::vector<std::string>& features, const std::vector<double>& quantiles,
                                     std::size_t k);

}  // namespace archetype
