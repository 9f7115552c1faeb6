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

StandardScaler StandardScaler::weighted(const Matrix& raw, const std::vector<double>& w) {
  StandardScaler s;
  double total = 0.0;
  for (double v : w) total += v;
  for (std::size_t j = 0; j < raw.cols; ++j) {
    double sum = 0.0;
    for (std::size_t i = 0; i < raw.rows; ++i) sum += w[i] * raw.at(i, j);
    const double mean = sum / total;
    double ss = 0.0;
    for (std::size_t i = 0; i < raw.rows; ++i) {
      const double diff = raw.at(i, j) - mean;
      ss += w[i] * (diff * diff);
    }
    const double std = std::sqrt(ss / total);
    s.mean.push_back(mean);
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
