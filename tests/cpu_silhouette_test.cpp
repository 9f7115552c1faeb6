// The exact silhouette's canonical order (cpu_silhouette.hpp), bit for bit:
// the rows fed to SilhouetteAccumulator in pieces of any size (1 row, 7,
// 128, 140, 300, random cuts with empty pieces) give the values of one piece,
// and both are those of a plain scalar loop in the canonical order, for a
// few d, k and thread counts; with clusters whose chunks of 128 straddle
// pieces and clusters absent from whole pieces.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "archetype/distance.hpp"
#include "engine/cpu_silhouette.hpp"
#include "test_support.hpp"

namespace archetype {
namespace {

/// Labels 0 .. k - 1 with cluster 0 a third of the rows (its chunks of 128
/// cross piece and range boundaries), then a run of cluster 0 only (the
/// other clusters empty in the pieces inside it), the rest scattered.
std::vector<std::int32_t> uneven_labels(std::size_t n, int k) {
  std::vector<std::int32_t> labels(n, 0);
  std::mt19937 gen(17);
  for (std::size_t i = 0; i < n; ++i) {
    const bool run_of_zeros = i >= n / 3 && i < n / 2;
    if (k > 1 && i % 3 != 0 && !run_of_zeros) labels[i] = 1 + static_cast<std::int32_t>(gen() % static_cast<unsigned>(k - 1));
  }
  return labels;
}

/// The canonical order written plainly: for row i and cluster c, c's rows
/// in row order in chunks of kSilhouetteChunk, each summed in float, the
/// chunk sums added to a double in order.  Rows [first, first + count).
std::vector<double> canonical(const Matrix& Y, const std::vector<std::int32_t>& labels, int k, std::size_t first,
                              std::size_t count) {
  const std::size_t kk = static_cast<std::size_t>(k);
  std::vector<std::int64_t> counts(kk, 0);
  for (std::int32_t l : labels) counts[static_cast<std::size_t>(l)] += 1;
  std::vector<double> out;
  for (std::size_t i = first; i < first + count; ++i) {
    std::vector<double> sums(kk, 0.0);
    std::vector<float> open(kk, 0.0f);
    std::vector<std::size_t> seen(kk, 0);
    for (std::size_t j = 0; j < Y.rows; ++j) {
      const std::size_t c = static_cast<std::size_t>(labels[j]);
      open[c] = open[c] + std::sqrt(squared_distance(Y.values.data() + i * Y.cols, Y.values.data() + j * Y.cols, Y.cols));
      if (++seen[c] % kSilhouetteChunk == 0) {
        sums[c] += static_cast<double>(open[c]);
        open[c] = 0.0f;
      }
    }
    for (std::size_t c = 0; c < kk; ++c)
      if (seen[c] % kSilhouetteChunk != 0) sums[c] += static_cast<double>(open[c]);
    out.push_back(silhouette_value(sums.data(), counts.data(), k, labels[i]));
  }
  return out;
}

/// The scores of rows [first, first + count) with all rows fed in pieces
/// of the given sizes (cycled until every row is in).
std::vector<double> in_pieces(const Matrix& Y, const std::vector<std::int32_t>& labels, int k, int threads,
                              std::size_t first, std::size_t count, const std::vector<std::size_t>& sizes) {
  const MatrixView scored(Y.values.data() + first * Y.cols, count, Y.cols);
  SilhouetteAccumulator acc(scored, labels.data() + first, k, threads, Y.rows);
  for (std::size_t at = 0, s = 0; at < Y.rows; ++s) {
    const std::size_t m = std::min(sizes[s % sizes.size()], Y.rows - at);
    acc.add(MatrixView(Y.values.data() + at * Y.cols, m, Y.cols), labels.data() + at);
    at += m;
  }
  std::vector<double> out(count);
  acc.finish(out.data());
  return out;
}

TEST(CpuSilhouette, PiecesOfAnySizeGiveTheOnePieceBits) {
  std::mt19937 gen(5);
  std::vector<std::size_t> random_cuts;
  for (int i = 0; i < 40; ++i) random_cuts.push_back(gen() % 4 == 0 ? 0 : gen() % 90);
  const std::vector<std::vector<std::size_t>> schedules = {{1, 1, 1, 140}, {7}, {128}, {300}, {129, 0, 3}, random_cuts};
  int threads = 0;
  for (const std::size_t d : {1, 2, 3, 64}) {
    for (const int k : {1, 2, 5, 37}) {
      threads = threads % 3 + 1;
      const std::size_t n = d == 64 ? 400 : 777;  // cluster 0: a third and a run, 2 to 3 chunks of 128
      const std::size_t first = n * 2 / 5, count = n / 3;
      const Matrix Y = test::random_blobs(n, d, 4, 70 + d, 1.0f);
      const std::vector<std::int32_t> labels = uneven_labels(n, k);
      const std::vector<double> want = canonical(Y, labels, k, 0, n);
      std::vector<double> one(n);
      cpu_silhouette(Y, labels.data(), k, threads, one.data());
      ASSERT_EQ(one, want) << "one piece, d " << d << " k " << k;
      for (const auto& sizes : schedules) {
        ASSERT_EQ(in_pieces(Y, labels, k, threads, 0, n, sizes), want)
            << "d " << d << " k " << k << " threads " << threads << " pieces of " << sizes[0];
        // A rank's rows: a range whose chunks began on the rows before it.
        const std::vector<double> part = in_pieces(Y, labels, k, threads, first, count, sizes);
        ASSERT_EQ(part, std::vector<double>(want.begin() + static_cast<std::ptrdiff_t>(first),
                                            want.begin() + static_cast<std::ptrdiff_t>(first + count)))
            << "rows from " << first << ", d " << d << " k " << k << " pieces of " << sizes[0];
      }
    }
  }
}

// From 32 features (16 with the lanes in one AVX-512 register) one piece
// computes each distance once for both rows
// (symmetric_silhouette): the canonical bits at the threshold and above
// it (odd widths, tiles of 1..128 columns, partial 16-row blocks), with
// clusters of exactly 128 or 256 rows, an empty cluster, one cluster, and
// 1 or 2 threads; from 96 features also small clusters (8-12 rows).
TEST(CpuSilhouette, SymmetricPathIsCanonical) {
  for (const std::size_t d : {16, 32, 33, 130}) {  // 16: symmetric only with the lanes in one register
    for (const std::size_t n : {200, 1001}) {  // at least 64 rows a cluster (kSymmetricMinRowsPerCluster)
      for (const int k : {1, 3, 9}) {
        const Matrix Y = test::random_blobs(n, d, 3, 900 + d + n, 1.0f);
        std::vector<std::int32_t> labels = uneven_labels(n, k);
        if (k == 9) {  // cluster 8 empty; cluster 1 exactly 128 rows (the first 128 rows not in cluster 0)
          std::size_t moved = 0;
          for (std::int32_t& l : labels) {
            if (l == 8) l = 2;
            if (l != 0 && moved < 128) l = 1, ++moved;
            else if (l == 1) l = 2;
          }
        }
        const std::vector<double> want = canonical(Y, labels, k, 0, n);
        for (const int threads : {1, 2}) {
          std::vector<double> got(n);
          cpu_silhouette(Y, labels.data(), k, threads, got.data());
          ASSERT_EQ(got, want) << "d " << d << " n " << n << " k " << k << " threads " << threads;
        }
      }
    }
  }
}

TEST(CpuSilhouette, SymmetricPathSmallClustersIsCanonical) {
  const std::size_t n = 300, d = 100;
  const Matrix Y = test::random_blobs(n, d, 5, 77, 1.0f);
  for (const int k : {25, 37}) {  // 12 and 8 rows a cluster on average, uneven
    const std::vector<std::int32_t> labels = uneven_labels(n, k);
    const std::vector<double> want = canonical(Y, labels, k, 0, n);
    for (const int threads : {1, 2}) {
      std::vector<double> got(n);
      cpu_silhouette(Y, labels.data(), k, threads, got.data());
      ASSERT_EQ(got, want) << "k " << k << " threads " << threads;
    }
  }
}

TEST(CpuSilhouette, NoScoredRowsAndMisuse) {
  const Matrix Y = test::random_blobs(50, 3, 2, 9);
  const std::vector<std::int32_t> labels = uneven_labels(50, 2);
  // A rank without rows still takes every piece.
  SilhouetteAccumulator none(MatrixView(Y.values.data(), 0, 3), labels.data(), 2, 1, 50);
  none.add(MatrixView(Y.values.data(), 20, 3), labels.data());
  EXPECT_THROW(none.finish(nullptr), std::logic_error);  // 30 rows missing
  none.add(MatrixView(Y.values.data() + 60, 30, 3), labels.data() + 20);
  none.finish(nullptr);
  EXPECT_THROW(none.add(MatrixView(Y.values.data(), 1, 3), labels.data()), std::logic_error);  // beyond the rows
}

}  // namespace
}  // namespace archetype
