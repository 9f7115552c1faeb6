// StandardScaler (step 3 of the study): z = (x - mean) / std with the
// population std, as scikit-learn's StandardScaler.
#pragma once

#include <string>
#include <vector>

#include "archetype/communicator.hpp"
#include "archetype/matrix.hpp"
#include "archetype/profile.hpp"

namespace archetype {

struct StandardScaler {
  std::vector<double> mean;    ///< per feature
  std::vector<double> scale;   ///< population std, or 1 for a constant feature
  std::vector<bool> constant;  ///< features left unscaled because their variance is 0

  /// From the profiles of the raw features.
  static StandardScaler from_profiles(const std::vector<FeatureProfile>& profiles);
  /// scikit-learn's StandardScaler().fit(raw, sample_weight=w): per feature
  /// the weighted mean and population std sqrt(sum w (x - mean)^2 / sum w)
  /// (the rows repeated w times), in double, rows in order; a feature of
  /// weighted variance 0 is left unscaled as above.  w: one finite weight
  /// >= 0 per row, positive total.
  /// Under a split (a collective; raw and w: this process's rows) the
  /// sums run over all rows in row order: one process's bits.
  static StandardScaler weighted(const Matrix& raw, const std::vector<double>& w, const RowSplit* split = nullptr);

  /// z = float((x - mean) / scale), computed in double and rounded once.
  Matrix transform(const Matrix& raw) const;
  /// The same, overwriting the raw values (no second copy of the data).
  void transform_in_place(Matrix& m) const;
  /// x = z * scale + mean, for reporting centroids in original units.
  double inverse(double z, std::size_t feature) const { return z * scale[feature] + mean[feature]; }
};

}  // namespace archetype
