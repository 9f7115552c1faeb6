// Per-feature descriptive statistics and QQ-plot data (step 2 of the study).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "archetype/matrix.hpp"

namespace archetype {

struct FeatureProfile {
  std::size_t count = 0;
  double mean = 0.0;
  double std = 0.0;            ///< population standard deviation (ddof = 0)
  double skew = 0.0;           ///< biased (Fisher-Pearson), as scipy.stats.skew
  double skew_unbiased = 0.0;  ///< adjusted, as pandas Series.skew
  double kurtosis = 0.0;       ///< excess kurtosis, biased, as scipy.stats.kurtosis
  double min = 0.0;
  double max = 0.0;
};

/// QQ plot against the normal distribution, as scipy.stats.probplot computes
/// it: theoretical quantiles at Filliben's order-statistic medians, the
/// sorted sample, and the least-squares line through them.  For more than
/// `max_points` rows, `max_points` evenly spaced order statistics are kept
/// (always including the first and the last); the fitted line uses them.
struct QQData {
  std::vector<double> theoretical;  ///< standard normal quantiles
  std::vector<double> sample;       ///< ordered sample values
  double slope = 0.0;
  double intercept = 0.0;
  double r = 0.0;                   ///< correlation of the two series
};

/// Statistics of column `col` of X, in double precision, with a fixed
/// summation order (blocks of 4096 rows, block partials added in block
/// order) so the result does not depend on the thread count.
FeatureProfile profile_feature(MatrixView X, std::size_t col);

QQData qq_normal(MatrixView X, std::size_t col, std::size_t max_points = 512);

struct RowSplit;  // communicator.hpp

/// The same two over a column split across processes (X: this process's
/// rows; a collective): every rank gets the one-process result, bit for bit.
FeatureProfile profile_feature(MatrixView X, std::size_t col, const RowSplit& split);
QQData qq_normal(MatrixView X, std::size_t col, const RowSplit& split, std::size_t max_points = 512);

/// Inverse of the standard normal CDF (Wichura's AS241, about 1e-16
/// relative accuracy).  p must lie in (0, 1).
double normal_quantile(double p);

}  // namespace archetype
