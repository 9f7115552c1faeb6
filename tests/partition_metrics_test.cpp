#include "archetype/partition_metrics.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

namespace archetype {
namespace {

double ari(const std::vector<std::int32_t>& a, const std::vector<std::int32_t>& b, int ka, int kb) {
  return adjusted_rand_index(a.data(), b.data(), a.size(), ka, kb);
}

TEST(PartitionMetricsARI, SklearnDocExamples) {
  EXPECT_EQ(ari({0, 0, 1, 1}, {0, 0, 1, 1}, 2, 2), 1.0);
  EXPECT_EQ(ari({0, 0, 1, 1}, {1, 1, 0, 0}, 2, 2), 1.0);
  EXPECT_NEAR(ari({0, 0, 1, 2}, {0, 0, 1, 1}, 3, 2), 0.5714285714285714, 1e-15);
  EXPECT_NEAR(ari({0, 0, 1, 1}, {0, 0, 1, 2}, 2, 3), 0.5714285714285714, 1e-15);
  EXPECT_EQ(ari({0, 0, 0, 0}, {0, 1, 2, 3}, 1, 4), 0.0);
  // sklearn: adjusted_rand_score([0, 0, 1, 1], [0, 1, 0, 1]) == -0.5
  EXPECT_NEAR(ari({0, 0, 1, 1}, {0, 1, 0, 1}, 2, 2), -0.5, 1e-15);
}

TEST(PartitionMetricsARI, IdenticalUpToPermutation) {
  const std::vector<std::int32_t> a = {0, 1, 2, 2, 1, 0, 3, 3, 3, 1};
  std::vector<std::int32_t> b;
  const std::int32_t relabel[] = {2, 3, 0, 1};
  for (std::int32_t x : a) b.push_back(relabel[x]);
  EXPECT_EQ(ari(a, b, 4, 4), 1.0);
}

TEST(PartitionMetricsARI, DegenerateCasesAreOne) {
  EXPECT_EQ(ari({}, {}, 0, 0), 1.0);
  EXPECT_EQ(ari({0}, {0}, 1, 1), 1.0);
  EXPECT_EQ(ari({0, 0, 0}, {1, 1, 1}, 1, 2), 1.0);  // one cluster each
  EXPECT_EQ(ari({0, 1, 2}, {2, 0, 1}, 3, 3), 1.0);  // all singletons
  EXPECT_EQ(ari({0, 2, 4}, {0, 1, 2}, 5, 3), 1.0);  // unused labels do not count
}

TEST(PartitionMetricsARI, HandComputedValue) {
  // a = {0,0,0,1,1,1}, b = {0,0,1,1,2,2}: contingency [[2,1,0],[0,1,2]].
  // sum C(n_ij,2) = 2, rows 3 + 3 = 6, cols 1 + 1 + 1 = 3, C(6,2) = 15:
  // expected 6 * 3 / 15 = 1.2, max 4.5, ARI = (2 - 1.2) / (4.5 - 1.2) = 0.2424...
  EXPECT_NEAR(ari({0, 0, 0, 1, 1, 1}, {0, 0, 1, 1, 2, 2}, 2, 3), 0.8 / 3.3, 1e-15);
}

TEST(PartitionMetricsARI, RejectsLabelsOutOfRange) {
  EXPECT_THROW(ari({0, 2}, {0, 1}, 2, 2), std::out_of_range);
  EXPECT_THROW(ari({0, -1}, {0, 1}, 2, 2), std::out_of_range);
}

}  // namespace
}  // namespace archetype
