// The one squared-distance function and the silhouette formula, shared by
// every backend.  All evaluate exactly these float operations in this order:
//   s = 0; for j = 0..d-1: diff = a_j - b_j; s = fma(diff, diff, s)
// where fma is the correctly rounded fused multiply-add (std::fma on the
// CPU, __fmaf_rn on CUDA: the same function, so the same bits).  Nothing
// else is fused: the C++ code is compiled with -ffp-contract=off and the
// CUDA kernels with --fmad=false, so only the fma spelled out here is one.
// (fma(x, x, 0) == x * x exactly, so the first step is just the first square.)
// The CPU loops that vectorise this across rows call add_square() so that
// every path performs the same operation.
#pragma once

#include <cmath>
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

/// s + diff * diff with one rounding (fused multiply-add).
ARCHETYPE_HD inline float add_square(float diff, float s) {
#if defined(__CUDA_ARCH__)
  return __fmaf_rn(diff, diff, s);
#else
  return std::fma(diff, diff, s);
#endif
}

ARCHETYPE_HD inline float squared_distance(const float* a, const float* b, std::size_t d) {
  float s = 0.0f;
  for (std::size_t j = 0; j < d; ++j) s = add_square(a[j] - b[j], s);
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
