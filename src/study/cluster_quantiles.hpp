// Where each cluster's typical member sits in each feature: the quantile,
// within the whole table, of the cluster's median.  Used to name clusters
// from the data (level_names.hpp); a median, not the centroid, because on
// heavy-tailed data the mean of the bulk cluster lies well above the
// platform median and would read as "High".
#pragma once

#include <cstdint>
#include <vector>

#include "archetype/communicator.hpp"
#include "archetype/matrix.hpp"
#include "archetype/scaler.hpp"
#include "archetype/study_result.hpp"

namespace archetype {

/// k x d quantiles in [0, 1].  Each feature's distribution is given by its
/// profile's QQ order statistics (original units, sorted), cut into at most
/// 64 bins of equal share; one pass over the standardized rows `z` counts
/// each cluster's rows per bin (integer counts: the same on any thread
/// count), and the median is interpolated within its bin.  An empty
/// cluster gets 0.5.  With a split (z, labels: this process's rows; a
/// collective) the counts are every rank's.
std::vector<double> cluster_median_quantiles(const Matrix& z, const std::vector<std::int32_t>& labels, int k,
                                             const std::vector<FeatureSummary>& profile, const StandardScaler& scaler,
                                             int threads, const RowSplit* split = nullptr);

}  // namespace archetype
