// Hungarian method with row/column potentials (Kuhn-Munkres, O(n^3)), in
// the shortest-augmenting-path form: rows are added one at a time and each
// is routed to a free column along a path of zero reduced cost.
#include "archetype/hungarian.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace archetype {
namespace {

// Square n x n problem; padding cells cost 0, so they never change which
// real pairs are optimal, and a row matched to a padding column is a row
// left over.
class SquareProblem {
 public:
  SquareProblem(const std::vector<double>& cost, std::size_t rows, std::size_t cols)
      : cost_(cost), rows_(rows), cols_(cols), n_(std::max(rows, cols)) {}

  std::size_t size() const { return n_; }
  double at(std::size_t i, std::size_t j) const {
    return i < rows_ && j < cols_ ? cost_[i * cols_ + j] : 0.0;
  }

 private:
  const std::vector<double>& cost_;
  std::size_t rows_, cols_, n_;
};

// Returns owner[j] = row matched to column j (1-based arrays, index 0 is the
// virtual start of every augmenting path).  Scanning columns in index order
// with strict '<' makes the tie-breaking a function of the input only.
std::vector<std::size_t> solve_square(const SquareProblem& a) {
  const std::size_t n = a.size();
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> u(n + 1, 0.0), v(n + 1, 0.0);
  std::vector<std::size_t> owner(n + 1, 0), way(n + 1, 0);

  for (std::size_t row = 1; row <= n; ++row) {
    owner[0] = row;
    std::size_t col0 = 0;
    std::vector<double> minv(n + 1, inf);
    std::vector<bool> used(n + 1, false);
    // Dijkstra-like growth of the alternating tree until a free column is hit.
    do {
      used[col0] = true;
      const std::size_t i0 = owner[col0];
      double delta = inf;
      std::size_t col1 = 0;
      for (std::size_t j = 1; j <= n; ++j) {
        if (used[j]) continue;
        const double reduced = a.at(i0 - 1, j - 1) - u[i0] - v[j];
        if (reduced < minv[j]) {
          minv[j] = reduced;
          way[j] = col0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          col1 = j;
        }
      }
      for (std::size_t j = 0; j <= n; ++j) {
        if (used[j]) {
          u[owner[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      col0 = col1;
    } while (owner[col0] != 0);
    // Flip the matching along the augmenting path.
    do {
      const std::size_t col1 = way[col0];
      owner[col0] = owner[col1];
      col0 = col1;
    } while (col0 != 0);
  }
  return owner;
}

}  // namespace

std::vector<int> solve_assignment(const std::vector<double>& cost, std::size_t rows,
                                  std::size_t cols) {
  if (cost.size() != rows * cols)
    throw std::invalid_argument("solve_assignment: cost size is not rows * cols");
  for (double c : cost)
    if (!std::isfinite(c)) throw std::invalid_argument("solve_assignment: non-finite cost");

  std::vector<int> assignment(rows, -1);
  if (rows == 0 || cols == 0) return assignment;

  const SquareProblem problem(cost, rows, cols);
  const std::vector<std::size_t> owner = solve_square(problem);
  for (std::size_t j = 1; j <= problem.size(); ++j) {
    const std::size_t row = owner[j] - 1;
    if (row < rows && j - 1 < cols) assignment[row] = static_cast<int>(j - 1);
  }
  return assignment;
}

}  // namespace archetype
