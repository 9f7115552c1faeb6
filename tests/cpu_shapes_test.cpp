// The CPU backend at every shape (issue: any number of features and
// clusters): d in {1, 2, 3, 7, 64, 300}, k up to 1,000, row counts that are no
// multiple of any block, against naive scalar recomputation with
// squared_distance(), for 1 and 2 threads (above 32,768 rows, so that the
// passes really split), single and batch passes, the k-means++ distance
// cache, host assignment, the silhouette, and fused fits against lone fits.
// 20011 x 2 with k = 24: at d <= 2 the k-means++ kernels read the rows in
// place, and from k = 16 they keep the candidates' distances (a fold without
// reading the rows).
#include <gtest/gtest.h>
#include <omp.h>

#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>
#include <vector>

#include "archetype/backend.hpp"
#include "archetype/distance.hpp"
#include "archetype/kmeans.hpp"
#include "engine/cpu_silhouette.hpp"
#include "engine/fit_steps.hpp"
#include "engine/host_assign.hpp"
#include "test_support.hpp"

namespace archetype {
namespace {

struct Shape {
  std::size_t n, d;
  int k;
};

std::string name(const Shape& s) {
  return std::to_string(s.n) + "x" + std::to_string(s.d) + "_k" + std::to_string(s.k);
}

/// Centres drawn from rows (scrambled), with centre 1 a copy of centre 0
/// when k > 2, so that exact ties between centres occur on every row.
std::vector<float> some_centres(const Matrix& X, int k, std::size_t salt) {
  std::vector<float> c;
  for (int i = 0; i < k; ++i) {
    const std::size_t row = (static_cast<std::size_t>(i) * 7919 + salt * 131) % X.rows;
    c.insert(c.end(), X.row(row), X.row(row) + X.cols);
  }
  if (k > 2) std::copy(c.begin(), c.begin() + static_cast<std::ptrdiff_t>(X.cols), c.begin() + static_cast<std::ptrdiff_t>(X.cols));
  return c;
}

/// Naive nearest centre (strict <: ties to the lowest index) and the pass sums.
PassSums naive_pass(const Matrix& X, const FixedPoint& fp, const float* centers, int k,
                    std::vector<std::int32_t>* labels_out) {
  PassSums s;
  s.resize(static_cast<std::size_t>(k), X.cols);
  for (std::size_t i = 0; i < X.rows; ++i) {
    float best = INFINITY;
    int label = 0;
    for (int c = 0; c < k; ++c) {
      const float v = squared_distance(X.row(i), centers + static_cast<std::size_t>(c) * X.cols, X.cols);
      if (v < best) {
        best = v;
        label = c;
      }
    }
    if (labels_out) (*labels_out)[i] = label;
    s.counts[static_cast<std::size_t>(label)] += 1;
    for (std::size_t j = 0; j < X.cols; ++j)
      s.sums[static_cast<std::size_t>(label) * X.cols + j] += quantize_feature(X.at(i, j), fp.feature_scale());
    s.inertia_q += quantize_distance(best, fp.dist_scale());
  }
  return s;
}

class CpuShapes : public ::testing::TestWithParam<Shape> {};

// The stored-labels pass (twice: fresh, then with few labels changed) and
// the batch pass equal the naive sums, for 1 and 2 threads, with the data
// transposed once at bind (d >= 3) and block by block on every pass.
TEST_P(CpuShapes, LloydPassesEqualNaiveSums) {
  const Shape sh = GetParam();
  const Matrix X = test::random_blobs(sh.n, sh.d, std::min(sh.k, 40), 1000 + sh.d, 0.8f);
  const FixedPoint fp = FixedPoint::for_data(X);
  const std::vector<float> c0 = some_centres(X, sh.k, 1);
  std::vector<float> c1 = c0;
  for (std::size_t i = 0; i < c1.size(); i += 5) c1[i] += 0.05f;  // a few labels change
  std::vector<std::int32_t> want_labels(X.rows), got_labels(X.rows);
  const PassSums want0 = naive_pass(X, fp, c0.data(), sh.k, nullptr);
  const PassSums want1 = naive_pass(X, fp, c1.data(), sh.k, &want_labels);
  for (int variant = 0; variant < 3; ++variant) {
    const int threads = variant == 0 ? 1 : 2;
    if (variant == 2) setenv("ARCHETYPE_CPU_TRANSPOSED_COPY", "0", 1);
    auto b = make_cpu_backend(threads);
    b->bind(X, fp, sh.k);
    unsetenv("ARCHETYPE_CPU_TRANSPOSED_COPY");
    b->reset_labels();
    PassSums got;
    b->lloyd_pass(c0.data(), sh.k, got);
    EXPECT_EQ(got.counts, want0.counts) << "variant " << variant;
    EXPECT_EQ(got.sums, want0.sums) << "variant " << variant;
    EXPECT_EQ(got.inertia_q, want0.inertia_q) << "variant " << variant;
    b->lloyd_pass(c1.data(), sh.k, got);
    EXPECT_EQ(got.counts, want1.counts) << "variant " << variant;
    EXPECT_EQ(got.sums, want1.sums) << "variant " << variant;
    EXPECT_EQ(got.inertia_q, want1.inertia_q) << "variant " << variant;
    b->copy_labels(got_labels.data());
    EXPECT_EQ(got_labels, want_labels) << "variant " << variant;
    // The batch pass: both centre sets as two models.
    b->reserve_batch(2, 2 * sh.k);
    std::vector<float> both = c0;
    both.insert(both.end(), c1.begin(), c1.end());
    const int ks[2] = {sh.k, sh.k};
    std::vector<PassSums> batch(2);
    b->lloyd_batch(ModelBatch{both.data(), ks, 2}, batch.data());
    EXPECT_EQ(batch[0].sums, want0.sums) << "variant " << variant;
    EXPECT_EQ(batch[0].inertia_q, want0.inertia_q) << "variant " << variant;
    EXPECT_EQ(batch[1].counts, want1.counts) << "variant " << variant;
    EXPECT_EQ(batch[1].sums, want1.sums) << "variant " << variant;
    EXPECT_EQ(batch[1].inertia_q, want1.inertia_q) << "variant " << variant;
  }
  // Host assignment (stability labels) gives the same labels.
  std::vector<std::int32_t> host(X.rows);
  assign_rows(X, {}, c1.data(), sh.k, host.data());
  EXPECT_EQ(host, want_labels);
}

// Batch passes with slots keep Hamerly bounds (mean k >= 64, k x d >=
// 1024): as centres move (a little, then a jump, then not at all), every
// pass must still equal the naive sums bit for bit, for 1 and 2 threads and
// both transposition paths; a slot whose k changes starts over.
class CpuBoundedShapes : public ::testing::TestWithParam<Shape> {};

TEST_P(CpuBoundedShapes, BatchPassesEqualNaiveSums) {
  const Shape sh = GetParam();
  const Matrix X = test::random_blobs(sh.n, sh.d, std::min(sh.k, 40), 5000 + sh.d, 0.8f);
  const FixedPoint fp = FixedPoint::for_data(X);
  // The centres of every pass (two models), and their naive sums, once.
  constexpr int kPasses = 6;
  std::vector<std::vector<float>> centres;  // per pass: model 0's then model 1's
  std::vector<PassSums> want;
  std::vector<float> c0 = some_centres(X, sh.k, 7), c1 = some_centres(X, sh.k, 11);
  for (int pass = 0; pass < kPasses; ++pass) {
    // Pass 3 jumps (no bound survives), pass 5 repeats pass 4 (no drift).
    const float step = pass == 3 ? 0.8f : pass == 5 ? 0.0f : 0.01f;
    for (std::size_t i = 0; i < c0.size(); ++i) {
      c0[i] += step * static_cast<float>(static_cast<int>((i * 37 + static_cast<std::size_t>(pass)) % 7) - 3);
      c1[i] -= step * static_cast<float>(static_cast<int>((i * 53 + static_cast<std::size_t>(pass)) % 5) - 2);
    }
    centres.push_back(c0);
    centres.back().insert(centres.back().end(), c1.begin(), c1.end());
    want.push_back(naive_pass(X, fp, c0.data(), sh.k, nullptr));
    want.push_back(naive_pass(X, fp, c1.data(), sh.k, nullptr));
  }
  const int k2 = sh.k - 3;
  const PassSums want_k2 = naive_pass(X, fp, c0.data(), k2, nullptr);
  for (int variant = 0; variant < 3; ++variant) {
    if (variant == 2) setenv("ARCHETYPE_CPU_TRANSPOSED_COPY", "0", 1);
    auto b = make_cpu_backend(variant == 0 ? 1 : 2);
    b->bind(X, fp, sh.k);
    unsetenv("ARCHETYPE_CPU_TRANSPOSED_COPY");
    b->reserve_batch(2, 2 * sh.k);
    const int slots[2] = {0, 1};
    const int ks[2] = {sh.k, sh.k};
    for (int pass = 0; pass < kPasses; ++pass) {
      std::vector<PassSums> got(2);
      b->lloyd_batch(ModelBatch{centres[static_cast<std::size_t>(pass)].data(), ks, 2, slots}, got.data());
      for (std::size_t m = 0; m < 2; ++m) {
        const PassSums& w = want[static_cast<std::size_t>(pass) * 2 + m];
        EXPECT_EQ(got[m].counts, w.counts) << "variant " << variant << " pass " << pass << " model " << m;
        EXPECT_EQ(got[m].sums, w.sums) << "variant " << variant << " pass " << pass << " model " << m;
        EXPECT_EQ(got[m].inertia_q, w.inertia_q) << "variant " << variant << " pass " << pass << " model " << m;
      }
    }
    // Slot 0 with fewer centres: its bounds do not apply and are rebuilt.
    const int ks2[1] = {k2};
    std::vector<PassSums> got(1);
    b->lloyd_batch(ModelBatch{c0.data(), ks2, 1, slots}, got.data());
    EXPECT_EQ(got[0].sums, want_k2.sums) << "variant " << variant;
    EXPECT_EQ(got[0].inertia_q, want_k2.inertia_q) << "variant " << variant;
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, CpuBoundedShapes,
                         ::testing::Values(Shape{40013, 3, 1000}, Shape{33333, 7, 150}, Shape{33001, 64, 70},
                                           Shape{3001, 300, 64}, Shape{6007, 2, 1500}),
                         [](const ::testing::TestParamInfo<Shape>& i) { return name(i.param); });

// Exact ties through bounded passes: every centre has two copies (indices
// c, c + k / 3 and c + 2 k / 3), moved together, so that every row ties
// between three centres on every pass, and the groups of 16 centres split
// some of the triples.  Every pass must still choose the lowest index (the
// naive sums), for 1 and 2 threads.
TEST(CpuBoundedTies, TiedCentresKeepTheLowestIndex) {
  const Matrix X = test::random_blobs(9001, 16, 20, 99, 0.8f);
  const FixedPoint fp = FixedPoint::for_data(X);
  const int third = 43, k = 3 * third;
  std::vector<float> base = some_centres(X, third, 3);
  for (const int threads : {1, 2}) {
    auto b = make_cpu_backend(threads);
    b->bind(X, fp, k);
    b->reserve_batch(1, k);
    std::vector<float> moved = base;
    for (int pass = 0; pass < 6; ++pass) {
      const float step = pass == 3 ? 0.5f : pass == 5 ? 0.0f : 0.02f;
      for (std::size_t i = 0; i < moved.size(); ++i)
        moved[i] += step * static_cast<float>(static_cast<int>((i * 31 + static_cast<std::size_t>(pass)) % 5) - 2);
      std::vector<float> c;
      for (int copy = 0; copy < 3; ++copy) c.insert(c.end(), moved.begin(), moved.end());
      const PassSums want = naive_pass(X, fp, c.data(), k, nullptr);
      const int slots[1] = {0};
      const int ks[1] = {k};
      std::vector<PassSums> got(1);
      b->lloyd_batch(ModelBatch{c.data(), ks, 1, slots}, got.data());
      EXPECT_EQ(got[0].counts, want.counts) << "threads " << threads << " pass " << pass;
      EXPECT_EQ(got[0].sums, want.sums) << "threads " << threads << " pass " << pass;
      EXPECT_EQ(got[0].inertia_q, want.inertia_q) << "threads " << threads << " pass " << pass;
    }
  }
}

// Batch passes with slots keep each model's labels and running sums and add
// only the change (plan_stored): with and without weights, through passes
// where many rows move (a jump), few move (small steps) or none (a repeat),
// a slot whose k changes, and a slot taken over by another model of the
// same k, every pass equals the same pass without slots (which recounts).
TEST(CpuStoredLabels, BatchSumsWithSlotsEqualRecount) {
  const Matrix X = test::random_blobs(20011, 16, 9, 77, 0.9f);
  const FixedPoint fp = FixedPoint::for_data(X);
  std::vector<std::int32_t> w(X.rows);
  for (std::size_t i = 0; i < X.rows; ++i) w[i] = static_cast<std::int32_t>((i * 2654435761u >> 7) % 6);
  for (const bool weighted : {false, true}) {
    auto slotted = make_cpu_backend(2), plain = make_cpu_backend(2);
    slotted->bind(X, weighted ? w.data() : nullptr, fp, 40);
    plain->bind(X, weighted ? w.data() : nullptr, fp, 40);
    slotted->reserve_batch(3, 80);
    plain->reserve_batch(3, 80);
    std::vector<float> c0 = some_centres(X, 12, 3), c1 = some_centres(X, 30, 5), c2 = some_centres(X, 12, 9);
    for (int pass = 0; pass < 8; ++pass) {
      const float step = pass == 3 ? 0.9f : pass == 5 ? 0.0f : 0.02f;
      for (std::size_t i = 0; i < c0.size(); ++i) c0[i] += step * static_cast<float>(static_cast<int>(i % 5) - 2);
      for (std::size_t i = 0; i < c1.size(); ++i) c1[i] -= step * static_cast<float>(static_cast<int>(i % 3) - 1);
      int ks[3] = {12, 30, 12};
      int slots[3] = {0, 1, 2};
      if (pass == 6) ks[1] = 25;            // slot 1 with another k: starts over
      if (pass == 7) std::swap(slots[0], slots[2]);  // slots 0 and 2 swap models of the same k
      std::vector<float> all = c0;
      all.insert(all.end(), c1.begin(), c1.begin() + static_cast<std::ptrdiff_t>(ks[1]) * 16);
      all.insert(all.end(), c2.begin(), c2.end());
      std::vector<PassSums> got(3), want(3);
      slotted->lloyd_batch(ModelBatch{all.data(), ks, 3, slots}, got.data());
      plain->lloyd_batch(ModelBatch{all.data(), ks, 3, nullptr}, want.data());
      for (std::size_t m = 0; m < 3; ++m) {
        EXPECT_EQ(got[m].counts, want[m].counts) << "weighted " << weighted << " pass " << pass << " model " << m;
        EXPECT_EQ(got[m].sums, want[m].sums) << "weighted " << weighted << " pass " << pass << " model " << m;
        EXPECT_EQ(got[m].inertia_q, want[m].inertia_q) << "weighted " << weighted << " pass " << pass;
      }
    }
  }
}

/// Naive k-means++ potentials of one model: [closest, each candidate].
std::vector<std::int64_t> naive_potentials(const Matrix& X, const FixedPoint& fp, const float* centers, int k,
                                           const float* cands, int trials) {
  std::vector<std::int64_t> out(1 + static_cast<std::size_t>(trials), 0);
  for (std::size_t i = 0; i < X.rows; ++i) {
    float cl = INFINITY;
    for (int c = 0; c < k; ++c)
      cl = std::min(cl, squared_distance(X.row(i), centers + static_cast<std::size_t>(c) * X.cols, X.cols));
    out[0] += quantize_distance(cl, fp.dist_scale());
    for (int t = 0; t < trials; ++t)
      out[1 + static_cast<std::size_t>(t)] += quantize_distance(
          std::min(cl, squared_distance(X.row(i), cands + static_cast<std::size_t>(t) * X.cols, X.cols)),
          fp.dist_scale());
  }
  return out;
}

// k-means++ passes as the seeding makes them (one centre more per step,
// each a candidate of the step before, so that cached models fold it in
// from the candidate distances they kept; the sampling pass first on even
// steps, so that both passes fold), with the distance cache (slots) and the
// transposed copy, and without either: the same numbers, equal to the
// naive ones, and the sampled rows those of the naive prefix sums.  A slot
// whose centres change (not a prefix any more) must start over.
TEST_P(CpuShapes, KMeansPlusPlusPassesWithAndWithoutTheCacheEqualNaive) {
  const Shape sh = GetParam();
  const Matrix X = test::random_blobs(sh.n, sh.d, std::min(sh.k, 40), 2000 + sh.d, 0.8f);
  const FixedPoint fp = FixedPoint::for_data(X);
  const int steps = std::min(sh.k, 6);
  std::vector<float> centres = some_centres(X, 1, 3);
  auto cached = make_cpu_backend(2);
  auto plain = make_cpu_backend(2);
  cached->bind(X, fp, sh.k);
  setenv("ARCHETYPE_CPU_TRANSPOSED_COPY", "0", 1);  // and the per-pass transposition
  plain->bind(X, fp, sh.k);
  unsetenv("ARCHETYPE_CPU_TRANSPOSED_COPY");
  cached->reserve_batch(1, steps);
  plain->reserve_batch(1, steps);
  // Nine candidates a step: the kernels' steps of eight (lane_squares8),
  // four and one all run, and more than the 2 + ln k the cache keeps.
  const int slot = 0, trials = 9;
  for (int c = 1; c <= steps; ++c) {
    const int ks[1] = {c};
    const std::vector<float> cands = some_centres(X, trials, 9 + static_cast<std::size_t>(c));
    const std::vector<std::int64_t> want = naive_potentials(X, fp, centres.data(), c, cands.data(), trials);
    const std::int64_t targets[3] = {0, want[0] / 2, want[0] - 1};
    const int n_targets[1] = {3};
    std::int64_t ra[3], rb[3];
    auto sample = [&] {
      cached->kpp_sample(ModelBatch{centres.data(), ks, 1, &slot}, targets, n_targets, ra);
      plain->kpp_sample(ModelBatch{centres.data(), ks, 1}, targets, n_targets, rb);
    };
    if (c % 2 == 0) sample();
    std::vector<std::int64_t> a(1 + trials), b(1 + trials);
    cached->kpp_potentials(ModelBatch{centres.data(), ks, 1, &slot}, cands.data(), &trials, a.data());
    plain->kpp_potentials(ModelBatch{centres.data(), ks, 1}, cands.data(), &trials, b.data());
    EXPECT_EQ(a, want) << "step " << c;
    EXPECT_EQ(b, want) << "step " << c;
    if (c % 2 == 1) sample();
    for (int t = 0; t < 3; ++t) {
      std::int64_t prefix = 0, expect = static_cast<std::int64_t>(X.rows) - 1;
      for (std::size_t i = 0; i < X.rows; ++i) {
        float cl = INFINITY;
        for (int q = 0; q < c; ++q)
          cl = std::min(cl, squared_distance(X.row(i), centres.data() + static_cast<std::size_t>(q) * sh.d, sh.d));
        prefix += quantize_distance(cl, fp.dist_scale());
        if (prefix > targets[t]) {
          expect = static_cast<std::int64_t>(i);
          break;
        }
      }
      EXPECT_EQ(ra[t], expect) << "step " << c << " target " << t;
      EXPECT_EQ(rb[t], expect) << "step " << c << " target " << t;
    }
    // The next centre: one of this step's candidates, in turn.
    const float* chosen = cands.data() + static_cast<std::size_t>(c % trials) * sh.d;
    centres.insert(centres.end(), chosen, chosen + sh.d);
  }
  // Other centres in the same slot: no stale distances.
  const std::vector<float> other = some_centres(X, steps, 17);
  const std::vector<float> cands = some_centres(X, trials, 9);
  const int ks[1] = {steps};
  std::vector<std::int64_t> a(1 + trials);
  cached->kpp_potentials(ModelBatch{other.data(), ks, 1, &slot}, cands.data(), &trials, a.data());
  EXPECT_EQ(a, naive_potentials(X, fp, other.data(), steps, cands.data(), trials));
}

// The silhouette of a few thousand rows: the same bits for 1 and 2
// threads, and scikit-learn's definition (naive, double) within float error.
TEST_P(CpuShapes, SilhouetteEqualsNaiveAndIgnoresThreads) {
  const Shape sh = GetParam();
  const std::size_t n = std::min<std::size_t>(sh.n / 16, 1500);
  const int k = std::min(sh.k, 12);
  const Matrix Y = test::random_blobs(n, sh.d, k, 3000 + sh.d, 1.0f);
  std::vector<float> c = some_centres(Y, k, 5);
  std::vector<std::int32_t> labels(n);
  assign_rows(Y, {}, c.data(), k, labels.data());
  std::vector<double> one(n), two(n);
  cpu_silhouette(Y, labels.data(), k, 1, one.data());
  cpu_silhouette(Y, labels.data(), k, 2, two.data());
  EXPECT_EQ(one, two);
  const std::vector<double> want = test::naive_silhouette(Y, labels, k);
  for (std::size_t i = 0; i < n; ++i) ASSERT_NEAR(one[i], want[i], 2e-5) << "row " << i;
}

// The empty-cluster relocation's candidates (farthest_rows, block kernels)
// against each row's naive nearest-centre distance, sorted farther first,
// ties to the lower row; rows of weight 0 never chosen; any thread count.
TEST_P(CpuShapes, FarthestRowsEqualNaive) {
  const Shape sh = GetParam();
  const Matrix X = test::random_blobs(sh.n, sh.d, std::min(sh.k, 40), 900 + sh.d, 0.8f);
  const std::vector<float> c = some_centres(X, sh.k, 5);
  std::vector<std::int32_t> w(X.rows, 1);
  for (std::size_t i = 0; i < X.rows; i += 3) w[i] = 0;
  for (const bool weighted : {false, true}) {
    std::vector<std::pair<float, std::int64_t>> all;
    for (std::size_t i = 0; i < X.rows; ++i) {
      if (weighted && w[i] == 0) continue;
      float d2 = 0.0f;
      nearest_centre(X.row(i), c.data(), sh.k, X.cols, &d2);
      all.emplace_back(d2, static_cast<std::int64_t>(i));
    }
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
      return a.first > b.first || (a.first == b.first && a.second < b.second);
    });
    constexpr int m = 37;
    const int before = omp_get_max_threads();
    for (const int threads : {1, 2, 3}) {
      omp_set_num_threads(threads);
      std::vector<std::int64_t> rows(m);
      std::vector<std::int32_t> labels(m);
      ASSERT_EQ(farthest_rows(X, c.data(), sh.k, m, rows.data(), labels.data(), weighted ? w.data() : nullptr), m);
      for (int e = 0; e < m; ++e) {
        EXPECT_EQ(rows[static_cast<std::size_t>(e)], all[static_cast<std::size_t>(e)].second) << e;
        EXPECT_EQ(labels[static_cast<std::size_t>(e)],
                  nearest_centre(X.row(static_cast<std::size_t>(rows[static_cast<std::size_t>(e)])), c.data(), sh.k,
                                 X.cols, nullptr));
      }
    }
    omp_set_num_threads(before);
  }
}

// The dispersion sums (each row's squared distance to its own centre, and
// its root, quantized and added per cluster) equal the naive ones, for 1
// and 2 threads, with and without the transposed copy: the own-centre
// distances run four row groups at a time, so the shapes' partial groups
// and partial sets of four are covered.
TEST_P(CpuShapes, DispersionEqualsNaive) {
  const Shape sh = GetParam();
  const Matrix X = test::random_blobs(sh.n, sh.d, std::min(sh.k, 40), 4000 + sh.d, 0.8f);
  const FixedPoint fp = FixedPoint::for_data(X);
  const std::vector<float> c = some_centres(X, sh.k, 13);
  const std::size_t kk = static_cast<std::size_t>(sh.k);
  std::vector<std::int32_t> labels(X.rows);
  for (std::size_t i = 0; i < X.rows; ++i)  // not the nearest: any partition is scored
    labels[i] = static_cast<std::int32_t>((i * 2654435761u >> 5) % kk);
  std::vector<std::int64_t> want_sq(kk, 0), want_root(kk, 0);
  for (std::size_t i = 0; i < X.rows; ++i) {
    const std::size_t l = static_cast<std::size_t>(labels[i]);
    const float d2 = squared_distance(X.row(i), c.data() + l * X.cols, X.cols);
    want_sq[l] += quantize_distance(d2, fp.dist_scale());
    want_root[l] += quantize_distance(std::sqrt(d2), fp.root_scale());
  }
  for (int variant = 0; variant < 3; ++variant) {
    if (variant == 2) setenv("ARCHETYPE_CPU_TRANSPOSED_COPY", "0", 1);
    auto b = make_cpu_backend(variant == 0 ? 1 : 2);
    b->bind(X, fp, sh.k);
    unsetenv("ARCHETYPE_CPU_TRANSPOSED_COPY");
    std::vector<std::int64_t> sq(kk), root(kk);
    b->dispersion(c.data(), sh.k, labels.data(), sq.data(), root.data());
    EXPECT_EQ(sq, want_sq) << "variant " << variant;
    EXPECT_EQ(root, want_root) << "variant " << variant;
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, CpuShapes,
                         ::testing::Values(Shape{40001, 1, 5}, Shape{40009, 2, 13}, Shape{20011, 2, 24},
                                           Shape{40013, 3, 1000}, Shape{33333, 7, 50}, Shape{33001, 64, 33},
                                           Shape{32999 + 40, 300, 9}, Shape{1003, 7, 3}),
                         [](const ::testing::TestParamInfo<Shape>& i) { return name(i.param); });

void expect_same_run(const KMeansRun& a, const KMeansRun& b, const std::string& what) {
  EXPECT_EQ(a.inertia, b.inertia) << what;  // bit-identical
  EXPECT_EQ(a.n_iter, b.n_iter) << what;
  EXPECT_EQ(a.centers, b.centers) << what;
}

// Fused restarts and k values at wide and narrow shapes equal each model
// fitted alone, and 1 and 2 threads agree bit for bit (6000 x 16, k = 80:
// with the Lloyd bounds).
TEST(CpuShapesFit, FusedModelsEqualLoneFitsAtManyShapes) {
  for (const Shape sh :
       {Shape{34000, 7, 40}, Shape{6000, 64, 20}, Shape{3000, 300, 5}, Shape{5000, 1, 3}, Shape{6000, 16, 80}}) {
    const Matrix X = test::random_blobs(sh.n, sh.d, sh.k, 4000 + sh.d, 1.5f);
    const FixedPoint fp = FixedPoint::for_data(X);
    KMeansParams p;
    p.n_init = 3;
    p.max_iter = 20;
    auto b2 = make_cpu_backend(2);
    b2->bind(X, fp, sh.k);
    const auto fused = run_restarts(*b2, X, fp, p, {sh.k / 2 + 1, sh.k});
    auto b1 = make_cpu_backend(1);
    b1->bind(X, fp, sh.k);
    for (std::size_t i = 0; i < 2; ++i) {
      const int k = i == 0 ? sh.k / 2 + 1 : sh.k;
      for (int r = 0; r < p.n_init; ++r) {
        KMeansParams lone = p;
        lone.seed = p.seed + static_cast<std::uint64_t>(r);
        lone.n_init = 1;
        expect_same_run(fused[i][static_cast<std::size_t>(r)], run_restarts(*b1, X, fp, lone, {k}).front().front(),
                        name(sh) + " k " + std::to_string(k) + " restart " + std::to_string(r));
      }
    }
  }
}

}  // namespace
}  // namespace archetype
