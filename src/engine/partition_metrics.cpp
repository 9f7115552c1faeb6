// Adjusted Rand index, as sklearn.metrics.adjusted_rand_score computes it
// (Hubert & Arabie 1985, through the contingency table).
#include "archetype/partition_metrics.hpp"

#include <stdexcept>
#include <vector>

namespace archetype {
namespace {

double comb2(std::int64_t m) { return static_cast<double>(m) * static_cast<double>(m - 1) / 2.0; }

struct Contingency {
  std::vector<std::int64_t> cells;  ///< ka x kb, row-major
  std::vector<std::int64_t> row_sums, col_sums;
};

Contingency contingency_table(const std::int32_t* a, const std::int32_t* b, std::size_t n, int ka,
                              int kb) {
  const auto ra = static_cast<std::size_t>(ka), rb = static_cast<std::size_t>(kb);
  Contingency t{std::vector<std::int64_t>(ra * rb, 0), std::vector<std::int64_t>(ra, 0),
                std::vector<std::int64_t>(rb, 0)};
  for (std::size_t i = 0; i < n; ++i) {
    if (a[i] < 0 || a[i] >= ka || b[i] < 0 || b[i] >= kb)
      throw std::out_of_range("adjusted_rand_index: label outside [0, k)");
    const auto ia = static_cast<std::size_t>(a[i]), ib = static_cast<std::size_t>(b[i]);
    ++t.cells[ia * rb + ib];
    ++t.row_sums[ia];
    ++t.col_sums[ib];
  }
  return t;
}

std::size_t count_nonzero(const std::vector<std::int64_t>& v) {
  std::size_t used = 0;
  for (std::int64_t c : v) used += c != 0;
  return used;
}

double sum_comb2(const std::vector<std::int64_t>& v) {
  double s = 0.0;
  for (std::int64_t c : v) s += comb2(c);
  return s;
}

}  // namespace

double adjusted_rand_index(const std::int32_t* a, const std::int32_t* b, std::size_t n, int ka,
                           int kb) {
  if (ka < 0 || kb < 0) throw std::invalid_argument("adjusted_rand_index: negative label count");
  const Contingency t = contingency_table(a, b, n, ka, kb);

  // sklearn's special cases, all perfect agreements that would otherwise be
  // 0/0: no rows, one cluster on both sides, or singletons on both sides.
  // Only labels actually used count, as with np.unique.
  const std::size_t classes = count_nonzero(t.row_sums);
  const std::size_t clusters = count_nonzero(t.col_sums);
  if (classes == clusters && (classes <= 1 || classes == n)) return 1.0;

  const double sum_comb_a = sum_comb2(t.row_sums);
  const double sum_comb_b = sum_comb2(t.col_sums);
  const double sum_comb = sum_comb2(t.cells);
  const double prod_comb = sum_comb_a * sum_comb_b / comb2(static_cast<std::int64_t>(n));
  const double mean_comb = (sum_comb_a + sum_comb_b) / 2.0;
  return (sum_comb - prod_comb) / (mean_comb - prod_comb);
}

}  // namespace archetype
