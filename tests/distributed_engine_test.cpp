// The engine with its rows split across processes, played by threads
// (run_thread_ranks): every result is the one-process result, bit for bit,
// for 1 to 4 ranks and uneven splits (a rank without rows included).
// No MPI needed: the same decorator and host code run under mpirun
// (tests/mpi/ checks the whole CLI there).
#include <gtest/gtest.h>

#include <cstring>
#include <mutex>
#include <numeric>

#include "archetype/clusterer.hpp"
#include "archetype/communicator.hpp"
#include "archetype/error.hpp"
#include "dist/thread_communicator.hpp"
#include "engine/cpu_silhouette.hpp"
#include "engine/distributed_backend.hpp"
#include "engine/split_ops.hpp"
#include "fit_compare.hpp"
#include "test_support.hpp"

namespace archetype {
namespace {


/// Near-equal shares, as the CLI splits a .npy file.
std::vector<std::size_t> even(std::size_t n, int ranks) {
  std::vector<std::size_t> s;
  for (int r = 0; r < ranks; ++r) s.push_back(n * static_cast<std::size_t>(r + 1) / ranks - n * static_cast<std::size_t>(r) / ranks);
  return s;
}

/// Rank r's share of per-row values under `sizes`.
template <typename T>
std::vector<T> share_of(const std::vector<T>& v, const std::vector<std::size_t>& sizes, int rank) {
  std::size_t first = 0;
  for (int r = 0; r < rank; ++r) first += sizes[static_cast<std::size_t>(r)];
  return std::vector<T>(v.begin() + static_cast<std::ptrdiff_t>(first),
                        v.begin() + static_cast<std::ptrdiff_t>(first + sizes[static_cast<std::size_t>(rank)]));
}

/// Rank r's rows of X under `sizes` (rows per rank, summing to X.rows).
Matrix share(const Matrix& X, const std::vector<std::size_t>& sizes, int rank) {
  Matrix m(sizes[static_cast<std::size_t>(rank)], X.cols);
  m.values = share_of(X.values, [&] {
    std::vector<std::size_t> values;
    for (std::size_t n : sizes) values.push_back(n * X.cols);
    return values;
  }(), rank);
  return m;
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

void expect_same_runs(const KMeansResult& a, const KMeansResult& b) {
  test::expect_same_fit(a, b);
  ASSERT_EQ(a.runs.size(), b.runs.size());
  for (std::size_t r = 0; r < a.runs.size(); ++r) {
    EXPECT_EQ(a.runs[r].centers, b.runs[r].centers);
    EXPECT_EQ(a.runs[r].n_iter, b.runs[r].n_iter);
    EXPECT_EQ(a.runs[r].converged, b.runs[r].converged);
  }
  EXPECT_TRUE(same_bits(a.stability.mean_ari, b.stability.mean_ari));
  EXPECT_EQ(a.stability.rows_compared, b.stability.rows_compared);
}

void expect_same_silhouette(const SilhouetteResult& a, const SilhouetteResult& b) {
  EXPECT_EQ(a.defined, b.defined);
  EXPECT_TRUE(same_bits(a.score, b.score)) << a.score << " vs " << b.score;
  EXPECT_EQ(a.cluster_means, b.cluster_means);
  EXPECT_EQ(a.values, b.values);
  EXPECT_EQ(a.rows, b.rows);
  EXPECT_EQ(a.evaluated, b.evaluated);
  EXPECT_TRUE(same_bits(a.std_error, b.std_error));
  EXPECT_TRUE(same_bits(a.ci_low, b.ci_low));
}

/// Runs `body(clusterer, rank)` on every rank's share and gathers what each
/// rank returns, in rank order.
/// With `weights`, each rank passes its rows' sample weights (a rank
/// without rows passes none).
template <typename R>
std::vector<R> on_ranks(const Matrix& X, const std::vector<std::size_t>& sizes,
                        const std::function<R(Clusterer&, int)>& body, const std::vector<double>* weights = nullptr) {
  std::vector<R> out(sizes.size());
  run_thread_ranks(static_cast<int>(sizes.size()), [&](Communicator& comm) {
    const Matrix mine = share(X, sizes, comm.rank());
    EngineOptions o;
    o.backend = "cpu";
    o.threads = 1;
    o.communicator = &comm;
    DataView view = DataView::of(mine);
    const std::vector<double> mine_w = weights ? share_of(*weights, sizes, comm.rank()) : std::vector<double>();
    if (weights && !mine_w.empty()) view.sample_weight = mine_w.data();
    Clusterer c(view, o);
    out[static_cast<std::size_t>(comm.rank())] = body(c, comm.rank());
  });
  return out;
}

/// The ranks' results with their labels (and silhouette values) put back together.
KMeansResult joined(std::vector<KMeansResult> parts) {
  KMeansResult all = parts[0];
  all.labels.clear();
  for (const KMeansResult& p : parts) all.labels.insert(all.labels.end(), p.labels.begin(), p.labels.end());
  return all;
}

Clusterer alone(const Matrix& X, const std::vector<double>* weights = nullptr) {
  EngineOptions o;
  o.backend = "cpu";
  o.threads = 1;
  DataView view = DataView::of(X);
  if (weights) view.sample_weight = weights->data();
  return Clusterer(view, o);
}

KMeansResult single_run(Clusterer& c, int k) {
  KMeansParams p;
  p.n_clusters = k;
  p.n_init = 1;
  return c.fit(p);
}

const std::vector<std::vector<std::size_t>> kSplits(std::size_t n) {
  return {even(n, 1), even(n, 2), even(n, 3), even(n, 4), {1, n - 3, 0, 2}};
}

TEST(DistributedEngine, FitIsTheOneProcessFit) {
  const Matrix X = test::random_blobs(5003, 3, 5, 7);
  KMeansParams p;
  p.n_clusters = 5;
  p.n_init = 3;
  p.stability_rows = 1000;  // a sample of the rows, drawn across ranks
  const KMeansResult one = alone(X).fit(p);
  for (const auto& sizes : kSplits(X.rows)) {
    SCOPED_TRACE(::testing::PrintToString(sizes));
    const auto parts = on_ranks<KMeansResult>(X, sizes, [&](Clusterer& c, int) { return c.fit(p); });
    for (const KMeansResult& part : parts) EXPECT_EQ(part.counts, one.counts);
    expect_same_runs(joined(parts), one);
  }
}

TEST(DistributedEngine, SweepExactAndSampledSilhouettesAreTheOneProcessOnes) {
  const Matrix X = test::random_blobs(1500, 2, 4, 3);
  SweepParams sp;
  sp.k_min = 2;
  sp.k_max = 5;
  sp.kmeans.n_init = 2;
  for (std::size_t sample : {std::size_t{0}, std::size_t{600}}) {
    sp.silhouette.sample_size = sample;
    const SweepResult one = alone(X).sweep(sp, 4);
    for (const auto& sizes : kSplits(X.rows)) {
      SCOPED_TRACE(::testing::PrintToString(sizes) + " sample " + std::to_string(sample));
      const auto parts = on_ranks<SweepResult>(X, sizes, [&](Clusterer& c, int) { return c.sweep(sp, 4); });
      for (const SweepResult& s : parts) {
        ASSERT_EQ(s.points.size(), one.points.size());
        for (std::size_t i = 0; i < s.points.size(); ++i) {
          EXPECT_TRUE(same_bits(s.points[i].wcss, one.points[i].wcss));
          expect_same_silhouette(s.points[i].silhouette, one.points[i].silhouette);
          EXPECT_TRUE(same_bits(s.points[i].dispersion.calinski_harabasz, one.points[i].dispersion.calinski_harabasz));
          EXPECT_TRUE(same_bits(s.points[i].dispersion.davies_bouldin, one.points[i].dispersion.davies_bouldin));
          EXPECT_EQ(s.points[i].sizes, one.points[i].sizes);
        }
        EXPECT_EQ(s.elbow_k, one.elbow_k);
        EXPECT_EQ(s.silhouette_k, one.silhouette_k);
      }
      std::vector<KMeansResult> kept;
      for (const SweepResult& s : parts) kept.push_back(*s.kept);
      expect_same_runs(joined(kept), *one.kept);
    }
  }
}

TEST(DistributedEngine, SilhouetteValuesAreEachRanksShareOfTheOneProcessValues) {
  const Matrix X = test::random_blobs(700, 4, 3, 11);
  Clusterer c1 = alone(X);
  const KMeansResult fit = single_run(c1, 3);
  for (std::size_t sample : {std::size_t{0}, std::size_t{250}}) {
    SilhouetteParams sp;
    sp.sample_size = sample;
    const SilhouetteResult one = c1.silhouette(fit.labels, 3, sp);
    for (const auto& sizes : kSplits(X.rows)) {
      const auto parts = on_ranks<SilhouetteResult>(
          X, sizes, [&](Clusterer& c, int rank) { return c.silhouette(share_of(fit.labels, sizes, rank), 3, sp); });
      std::vector<double> values;
      for (const SilhouetteResult& s : parts) {
        EXPECT_EQ(s.values_offset, values.size());
        values.insert(values.end(), s.values.begin(), s.values.end());
      }
      SilhouetteResult all = parts[0];
      all.values = values;
      expect_same_silhouette(all, one);
    }
  }
}

// The exact silhouette streamed in pieces of a few rows (the rows of each
// rank, rank after rank): chunks of 128 straddle pieces and ranks, and each
// rank's values are its rows' one-process values, bit for bit.
TEST(DistributedEngine, ExactSilhouetteInSmallPiecesIsTheOneProcessOne) {
  for (const std::size_t d : {2, 5}) {
    const std::size_t n = 1100;
    const Matrix X = test::random_blobs(n, d, 4, 40 + d, 1.0f);
    const int k = 4;
    std::vector<std::int32_t> labels(n);
    for (std::size_t i = 0; i < n; ++i) labels[i] = i % 3 == 0 || (i > 200 && i < 500) ? 0 : static_cast<std::int32_t>(i * 7 % 4);
    std::vector<double> one(n);
    cpu_silhouette(X, labels.data(), k, 1, one.data());
    std::vector<std::vector<std::size_t>> splits = kSplits(n);
    splits.push_back({0, 700, 400});
    for (const auto& sizes : splits) {
      for (const std::size_t piece : {d == 2 ? std::size_t{1} : std::size_t{7}, std::size_t{130}}) {
        std::vector<std::vector<double>> parts(sizes.size());
        run_thread_ranks(static_cast<int>(sizes.size()), [&](Communicator& comm) {
          // A rank without rows need not know the width.
          const Matrix mine = sizes[static_cast<std::size_t>(comm.rank())] > 0 ? share(X, sizes, comm.rank()) : Matrix();
          const std::vector<std::int32_t> mine_labels = share_of(labels, sizes, comm.rank());
          auto backend = make_distributed_backend(make_cpu_backend(1), RowSplit::of(comm, mine.rows), piece);
          std::vector<double>& out = parts[static_cast<std::size_t>(comm.rank())];
          out.resize(mine.rows);
          backend->silhouette(mine, mine_labels.data(), k, out.data());
        });
        std::vector<double> all;
        for (const auto& p : parts) all.insert(all.end(), p.begin(), p.end());
        EXPECT_EQ(all, one) << "d " << d << ", " << sizes.size() << " ranks, pieces of " << piece;
      }
    }
  }
}

/// Three values repeated, a few rows off them: with more clusters than
/// groups, clusters empty during Lloyd.
Matrix three_groups() {
  Matrix X(3000, 2);
  for (std::size_t i = 0; i < X.rows; ++i) {
    X.values[2 * i] = static_cast<float>(i % 3);
    X.values[2 * i + 1] = static_cast<float>((i % 3) * (i % 3)) + (i % 250 == 0 ? 0.25f : 0.0f);
  }
  return X;
}

// Duplicated rows and more clusters than groups: empty clusters are
// relocated to the farthest rows, found across ranks.
TEST(DistributedEngine, EmptyClusterRelocationIsTheOneProcessOne) {
  const Matrix X = three_groups();
  KMeansParams p;
  p.n_clusters = 8;
  p.n_init = 4;
  p.max_iter = 5;
  const KMeansResult one = alone(X).fit(p);
  for (const auto& sizes : kSplits(X.rows)) {
    const auto parts = on_ranks<KMeansResult>(X, sizes, [&](Clusterer& c, int) { return c.fit(p); });
    expect_same_runs(joined(parts), one);
  }
}

TEST(DistributedEngine, PredictAndDispersionAreTheOneProcessOnes) {
  const Matrix X = test::random_blobs(2001, 3, 4, 5);
  Clusterer c1 = alone(X);
  const KMeansResult fit = single_run(c1, 4);
  const Prediction one = c1.predict(fit.centers, 4);
  const DispersionScores disp = c1.dispersion(fit.labels, 4);
  for (const auto& sizes : kSplits(X.rows)) {
    std::vector<std::int32_t> labels;
    const auto parts = on_ranks<std::pair<Prediction, DispersionScores>>(X, sizes, [&](Clusterer& c, int rank) {
      return std::make_pair(c.predict(fit.centers, 4), c.dispersion(share_of(fit.labels, sizes, rank), 4));
    });
    for (const auto& part : parts) {
      EXPECT_TRUE(same_bits(part.first.inertia, one.inertia));
      EXPECT_TRUE(same_bits(part.second.calinski_harabasz, disp.calinski_harabasz));
      EXPECT_TRUE(same_bits(part.second.davies_bouldin, disp.davies_bouldin));
      labels.insert(labels.end(), part.first.labels.begin(), part.first.labels.end());
    }
    EXPECT_EQ(labels, one.labels);
  }
}

// Sample weights: zero on the first 700 rows (rank 0's share weighs
// nothing for 4 ranks, so the first centres are drawn past it), 0.1 (no
// exact grid: the 24-bit one) and integers.  The grid, k-means++ over the
// total weight, the weighted sums, tol, relocation, predict's inertia and
// the dispersion scores are one process's, bit for bit.
std::vector<double> test_weights(std::size_t n) {
  std::vector<double> w(n);
  for (std::size_t i = 0; i < n; ++i) w[i] = i < 700 ? 0.0 : i % 5 == 0 ? 0.1 : 1.0 + static_cast<double>(i % 4);
  return w;
}

TEST(DistributedEngine, WeightedFitSweepAndPredictAreTheOneProcessOnes) {
  const Matrix X = test::random_blobs(2801, 2, 4, 5);
  const std::vector<double> w = test_weights(X.rows);
  KMeansParams p;
  p.n_clusters = 4;
  p.n_init = 3;
  p.stability_rows = 800;
  SweepParams sp;
  sp.k_min = 2;
  sp.k_max = 4;
  sp.kmeans.n_init = 2;
  sp.silhouette.sample_size = 500;
  Clusterer c1 = alone(X, &w);
  const KMeansResult one = c1.fit(p);
  const SweepResult sweep_one = c1.sweep(sp, 3);
  const Prediction pred_one = c1.predict(one.centers, 4);
  const WeightGrid grid = c1.weights();
  struct Part {
    KMeansResult fit;
    SweepResult sweep;
    Prediction pred;
    WeightGrid grid;
  };
  for (const auto& sizes : kSplits(X.rows)) {
    SCOPED_TRACE(::testing::PrintToString(sizes));
    const auto parts = on_ranks<Part>(
        X, sizes, [&](Clusterer& c, int) { return Part{c.fit(p), c.sweep(sp, 3), c.predict(one.centers, 4), c.weights()}; },
        &w);
    std::vector<KMeansResult> fits;
    std::vector<std::int32_t> labels;
    for (const Part& part : parts) {
      fits.push_back(part.fit);
      EXPECT_EQ(part.fit.weights, one.weights);
      EXPECT_EQ(part.fit.counts, one.counts);
      EXPECT_TRUE(part.grid.exp == grid.exp && part.grid.total == grid.total &&
                  same_bits(part.grid.given_total, grid.given_total) && part.grid.weighted());
      ASSERT_EQ(part.sweep.points.size(), sweep_one.points.size());
      for (std::size_t i = 0; i < sweep_one.points.size(); ++i) {
        EXPECT_TRUE(same_bits(part.sweep.points[i].wcss, sweep_one.points[i].wcss));
        EXPECT_TRUE(same_bits(part.sweep.points[i].dispersion.calinski_harabasz,
                              sweep_one.points[i].dispersion.calinski_harabasz));
        EXPECT_TRUE(same_bits(part.sweep.points[i].dispersion.davies_bouldin, sweep_one.points[i].dispersion.davies_bouldin));
      }
      EXPECT_TRUE(same_bits(part.pred.inertia, pred_one.inertia));
      labels.insert(labels.end(), part.pred.labels.begin(), part.pred.labels.end());
    }
    expect_same_runs(joined(fits), one);
    EXPECT_EQ(labels, pred_one.labels);
  }
}

TEST(DistributedEngine, WeightedRelocationIsTheOneProcessOne) {
  const Matrix X = three_groups();
  const std::vector<double> w = test_weights(X.rows);
  KMeansParams p;
  p.n_clusters = 8;
  p.n_init = 4;
  p.max_iter = 5;
  const KMeansResult one = alone(X, &w).fit(p);
  for (const auto& sizes : kSplits(X.rows)) {
    const auto parts = on_ranks<KMeansResult>(X, sizes, [&](Clusterer& c, int) { return c.fit(p); }, &w);
    expect_same_runs(joined(parts), one);
  }
}

TEST(DistributedEngine, ProfileAndRowsAreAllRanks) {
  const Matrix X = test::random_blobs(5000, 3, 3, 9);
  const std::vector<FeatureProfile> one = alone(X).profile();
  for (const auto& sizes : kSplits(X.rows)) {
    const auto parts = on_ranks<std::pair<std::size_t, std::vector<FeatureProfile>>>(
        X, sizes, [&](Clusterer& c, int) { return std::make_pair(c.rows(), c.profile()); });
    for (const auto& [rows, profile] : parts) {
      EXPECT_EQ(rows, X.rows);
      ASSERT_EQ(profile.size(), one.size());
      for (std::size_t j = 0; j < one.size(); ++j) {
        EXPECT_TRUE(same_bits(profile[j].mean, one[j].mean) && same_bits(profile[j].std, one[j].std) &&
                    same_bits(profile[j].kurtosis, one[j].kurtosis));
        EXPECT_EQ(profile[j].min, one[j].min);
      }
    }
  }
}

TEST(DistributedEngine, BadLabelsOnOneRankAreOneAgreedErrorNamingTheGlobalRow) {
  const Matrix X = test::random_blobs(100, 2, 2, 1);
  std::vector<std::string> messages(3);
  run_thread_ranks(3, [&](Communicator& comm) {
    const std::vector<std::size_t> sizes = even(100, 3);
    const Matrix mine = share(X, sizes, comm.rank());
    EngineOptions o;
    o.backend = "cpu";
    o.communicator = &comm;
    Clusterer c(DataView::of(mine), o);
    std::vector<std::int32_t> labels(mine.rows, 0);
    labels[0] = 1;
    if (comm.rank() == 2) labels[1] = 7;  // global row 68 (1-based)
    try {
      c.silhouette(labels, 2);
    } catch (const AgreedError& e) {
      messages[static_cast<std::size_t>(comm.rank())] = e.what();
    }
  });
  for (const std::string& m : messages) EXPECT_EQ(m, "process 2 of 3: label 7 of row 68 is outside [0, 2)");
}

TEST(DistributedEngine, BlockedSumsFollowTheOneProcessOrder) {
  // Values whose sum depends on the order of addition.
  std::vector<double> v(10007);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = (i % 7 == 0 ? 1e16 : 1.0) * (i % 2 ? -1.0 : 1.0) + 0.1 * static_cast<double>(i);
  const std::size_t B = 16;
  double expect = 0.0;
  for (std::size_t b = 0; b < v.size(); b += B) {
    double part = 0.0;
    for (std::size_t i = b; i < std::min(v.size(), b + B); ++i) part += v[i];
    expect += part;
  }
  for (const std::vector<std::size_t>& sizes : std::vector<std::vector<std::size_t>>{{10007}, {5, 3, 9990, 9}, {0, 10000, 7}, {17, 0, 0, 9990}}) {
    run_thread_ranks(static_cast<int>(sizes.size()), [&](Communicator& comm) {
      const RowSplit split = RowSplit::of(comm, sizes[static_cast<std::size_t>(comm.rank())]);
      const std::vector<double> total =
          blocked_sums(split, B, 1, [&](std::size_t i, double* out) { out[0] += v[split.offset + i]; });
      EXPECT_TRUE(same_bits(total[0], expect)) << total[0] << " vs " << expect;
    });
  }
}

}  // namespace
}  // namespace archetype
