// Step 2 of the study: every feature's moments, QQ data against the
// normal, histogram and density curve, on all threads with the results of
// one (features are independent and each one's sums keep a fixed order).
#pragma once

#include <string>
#include <vector>

#include "archetype/communicator.hpp"
#include "archetype/matrix.hpp"
#include "archetype/study_result.hpp"

namespace archetype {

/// Features whose figure data (QQ points, histogram, density curve) go into
/// summary.json: the first ones, those the distributions figure draws.
/// Every feature keeps its statistics; only these carry curves, so that
/// summary.json grows by a few hundred bytes per feature past them, not by
/// ten kilobytes (a table of 100,000 columns gave 1.4 GB).
inline constexpr std::size_t kPlottedFeatures = 12;

/// columns/names: one per feature of `raw` (as in the file, and for display).
/// With a split (communicator.hpp), raw holds this process's rows and the
/// statistics are those of all processes' rows (a collective).
std::vector<FeatureSummary> profile_features(const Matrix& raw, const std::vector<std::string>& columns,
                                             const std::vector<std::string>& names, int threads,
                                             const RowSplit* split = nullptr);

}  // namespace archetype
