// Offline Kneedle, step for step as the reference `kneed` package
// (KneeLocator with interp_method="interp1d", online=False).
#include "archetype/kneedle.hpp"

#include <algorithm>
#include <stdexcept>

namespace archetype {
namespace {

// Scales v to [0, 1]; returns false when v is constant (kneed would divide
// by zero and find nothing).
bool normalize(const std::vector<double>& v, std::vector<double>& out) {
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  const double range = *hi - *lo;
  if (!(range > 0.0)) return false;
  out.resize(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = (v[i] - *lo) / range;
  return true;
}

// scipy.signal.argrelextrema(D, cmp) with order 1 and mode "clip": the
// endpoints compare against themselves, so they can qualify too.
template <typename Cmp>
std::vector<bool> relative_extrema(const std::vector<double>& D, Cmp cmp) {
  const std::size_t n = D.size();
  std::vector<bool> is_extremum(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double prev = D[i == 0 ? 0 : i - 1];
    const double next = D[i + 1 == n ? i : i + 1];
    is_extremum[i] = cmp(D[i], prev) && cmp(D[i], next);
  }
  return is_extremum;
}

// Difference curve of the normalised curve, turned so that the knee is a
// maximum (kneed's transform_y followed by y - x).
std::vector<double> difference_curve(const std::vector<double>& x_norm,
                                     const std::vector<double>& y_norm, CurveShape shape) {
  std::vector<double> D(x_norm.size());
  for (std::size_t i = 0; i < D.size(); ++i) {
    // Convex decreasing: flip vertically (y.max() - y, and the max is 1).
    const double y = shape == CurveShape::ConvexDecreasing ? 1.0 - y_norm[i] : y_norm[i];
    D[i] = y - x_norm[i];
  }
  return D;
}

}  // namespace

std::optional<std::size_t> find_knee(const std::vector<double>& x, const std::vector<double>& y,
                                     CurveShape shape, double sensitivity) {
  if (x.size() != y.size()) throw std::invalid_argument("find_knee: x and y differ in length");
  const std::size_t n = x.size();
  if (n < 3) return std::nullopt;

  std::vector<double> x_norm, y_norm;
  if (!normalize(x, x_norm) || !normalize(y, y_norm)) return std::nullopt;
  const std::vector<double> D = difference_curve(x_norm, y_norm, shape);
  const std::vector<bool> is_max = relative_extrema(D, [](double a, double b) { return a >= b; });
  const std::vector<bool> is_min = relative_extrema(D, [](double a, double b) { return a <= b; });

  // mean(diff(x_norm)) telescopes to (x_norm.back() - x_norm.front()) / (n - 1) = 1 / (n - 1).
  const double step = (x_norm.back() - x_norm.front()) / static_cast<double>(n - 1);

  // kneed's scan: the threshold is set at each local maximum and dropped to
  // 0 at each local minimum; the first time the next point falls below it,
  // the most recent maximum is the knee.  Both tests run at a point that is
  // both (a plateau), so the minimum wins, as in kneed.
  const auto first_max = std::find(is_max.begin(), is_max.end(), true);
  if (first_max == is_max.end()) return std::nullopt;
  double threshold = 0.0;
  std::size_t knee = 0;
  for (auto i = static_cast<std::size_t>(first_max - is_max.begin()); i + 1 < n; ++i) {
    if (is_max[i]) {
      threshold = D[i] - sensitivity * step;
      knee = i;
    }
    if (is_min[i]) threshold = 0.0;
    if (D[i + 1] < threshold) return knee;
  }
  return std::nullopt;
}

}  // namespace archetype
