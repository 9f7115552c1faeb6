#include "archetype/hungarian.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>

namespace archetype {
namespace {

double total_cost(const std::vector<double>& cost, std::size_t cols, const std::vector<int>& a) {
  double sum = 0.0;
  for (std::size_t r = 0; r < a.size(); ++r)
    if (a[r] >= 0) sum += cost[r * cols + static_cast<std::size_t>(a[r])];
  return sum;
}

// Every row gets a distinct column, or -1 exactly when rows outnumber columns.
void expect_valid(const std::vector<int>& a, std::size_t rows, std::size_t cols) {
  ASSERT_EQ(a.size(), rows);
  std::vector<bool> taken(cols, false);
  std::size_t unassigned = 0;
  for (int c : a) {
    if (c < 0) {
      ++unassigned;
      continue;
    }
    ASSERT_LT(static_cast<std::size_t>(c), cols);
    EXPECT_FALSE(taken[static_cast<std::size_t>(c)]);
    taken[static_cast<std::size_t>(c)] = true;
  }
  EXPECT_EQ(unassigned, rows > cols ? rows - cols : 0u);
}

// Minimum over all injections of the smaller side into the larger one.
double brute_force(const std::vector<double>& cost, std::size_t rows, std::size_t cols) {
  const std::size_t n = std::max(rows, cols);
  std::vector<std::size_t> perm(n);
  std::iota(perm.begin(), perm.end(), 0);
  double best = std::numeric_limits<double>::infinity();
  do {
    double sum = 0.0;
    for (std::size_t r = 0; r < rows; ++r)
      if (perm[r] < cols) sum += cost[r * cols + perm[r]];
    best = std::min(best, sum);
  } while (std::next_permutation(perm.begin(), perm.end()));
  return best;
}

std::vector<double> random_costs(std::size_t count, std::mt19937& rng) {
  std::uniform_real_distribution<double> dist(0.0, 10.0);
  std::vector<double> v(count);
  for (double& x : v) x = dist(rng);
  return v;
}

TEST(HungarianKnown, ClassicThreeByThree) {
  // Optimum 1 + 2 + 2 = 5: row 0 -> 1, row 1 -> 0, row 2 -> 2.
  const std::vector<double> cost = {4, 1, 3,  //
                                    2, 0, 5,  //
                                    3, 2, 2};
  EXPECT_EQ(solve_assignment(cost, 3, 3), (std::vector<int>{1, 0, 2}));
}

TEST(HungarianKnown, IdentityIsOptimalOnCheapDiagonal) {
  const std::vector<double> cost = {0, 9, 9, 9,  //
                                    9, 0, 9, 9,  //
                                    9, 9, 0, 9,  //
                                    9, 9, 9, 0};
  EXPECT_EQ(solve_assignment(cost, 4, 4), (std::vector<int>{0, 1, 2, 3}));
}

TEST(HungarianKnown, NegativeCosts) {
  const std::vector<double> cost = {-1, -5,  //
                                    -3, -4};
  EXPECT_EQ(solve_assignment(cost, 2, 2), (std::vector<int>{1, 0}));  // -5 + -3
}

TEST(HungarianRectangular, MoreRowsThanColumns) {
  // Rows 0 and 2 are the cheap ones; row 1 is left over.
  const std::vector<double> cost = {1, 8,  //
                                    7, 7,  //
                                    8, 1};
  const std::vector<int> a = solve_assignment(cost, 3, 2);
  expect_valid(a, 3, 2);
  EXPECT_EQ(a, (std::vector<int>{0, -1, 1}));
}

TEST(HungarianRectangular, MoreColumnsThanRows) {
  const std::vector<double> cost = {5, 3, 9, 1,  //
                                    1, 4, 6, 2};
  const std::vector<int> a = solve_assignment(cost, 2, 4);
  expect_valid(a, 2, 4);
  EXPECT_EQ(a, (std::vector<int>{3, 0}));
}

TEST(HungarianRectangular, EmptySides) {
  EXPECT_EQ(solve_assignment({}, 3, 0), (std::vector<int>{-1, -1, -1}));
  EXPECT_TRUE(solve_assignment({}, 0, 4).empty());
}

TEST(HungarianRandom, MatchesBruteForce) {
  std::mt19937 rng(20240611);
  const std::size_t shapes[][2] = {{5, 5}, {4, 6}, {6, 4}, {1, 3}, {3, 1}};
  for (const auto& shape : shapes) {
    for (int trial = 0; trial < 20; ++trial) {
      const std::size_t rows = shape[0], cols = shape[1];
      const std::vector<double> cost = random_costs(rows * cols, rng);
      const std::vector<int> a = solve_assignment(cost, rows, cols);
      expect_valid(a, rows, cols);
      EXPECT_NEAR(total_cost(cost, cols, a), brute_force(cost, rows, cols), 1e-9)
          << rows << "x" << cols << " trial " << trial;
    }
  }
}

TEST(HungarianDeterminism, TiesResolveTheSameWay) {
  const std::vector<double> cost(16, 1.0);  // every assignment is optimal
  const std::vector<int> first = solve_assignment(cost, 4, 4);
  expect_valid(first, 4, 4);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(solve_assignment(cost, 4, 4), first);
}

TEST(HungarianErrors, BadInput) {
  EXPECT_THROW(solve_assignment({1, 2, 3}, 2, 2), std::invalid_argument);
  EXPECT_THROW(solve_assignment({1, std::numeric_limits<double>::quiet_NaN()}, 1, 2),
               std::invalid_argument);
}

}  // namespace
}  // namespace archetype
