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

namespace {

/// The top two eigenvectors (unit, sign fixed) and eigenvalues of the
/// symmetric n x n matrix `c`, by orthogonal iteration from a fixed start.
void top_two(const std::vector<double>& c, std::size_t n, std::array<std::vector<double>, 2>& v,
             std::array<double, 2>& lambda) {
  v = {std::vector<double>(n, 1.0), std::vector<double>(n, 0.0)};
  for (std::size_t j = 0; j < n; ++j) v[1][j] = (j % 2 == 0) ? 1.0 : -1.0;
  if (n == 1) v[1][0] = 0.0;
  // Each step costs 2 n^2: at most about 1e9 operations in all.
  const int max_steps = static_cast<int>(std::clamp(5e8 / static_cast<double>(n * n), 100.0, 1000.0));
  for (int it = 0; it < max_steps; ++it) {
    std::array<std::vector<double>, 2> w = {times(c, v[0]), times(c, v[1])};
    normalize(w[0]);
    const double proj = dot(w[1], w[0]);
    for (std::size_t j = 0; j < n; ++j) w[1][j] -= proj * w[0][j];
    normalize(w[1]);
    const double moved = std::fabs(std::fabs(dot(w[0], v[0])) - 1.0) + std::fabs(std::fabs(dot(w[1], v[1])) - 1.0);
    v = std::move(w);
    if (moved < 1e-13) break;
  }
  for (std::size_t a = 0; a < 2; ++a) {
    fix_sign(v[a]);
    lambda[a] = dot(v[a], times(c, v[a]));
  }
}

/// Evenly strided rows: `m` of z's.
std::vector<std::size_t> strided_rows(std::size_t total, std::size_t m) {
  const double stride = static_cast<double>(total) / static_cast<double>(m);
  std::vector<std::size_t> rows(m);
  for (std::size_t i = 0; i < m; ++i) rows[i] = static_cast<std::size_t>(static_cast<double>(i) * stride);
  return rows;
}

void sample_mean(const Matrix& z, const std::vector<std::size_t>& rows, Pca2& p) {
  for (std::size_t i : rows)
    for (std::size_t j = 0; j < z.cols; ++j) p.mean[j] += z.at(i, j);
  for (double& x : p.mean) x /= static_cast<double>(rows.size());
}

/// Features above which the covariance (d x d: 8 d^2 bytes, m d^2 to
/// build) gives way to the rows' Gram matrix (m x m, m^2 d to build, with
/// m chosen so that this is at most about 2e9): the view of a table of
/// 100,000 columns would otherwise need an 80 GB covariance.
constexpr std::size_t kGramAbove = 1414;  // 2e9 / d^2 < 1000 sampled rows

/// Wide data: the components are X^T u / |X^T u| for the top eigenvectors
/// u of the centred sample's Gram matrix X X^T (the same nonzero spectrum
/// as X^T X, the covariance times m), never forming a d x d matrix.
Pca2 fit_pca2_gram(const Matrix& z, std::size_t max_rows) {
  const std::size_t d = z.cols;
  Pca2 p;
  p.features = d;
  p.mean.assign(d, 0.0);
  const std::vector<std::size_t> rows = pca_rows(z.rows, d, max_rows);
  const std::size_t m = rows.size();
  if (m == 0) return p;
  sample_mean(z, rows, p);
  // The centred sample, row by row as needed: G[a][b] = x_a . x_b.
  std::vector<double> g(m * m, 0.0), xa(d);
  double trace = 0.0;
  for (std::size_t a = 0; a < m; ++a) {
    for (std::size_t j = 0; j < d; ++j) xa[j] = static_cast<double>(z.at(rows[a], j)) - p.mean[j];
    for (std::size_t b = a; b < m; ++b) {
      double s = 0.0;
      for (std::size_t j = 0; j < d; ++j) s += xa[j] * (static_cast<double>(z.at(rows[b], j)) - p.mean[j]);
      g[a * m + b] = g[b * m + a] = s;
    }
    trace += g[a * m + a];
  }
  std::array<std::vector<double>, 2> u;
  std::array<double, 2> lambda{};
  top_two(g, m, u, lambda);
  for (std::size_t a = 0; a < 2; ++a) {
    std::vector<double> axis(d, 0.0);
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < d; ++j) axis[j] += u[a][i] * (static_cast<double>(z.at(rows[i], j)) - p.mean[j]);
    if (a == 1) {  // exactly orthogonal to the first (u is orthogonal only as far as it converged)
      const double along = dot(axis, p.axes[0]);
      for (std::size_t j = 0; j < d; ++j) axis[j] -= along * p.axes[0][j];
    }
    normalize(axis);
    if (dot(axis, axis) == 0.0) axis[std::min(a, d - 1)] = 1.0;  // no variance: any axis
    fix_sign(axis);
    p.axes[a] = std::move(axis);
    p.explained[a] = trace > 0.0 ? std::max(0.0, lambda[a]) / trace : 0.0;
  }
  return p;
}

}  // namespace

std::vector<std::size_t> pca_rows(std::size_t n, std::size_t d, std::size_t max_rows) {
  if (d == 0) return {};
  std::size_t m = 0;
  if (d > kGramAbove) {  // fit_pca2_gram's sample: its m x m Gram matrix costs about 2e9
    const auto by_cost = static_cast<std::size_t>(std::sqrt(2e9 / static_cast<double>(d)));
    m = std::min(n, std::max<std::size_t>(50, std::min(max_rows, by_cost)));
  } else {  // the covariance's: m d^2 about 2e9
    const auto by_cost = static_cast<std::size_t>(2e9 / static_cast<double>(d * d));
    m = std::min(n, std::max<std::size_t>(1000, std::min(max_rows, by_cost)));
  }
  if (m == 0) return {};
  return strided_rows(n, m);
}

Pca2 fit_pca2(const Matrix& z, std::size_t max_rows) {
  const std::size_t d = z.cols;
  if (d > kGramAbove) return fit_pca2_gram(z, max_rows);
  Pca2 p;
  p.features = d;
  p.mean.assign(d, 0.0);
  const std::vector<std::size_t> rows = pca_rows(z.rows, d, max_rows);
  const std::size_t m = rows.size();
  if (m == 0 || d == 0) return p;
  sample_mean(z, rows, p);
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
  std::array<std::vector<double>, 2> v;
  std::array<double, 2> lambda{};
  top_two(c, d, v, lambda);
  for (std::size_t a = 0; a < 2; ++a) p.explained[a] = trace > 0.0 ? lambda[a] / trace : 0.0;
  p.axes = std::move(v);
  return p;
}

}  // namespace archetype
