// The CPU backend's passes against naive recomputation.
#include "archetype/backend.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include <omp.h>

#include "archetype/distance.hpp"
#include "engine/host_assign.hpp"
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

/// Naive closest distance of row i to the first `count` centres.
float naive_closest(const Matrix& X, std::size_t i, const float* centers, int count) {
  float best = INFINITY;
  for (int c = 0; c < count; ++c)
    best = std::min(best, squared_distance(X.row(i), centers + static_cast<std::size_t>(c) * X.cols, X.cols));
  return best;
}

// The fused k-means++ passes of three models of different k against naive
// recomputation: potentials, candidate potentials, sampling.  Above 32,768
// rows so that the passes run on several threads.
// A feature whose largest value lies half a grid step below 2^23 steps
// (0.99999994 = 1 - 2^-24 on the grid 2^-23) rounds to 2^23: a 256-row
// block of such rows in one cluster summed 2^31 in the int32 block sums,
// wrapped to -2^31.  The grid keeps every quantized value below 2^23, so
// the lone and batch passes equal a recount, at d = 1 and 2 (the paths
// that sum whole blocks in int32) and 3.
TEST(CpuBackend, ValuesAtTheTopOfTheGridSumWithoutOverflow) {
  for (std::size_t d : {1u, 2u, 3u}) {
    Matrix X(520, d);
    for (std::size_t i = 0; i < X.rows; ++i)
      for (std::size_t j = 0; j < d; ++j) X.values[i * d + j] = i < 512 ? 0.99999994f : -0.5f;
    const FixedPoint fp = FixedPoint::for_data(X);
    EXPECT_LT(std::abs(quantize_feature(0.99999994f, fp.feature_scale())), std::int32_t{1} << kFeatureBits);
    std::vector<std::int32_t> labels(X.rows);
    for (std::size_t i = 0; i < X.rows; ++i) labels[i] = i < 512 ? 0 : 1;
    const PassSums want = recount(X, fp, labels, 2);
    std::vector<float> centres(2 * d);
    for (std::size_t j = 0; j < d; ++j) centres[j] = 0.99999994f, centres[d + j] = -0.5f;
    for (int threads : {1, 2}) {
      auto b = make_cpu_backend(threads);
      b->bind(X, fp, 2);
      b->reset_labels();
      PassSums lone;
      b->lloyd_pass(centres.data(), 2, lone);
      EXPECT_EQ(lone.counts, want.counts) << "d " << d;
      EXPECT_EQ(lone.sums, want.sums) << "d " << d << " threads " << threads;
      b->reserve_batch(1, 2);
      const int ks[1] = {2};
      PassSums batch;
      b->lloyd_batch(ModelBatch{centres.data(), ks, 1}, &batch);
      EXPECT_EQ(batch.sums, want.sums) << "d " << d << " threads " << threads;
    }
  }
}

