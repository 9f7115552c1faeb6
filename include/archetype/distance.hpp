// The one squared-distance function and the silhouette formula, shared by
// both backends.  Both evaluate exactly these float operations in this order
// (the CUDA kernels are compiled with --fmad=false and the C++ code with
// -ffp-contract=off, so no multiply-add is ever fused):
//   s = 0; for j = 0..d-1: s = s + (a_j - b_j) * (a_j - b_j).
// (0 + x == x exactly, so the first step is just the first square.)
#pragma once

#include <cstddef>
#include <cstdint>

#if defined(__CUDACC__)
#define ARCHETYPE_HD __host__ __device__
#else
#define ARCHETYPE_HD
#endif

namespace archetype {

/// Rows of one cluster are visited in chunks of this many (from the start of
/// the cluster's segment in the label-sorted order); each chunk is summed in
/// float, then added to a double accumulator.  See docs/ARCHITECTURE.md.
constexpr std::size_t kSilhouetteChunk = 128;

ARCHETYPE_HD inline float squared_distance(const float* a, const float* b, std::size_t d) {
  float s = 0.0f;
  for (std::size_t j = 0; j < d; ++j) {
    const float diff = a[j] - b[j];
    s = s + diff * diff;
  }
  return s;
}

/// s(i) from row i's distance sums to every cluster (scikit-learn's
/// definition): a = mean intra-cluster distance excluding itself, b = lowest
/// mean distance to another non-empty cluster, s = (b - a) / max(a, b);
/// 0 for a cluster of one row and when max(a, b) == 0.
ARCHETYPE_HD inline double silhouette_value(const double* sums, const std::int64_t* counts, int k,
                                            int own) {
  const std::int64_t n_own = counts[own];
  if (n_own <= 1) return 0.0;
  const double a = sums[own] / static_cast<double>(n_own - 1);
  double b = 0.0;
  bool have_b = false;
  for (int c = 0; c < k; ++c) {
    if (c == own || counts[c] == 0) continue;
    const double mean = sums[c] / static_cast<double>(counts[c]);
    if (!have_b || mean < b) {
      b = mean;
      have_b = true;
    }
  }
  if (!have_b) return 0.0;
  const double m = a > b ? a : b;
  if (m == 0.0) return 0.0;
  return (b - a) / m;
}

}  // namespace archetype
