// The CPU backend's passes against naive recomputation.
#include "archetype/backend.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "archetype/distance.hpp"
#include "test_support.hpp"

namespace archetype {
namespace {

/// Full recount of a pass's sums for given labels.
PassSums recount(const Matrix& X, const FixedPoint& fp, const std::vector<std::int32_t>& labels, int k) {
  PassSums s;
  s.resize(static_cast<std::size_t>(k), X.cols);
  for (std::size_t i = 0; i < X.rows; ++i) {
    const std::size_t c = static_cast<std::size_t>(labels[i]);
    s.counts[c] += 1;
    for (std::size_t j = 0; j < X.cols; ++j) s.sums[c * X.cols + j] += quantize_feature(X.at(i, j), fp.feature_scale());
  }
  return s;
}

// The backend keeps running sums and updates only relabelled rows; after
// any sequence of passes they must equal a full recount of the labels.
TEST(CpuBackend, IncrementalSumsEqualFullRecount) {
  for (std::size_t d : {2u, 3u}) {
    const Matrix X = test::random_blobs(5000, d, 4, 17 + d, 1.2f);
    const FixedPoint fp = FixedPoint::for_data(X);
    auto b = make_cpu_backend(2);
    b->bind(X, fp, 4);
    b->reset_labels();
    std::vector<float> centers(4 * d);
    PassSums s;
    std::vector<std::int32_t> labels(X.rows);
    for (int pass = 0; pass < 6; ++pass) {
      // Move the centres a little each pass so that some labels change.
      for (std::size_t i = 0; i < centers.size(); ++i)
        centers[i] = X.values[(i * 97 + static_cast<std::size_t>(pass) * 13) % X.values.size()];
      b->lloyd_pass(centers.data(), 4, s);
      b->copy_labels(labels.data());
      const PassSums ref = recount(X, fp, labels, 4);
      EXPECT_EQ(s.counts, ref.counts) << "pass " << pass;
      EXPECT_EQ(s.sums, ref.sums) << "pass " << pass;
      std::int64_t inertia = 0;
      for (std::size_t i = 0; i < X.rows; ++i) {
        float best = INFINITY;
        for (std::size_t c = 0; c < 4; ++c)
          best = std::min(best, squared_distance(X.row(i), centers.data() + c * d, d));
        inertia += quantize_distance(best, fp.dist_scale());
      }
      EXPECT_EQ(s.inertia_q, inertia);
    }
    // A pass with the same centres changes nothing.
    b->lloyd_pass(centers.data(), 4, s);
    EXPECT_EQ(s.changed, 0);
  }
}

TEST(CpuBackend, KMeansPlusPlusPrimitives) {
  const Matrix X = test::random_blobs(3000, 2, 3, 2);
  const FixedPoint fp = FixedPoint::for_data(X);
  auto b = make_cpu_backend(2);
  b->bind(X, fp, 3);
  const float* c0 = X.row(10);
  b->seed_distances(c0);
  std::vector<std::int64_t> q(X.rows);
  std::int64_t total = 0;
  for (std::size_t i = 0; i < X.rows; ++i) total += q[i] = quantize_distance(squared_distance(X.row(i), c0, 2), fp.dist_scale());
  EXPECT_EQ(b->potential(), total);
  // Sampling: the first row whose inclusive prefix sum exceeds the target.
  std::vector<std::int64_t> targets = {0, total / 3, total - 1};
  std::vector<std::int64_t> rows(3);
  b->sample_by_potential(targets.data(), 3, rows.data());
  for (std::size_t t = 0; t < 3; ++t) {
    std::int64_t prefix = 0;
    std::size_t expect = 0;
    for (std::size_t i = 0; i < X.rows; ++i) {
      prefix += q[i];
      if (prefix > targets[t]) {
        expect = i;
        break;
      }
    }
    EXPECT_EQ(static_cast<std::size_t>(rows[t]), expect);
  }
  // Candidate potentials: sum of min(closest, d2 to candidate).
  const float* cand = X.row(2000);
  std::int64_t pot = 0;
  for (std::size_t i = 0; i < X.rows; ++i)
    pot += quantize_distance(std::min(squared_distance(X.row(i), c0, 2), squared_distance(X.row(i), cand, 2)), fp.dist_scale());
  std::int64_t got = 0;
  b->trial_potentials(cand, 1, &got);
  EXPECT_EQ(got, pot);
  b->commit_center(cand);
  EXPECT_EQ(b->potential(), pot);
}

TEST(CpuBackend, FarthestRowsAreOrderedAndTieBrokenByIndex) {
  Matrix X(6, 1);
  X.values = {0.0f, 3.0f, -3.0f, 1.0f, 3.0f, 0.5f};
  const FixedPoint fp = FixedPoint::for_data(X);
  auto b = make_cpu_backend(1);
  b->bind(X, fp, 1);
  b->reset_labels();
  const float center = 0.0f;
  PassSums s;
  b->lloyd_pass(&center, 1, s);
  std::int64_t rows[3];
  std::int32_t labels[3];
  b->farthest_rows(&center, 1, 3, rows, labels);
  EXPECT_EQ(rows[0], 1);
  EXPECT_EQ(rows[1], 2);
  EXPECT_EQ(rows[2], 4);
  EXPECT_EQ(labels[0], 0);
}

}  // namespace
}  // namespace archetype