TEST(CpuBackend, KMeansPlusPlusBatchPassesEqualNaiveSums) {
  const Matrix X = test::random_blobs(40000, 2, 3, 2);
  const FixedPoint fp = FixedPoint::for_data(X);
  auto b = make_cpu_backend(2);
  b->bind(X, fp, 3);
  b->reserve_batch(3, 6);
  const int ks[3] = {1, 2, 3};
  std::vector<float> centers;
  for (std::size_t row : {10u, 10u, 2000u, 7u, 30000u, 123u}) centers.insert(centers.end(), X.row(row), X.row(row) + 2);
  const ModelBatch batch{centers.data(), ks, 3};
  const int trials[3] = {2, 0, 1};
  std::vector<float> cands;
  for (std::size_t row : {5u, 39999u, 20000u}) cands.insert(cands.end(), X.row(row), X.row(row) + 2);
  std::vector<std::int64_t> got(3 + 3);
  b->kpp_potentials(batch, cands.data(), trials, got.data());
  std::vector<std::int64_t> want(6, 0);
  const float* model_centers[3] = {centers.data(), centers.data() + 2, centers.data() + 6};
  const float* model_cands[3] = {cands.data(), nullptr, cands.data() + 4};
  std::size_t o = 0;
  for (int m = 0; m < 3; ++m) {
    for (std::size_t i = 0; i < X.rows; ++i) {
      const float cl = naive_closest(X, i, model_centers[m], ks[m]);
      want[o] += quantize_distance(cl, fp.dist_scale());
      for (int t = 0; t < trials[m]; ++t)
        want[o + 1 + static_cast<std::size_t>(t)] +=
            quantize_distance(std::min(cl, squared_distance(X.row(i), model_cands[m] + 2 * t, 2)), fp.dist_scale());
    }
    o += 1 + static_cast<std::size_t>(trials[m]);
  }
  EXPECT_EQ(got, want);
  // Sampling: the first row whose inclusive prefix sum exceeds the target.
  const std::int64_t pot[3] = {want[0], want[3], want[4]};
  const int n_targets[3] = {3, 1, 2};
  const std::vector<std::int64_t> targets = {0, pot[0] / 3, pot[0] - 1, pot[1] / 2, pot[2] - 1, pot[2] / 7};
  std::vector<std::int64_t> rows(targets.size());
  b->kpp_sample(batch, targets.data(), n_targets, rows.data());
  std::size_t ti = 0;
  for (int m = 0; m < 3; ++m)
    for (int t = 0; t < n_targets[m]; ++t, ++ti) {
      std::int64_t prefix = 0;
      std::size_t expect = 0;
      for (std::size_t i = 0; i < X.rows; ++i) {
        prefix += quantize_distance(naive_closest(X, i, model_centers[m], ks[m]), fp.dist_scale());
        if (prefix > targets[ti]) {
          expect = i;
          break;
        }
      }
      EXPECT_EQ(static_cast<std::size_t>(rows[ti]), expect) << "model " << m << " target " << t;
    }
}

// A fused Lloyd pass gives each model exactly what a lone pass gives it,
// for any thread count.
TEST(CpuBackend, LloydBatchEqualsLonePasses) {
  for (std::size_t d : {2u, 5u}) {
    const Matrix X = test::random_blobs(50000, d, 4, 31 + d);
    const FixedPoint fp = FixedPoint::for_data(X);
    const int ks[4] = {2, 5, 1, 4};
    std::vector<float> centers;
    for (std::size_t i = 0; i < 12 * d; ++i) centers.push_back(X.values[(i * 7919) % X.values.size()]);
    for (int threads : {1, 2}) {
      auto b = make_cpu_backend(threads);
      b->bind(X, fp, 5);
      b->reserve_batch(4, 12);
      std::vector<PassSums> fused(4);
      b->lloyd_batch(ModelBatch{centers.data(), ks, 4}, fused.data());
      std::size_t off = 0;
      for (int m = 0; m < 4; ++m) {
        PassSums lone;
        b->reset_labels();
        b->lloyd_pass(centers.data() + off, ks[m], lone);
        EXPECT_EQ(fused[static_cast<std::size_t>(m)].counts, lone.counts) << "d " << d << " model " << m;
        EXPECT_EQ(fused[static_cast<std::size_t>(m)].sums, lone.sums) << "d " << d << " model " << m;
        EXPECT_EQ(fused[static_cast<std::size_t>(m)].inertia_q, lone.inertia_q) << "d " << d << " model " << m;
        off += static_cast<std::size_t>(ks[m]) * d;
      }
    }
  }
}

TEST(HostAssign, FarthestRowsAreOrderedAndTieBrokenByIndex) {
  Matrix X(6, 1);
  X.values = {0.0f, 3.0f, -3.0f, 1.0f, 3.0f, 0.5f};
  const float center = 0.0f;
  std::int64_t rows[3];
  std::int32_t labels[3];
  farthest_rows(X, &center, 1, 3, rows, labels);
  EXPECT_EQ(rows[0], 1);
  EXPECT_EQ(rows[1], 2);
  EXPECT_EQ(rows[2], 4);
  EXPECT_EQ(labels[0], 0);
}

