// A 2-D view of data with more than two features for the segmentation
// figure: the first two principal components of the standardized data, so
// the plot shows all features and says how much of their variance it keeps.
#pragma once

#include <array>
#include <cstddef>
#include <vector>

#include "archetype/matrix.hpp"

namespace archetype {

struct Pca2 {
  std::size_t features = 0;
  std::vector<double> mean;                  ///< d
  std::array<std::vector<double>, 2> axes;   ///< unit components, d each
  std::array<double, 2> explained = {0, 0};  ///< share of the total variance per component

  /// The row's scores on the two components.
  std::array<double, 2> scores(const float* row) const;
};

/// The top two principal components of z (rows x d, d >= 2), from the
/// covariance of at most `max_rows` evenly strided rows (fewer for wide
/// data, so the d x d covariance costs about 2e9 operations at most) by
/// orthogonal iteration.  Above 1,414 features (where that would be fewer
/// than 1,000 rows) from the sample's m x m Gram matrix instead (m at most
/// sqrt(2e9 / d), at least 50), so memory and work stay linear in d: no
/// d x d matrix (80 GB at 100,000 columns) is ever formed.  Sequential double arithmetic in a fixed order: the
/// same result on every machine and thread count.  Each component's sign
/// makes its largest-magnitude loading positive.
Pca2 fit_pca2(const Matrix& z, std::size_t max_rows = 20000);

/// The rows fit_pca2 reads of n rows of d features, ascending.  fit_pca2 of
/// just those rows (in that order) reads every one of them: the same fit.
std::vector<std::size_t> pca_rows(std::size_t n, std::size_t d, std::size_t max_rows = 20000);

}  // namespace archetype
