#include "archetype/scaler.hpp"

#include <omp.h>

#include <cmath>

namespace archetype {

StandardScaler StandardScaler::from_profiles(const std::vector<FeatureProfile>& profiles) {
  StandardScaler s;
  for (const FeatureProfile& p : profiles) {
    s.mean.push_back(p.mean);
    // scikit-learn leaves zero-variance features unscaled (scale 1).
    const bool is_constant = !(p.std > 0.0);
    s.constant.push_back(is_constant);
    s.scale.push_back(is_constant ? 1.0 : p.std);
  }
  return s;
}

StandardScaler StandardScaler::weighted(const Matrix& raw, const std::vector<double>& w, const RowSplit* split) {
  // Each sum over rows is one sequential sum in row order, across the
  // processes' rows too (fold_in_row_order): the bits do not depend on the
  // number of processes.
  Communicator* comm = split ? split->comm : nullptr;
  const std::size_t d = raw.cols;
  const std::vector<double> sums = fold_in_row_order(comm, std::vector<double>(d + 1, 0.0), [&](std::vector<double>& acc) {
    for (double v : w) acc[0] += v;
    for (std::size_t j = 0; j < d; ++j)
      for (std::size_t i = 0; i < raw.rows; ++i) acc[1 + j] += w[i] * raw.at(i, j);
  });
  const double total = sums[0];
  std::vector<double> mean(d);
  for (std::size_t j = 0; j < d; ++j) mean[j] = sums[1 + j] / total;
  const std::vector<double> ss = fold_in_row_order(comm, std::vector<double>(d, 0.0), [&](std::vector<double>& acc) {
    for (std::size_t j = 0; j < d; ++j)
      for (std::size_t i = 0; i < raw.rows; ++i) {
        const double diff = raw.at(i, j) - mean[j];
        acc[j] += w[i] * (diff * diff);
      }
  });
  StandardScaler s;
  for (std::size_t j = 0; j < d; ++j) {
    const double std = std::sqrt(ss[j] / total);
    s.mean.push_back(mean[j]);
    const bool is_constant = !(std > 0.0);
    s.constant.push_back(is_constant);
    s.scale.push_back(is_constant ? 1.0 : std);
  }
  return s;
}

Matrix StandardScaler::transform(const Matrix& raw) const {
  Matrix z = raw;
  transform_in_place(z);
  return z;
}

void StandardScaler::transform_in_place(Matrix& m) const {
  const std::size_t d = m.cols;
  const long long n = static_cast<long long>(m.rows);
#pragma omp parallel for schedule(static) if (n >= 32768)
  for (long long i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < d; ++j) {
      float& v = m.values[static_cast<std::size_t>(i) * d + j];
      v = static_cast<float>((static_cast<double>(v) - mean[j]) / scale[j]);
    }
  }
}

}  // namespace archetype
