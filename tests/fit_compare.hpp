// Two fits are the same bits: the comparison the determinism tests share.
#pragma once

#include <gtest/gtest.h>

#include "archetype/kmeans.hpp"

namespace archetype::test {

inline void expect_same_fit(const KMeansResult& a, const KMeansResult& b) {
  EXPECT_EQ(a.k, b.k);
  EXPECT_EQ(a.centers, b.centers);
  EXPECT_EQ(a.means, b.means);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_EQ(a.counts, b.counts);
  EXPECT_EQ(a.inertia, b.inertia);
  EXPECT_EQ(a.n_iter, b.n_iter);
  EXPECT_EQ(a.best_run, b.best_run);
  ASSERT_EQ(a.runs.size(), b.runs.size());
  for (std::size_t r = 0; r < a.runs.size(); ++r) EXPECT_EQ(a.runs[r].inertia, b.runs[r].inertia);
  EXPECT_EQ(a.stability.mean_ari, b.stability.mean_ari);
}

}  // namespace archetype::test
