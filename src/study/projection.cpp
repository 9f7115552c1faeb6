#include "study/projection.hpp"

#include <algorithm>
#include <cmath>

namespace archetype {
namespace {

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0.0;
  for (std::size_t j = 0; j < a.size(); ++j) s += a[j] * b[j];
  return s;
}

void normalize(std::vector<double>& v) {
  const double norm = std::sqrt(dot(v, v));
  if (norm > 0.0)
    for (double& x : v) x /= norm;
}

/// w = C v for the symmetric d x d matrix C (row-major).
std::vector<double> times(const std::vector<double>& c, const std::vector<double>& v) {
  const std::size_t d = v.size();
  std::vector<double> w(d, 0.0);
  for (std::size_t i = 0; i < d; ++i) {
    double s = 0.0;
    for (std::size_t j = 0; j < d; ++j) s += c[i * d + j] * v[j];
    w[i] = s;
  }
  return w;
}

/// Sign convention (as scikit-learn's svd_flip): the largest |loading| is positive.
void fix_sign(std::vector<double>& v) {
  std::size_t big = 0;
  for (std::size_t j = 1; j < v.size(); ++j)
    if (std::fabs(v[j]) > std::fabs(v[big])) big = j;
  if (v[big] < 0.0)
    for (double& x : v) x = -x;
}

}  // namespace

std::array<double, 2> Pca2::scores(const float* row) const {
  std::array<double, 2> s = {0.0, 0.0};
  for (std::size_t j = 0; j < features; ++j) {
    const double x = static_cast<double>(row[j]) - mean[j];
    s[0] += x * axes[0][j];
    s[1] += x * axes[1][j];
  }
  return s;
}

std::vector<std::size_t> pca_rows(std::size_t n, std::size_t d, std::size_t max_rows) {
  if (d == 0) return {};
  const std::size_t by_cost = static_cast<std::size_t>(2e9 / static_cast<double>(d * d));
  const std::size_t m = std::min(n, std::max<std::size_t>(1000, std::min(max_rows, by_cost)));
  std::vector<std::size_t> rows(m);
  if (m == 0) return rows;
  const double stride = static_cast<double>(n) / static_cast<double>(m);
  for (std::size_t i = 0; i < m; ++i) rows[i] = static_cast<std::size_t>(static_cast<double>(i) * stride);
  return rows;
}

Pca2 fit_pca2(const Matrix& z, std::size_t max_rows) {
  const std::size_t d = z.cols;
  Pca2 p;
  p.features = d;
  p.mean.assign(d, 0.0);
  const std::vector<std::size_t> rows = pca_rows(z.rows, d, max_rows);
  const std::size_t m = rows.size();
  if (m == 0 || d == 0) return p;
  for (std::size_t i : rows)
    for (std::size_t j = 0; j < d; ++j) p.mean[j] += z.at(i, j);
  for (double& x : p.mean) x /= static_cast<double>(m);
  // Upper triangle of the covariance, mirrored.
  std::vector<double> c(d * d, 0.0), x(d);
  for (std::size_t i : rows) {
    for (std::size_t j = 0; j < d; ++j) x[j] = static_cast<double>(z.at(i, j)) - p.mean[j];
    for (std::size_t a = 0; a < d; ++a) {
      const double xa = x[a];
      double* ca = c.data() + a * d;
      for (std::size_t b = a; b < d; ++b) ca[b] += xa * x[b];
    }
  }
  double trace = 0.0;
  for (std::size_t a = 0; a < d; ++a) {
    for (std::size_t b = a; b < d; ++b) {
      c[a * d + b] /= static_cast<double>(m);
      c[b * d + a] = c[a * d + b];
    }
    trace += c[a * d + a];
  }
  // Orthogonal iteration on two vectors from a fixed start.
  std::array<std::vector<double>, 2> v = {std::vector<double>(d, 1.0), std::vector<double>(d, 0.0)};
  for (std::size_t j = 0; j < d; ++j) v[1][j] = (j % 2 == 0) ? 1.0 : -1.0;
  if (d == 1) v[1][0] = 0.0;
  // Each step costs 2 d^2: at most about 1e9 operations in all.
  const int max_steps = static_cast<int>(std::clamp(5e8 / static_cast<double>(d * d), 100.0, 1000.0));
  for (int it = 0; it < max_steps; ++it) {
    std::array<std::vector<double>, 2> w = {times(c, v[0]), times(c, v[1])};
    normalize(w[0]);
    const double proj = dot(w[1], w[0]);
    for (std::size_t j = 0; j < d; ++j) w[1][j] -= proj * w[0][j];
    normalize(w[1]);
    const double moved = std::fabs(std::fabs(dot(w[0], v[0])) - 1.0) + std::fabs(std::fabs(dot(w[1], v[1])) - 1.0);
    v = std::move(w);
    if (moved < 1e-13) break;
  }
  for (int a = 0; a < 2; ++a) {
    fix_sign(v[static_cast<std::size_t>(a)]);
    const double lambda = dot(v[static_cast<std::size_t>(a)], times(c, v[static_cast<std::size_t>(a)]));
    p.explained[static_cast<std::size_t>(a)] = trace > 0.0 ? lambda / trace : 0.0;
  }
  p.axes = std::move(v);
  return p;
}

}  // namespace archetype
