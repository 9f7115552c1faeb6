#include "archetype/fixed_point.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <string>

#include "archetype/error.hpp"

namespace archetype {

int fixed_point_exponent(double bound, double count, int target_bits) {
  const double total = bound * std::max(count, 1.0);
  if (!(total > 0.0) || !std::isfinite(total)) return 0;
  int ex = 0;
  std::frexp(total, &ex);  // total < 2^ex
  // Keep 2^e a normal float whose products with the data stay finite.
  return std::clamp(target_bits - ex, -100, 100);
}

FixedPoint FixedPoint::for_data(MatrixView X) {
  double max_abs = 0.0;
  double max_norm2 = 0.0;
  for (std::size_t i = 0; i < X.rows; ++i) {
    const float* r = X.row(i);
    double norm2 = 0.0;
    for (std::size_t j = 0; j < X.cols; ++j) {
      const double v = static_cast<double>(r[j]);
      max_abs = std::max(max_abs, std::fabs(v));
      norm2 += v * v;
    }
    max_norm2 = std::max(max_norm2, norm2);
  }
  // |x - c|^2 <= (|x| + |c|)^2 <= 4 max|x|^2 for c in the hull of the rows;
  // the float evaluation may exceed the exact value by a few ulps, hence the
  // margin.
  return for_bounds(max_abs, 4.0 * max_norm2, X.rows);
}

FixedPoint FixedPoint::for_bounds(double max_abs, double max_d2_exact, std::size_t rows) {
  const double max_d2 = max_d2_exact * 1.001 + 1e-30;
  // Squared distances are evaluated in float: beyond FLT_MAX they would be
  // inf and the grids below meaningless (the pipeline standardizes first,
  // so this only stops a caller that feeds raw values like 1e30).
  if (!(max_d2 <= FLT_MAX)) {
    char bound[32];
    std::snprintf(bound, sizeof bound, "%.3g", max_abs);
    throw InputError(std::string("values up to ") + bound +
                     " give squared distances beyond the float32 range: expected standardized features");
  }
  const double n = static_cast<double>(rows);
  FixedPoint fp;
  // 23 bits: a block of up to 256 rows sums in int32 without overflow
  // (256 * 2^23 = 2^31), which lets the CPU vectorise the per-cluster sums
  // 16 lanes wide; the grid (max|x| / 2^23) is far below float32 precision
  // once averaged over a cluster.
  fp.feature_exp = fixed_point_exponent(max_abs, 1.0, kFeatureBits);
  fp.dist_exp = fixed_point_exponent(max_d2, n, 62);
  fp.root_exp = fixed_point_exponent(std::sqrt(max_d2), n, 62);
  return fp;
}

}  // namespace archetype