// Distance to the nearest centre, with ties to the lowest centre index;
// the split of rows among threads changes nothing.
TEST(HostAssign, FarthestRowsUseTheNearestCentreAndDoNotDependOnThreads) {
  const Matrix X = test::random_blobs(70000, 3, 4, 5);
  std::vector<float> centers(X.values.begin(), X.values.begin() + 12);
  std::int64_t rows1[5], rows2[5];
  std::int32_t lab1[5], lab2[5];
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  farthest_rows(X, centers.data(), 4, 5, rows1, lab1);
  omp_set_num_threads(2);
  farthest_rows(X, centers.data(), 4, 5, rows2, lab2);
  omp_set_num_threads(saved);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(rows1[i], rows2[i]);
    EXPECT_EQ(lab1[i], lab2[i]);
    float d2 = 0.0f;
    EXPECT_EQ(lab1[i], nearest_centre(X.row(static_cast<std::size_t>(rows1[i])), centers.data(), 4, 3, &d2));
    if (i > 0) {
      float prev = 0.0f;
      nearest_centre(X.row(static_cast<std::size_t>(rows1[i - 1])), centers.data(), 4, 3, &prev);
      EXPECT_GE(prev, d2);
    }
  }
}

// The label-store rule (backend.hpp): take_labels hands the labels over
// and empties the store, reading an empty store is a logic error, and the
// next pass starts from all -1 (every row changed).  label_sums (the host
// sums of given labels) gives the pass's numbers.
// Stored labels belong to one k (backend.hpp): a pass with another k,
// without reset_labels, counts every row as changed; the next pass with the
// same k counts from there (the CUDA backend does the same: gpu tests).
TEST(CpuBackend, AnotherKStartsTheStoredLabelsOver) {
  const Matrix X = test::random_blobs(5000, 3, 4, 8);
  const FixedPoint fp = FixedPoint::for_data(X);
  const auto b = make_cpu_backend(2);
  b->bind(X, fp, 5);
  const std::vector<float> centers(X.values.begin(), X.values.begin() + 15);
  PassSums s;
  b->lloyd_pass(centers.data(), 5, s);
  EXPECT_EQ(s.changed, static_cast<std::int64_t>(X.rows));
  b->lloyd_pass(centers.data(), 5, s);
  EXPECT_EQ(s.changed, 0);
  b->lloyd_pass(centers.data(), 4, s);
  EXPECT_EQ(s.changed, static_cast<std::int64_t>(X.rows));
  b->lloyd_pass(centers.data(), 4, s);
  EXPECT_EQ(s.changed, 0);
}

TEST(CpuBackend, TakeLabelsEmptiesTheStore) {
  const Matrix X = test::random_blobs(5000, 3, 3, 2);
  const FixedPoint fp = FixedPoint::for_data(X);
  const auto b = make_cpu_backend(2);
  b->bind(X, fp, 3);
  const std::vector<float> centers(X.values.begin(), X.values.begin() + 9);  // rows 0..2
  PassSums first, again, host;
  b->reset_labels();
  b->lloyd_pass(centers.data(), 3, first);
  std::vector<std::int32_t> copy(X.rows), taken(7, 9);
  b->copy_labels(copy.data());
  b->take_labels(taken);
  EXPECT_EQ(taken, copy);
  EXPECT_THROW(b->copy_labels(copy.data()), std::logic_error);
  const std::size_t row = 0;
  EXPECT_THROW(b->gather_labels(&row, 1, copy.data()), std::logic_error);
  b->lloyd_pass(centers.data(), 3, again);
  EXPECT_EQ(again.changed, static_cast<std::int64_t>(X.rows));
  EXPECT_EQ(again.sums, first.sums);
  EXPECT_EQ(again.counts, first.counts);
  label_sums(X, taken.data(), 3, fp, host);
  const PassSums want = recount(X, fp, taken, 3);
  EXPECT_EQ(host.sums, want.sums);
  EXPECT_EQ(host.counts, want.counts);
  EXPECT_EQ(host.sums, first.sums);
}

}  // namespace
}  // namespace archetype
