#include "engine/cpu_silhouette.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "archetype/distance.hpp"

namespace archetype {
namespace {

// Rows evaluated together: the inner loops run over them, so they vectorise
// (each lane a different row i walking the same sorted rows j).
constexpr std::size_t kLanes = 16;

/// chunk_distance_sums for a few features (D, row-major sorted rows): the
/// lanes' features stay in registers, each sorted row is read once.
template <std::size_t D>
inline __attribute__((always_inline)) void small_d_sums(const float* __restrict xi, const float* __restrict xs,
                                                        std::size_t begin, std::size_t end, float* __restrict p) {
  float xf[D][kLanes];
  for (std::size_t f = 0; f < D; ++f)
    for (std::size_t r = 0; r < kLanes; ++r) xf[f][r] = xi[f * kLanes + r];
  for (std::size_t j = begin; j < end; ++j) {
    const float* __restrict row = xs + j * D;
    float s[kLanes] = {};
    for (std::size_t f = 0; f < D; ++f) {
      const float c = row[f];
#pragma omp simd
      for (std::size_t r = 0; r < kLanes; ++r) s[r] = add_square(xf[f][r] - c, s[r]);
    }
#pragma omp simd
    for (std::size_t r = 0; r < kLanes; ++r) p[r] = p[r] + std::sqrt(s[r]);
  }
}

/// chunk_distance_sums for any d (row-major sorted rows): four sorted rows
/// at a time share each load of the lanes' features; their roots are still
/// added to p one row after the other, in j order.
inline __attribute__((always_inline)) void wide_sums(const float* __restrict xi, const float* __restrict xs,
                                                     std::size_t d, std::size_t begin, std::size_t end,
                                                     float* __restrict pout) {
  float p[kLanes];
  for (std::size_t r = 0; r < kLanes; ++r) p[r] = pout[r];
  std::size_t j = begin;
  for (; j + 4 <= end; j += 4) {
    float s0[kLanes] = {}, s1[kLanes] = {}, s2[kLanes] = {}, s3[kLanes] = {};
    const float* __restrict row = xs + j * d;
    for (std::size_t f = 0; f < d; ++f) {
      const float c0 = row[f], c1 = row[d + f], c2 = row[2 * d + f], c3 = row[3 * d + f];
      const float* __restrict xf = xi + f * kLanes;
#pragma omp simd
      for (std::size_t r = 0; r < kLanes; ++r) {
        const float v = xf[r];
        s0[r] = add_square(v - c0, s0[r]);
        s1[r] = add_square(v - c1, s1[r]);
        s2[r] = add_square(v - c2, s2[r]);
        s3[r] = add_square(v - c3, s3[r]);
      }
    }
#pragma omp simd
    for (std::size_t r = 0; r < kLanes; ++r) {
      float acc = p[r];
      acc = acc + std::sqrt(s0[r]);
      acc = acc + std::sqrt(s1[r]);
      acc = acc + std::sqrt(s2[r]);
      p[r] = acc + std::sqrt(s3[r]);
    }
  }
  for (; j < end; ++j) {
    float s[kLanes] = {};
    const float* __restrict row = xs + j * d;
    for (std::size_t f = 0; f < d; ++f) {
      const float c = row[f];
      const float* __restrict xf = xi + f * kLanes;
#pragma omp simd
      for (std::size_t r = 0; r < kLanes; ++r) s[r] = add_square(xf[r] - c, s[r]);
    }
#pragma omp simd
    for (std::size_t r = 0; r < kLanes; ++r) p[r] = p[r] + std::sqrt(s[r]);
  }
  for (std::size_t r = 0; r < kLanes; ++r) pout[r] = p[r];
}

/// Adds, for kLanes rows held column-wise in xi (d x kLanes), the float sum
/// of their distances to sorted rows [begin, end) into pout.  xs holds the
/// sorted rows column-major (stride n) for d = 2, row-major otherwise (a
/// row's features then share cache lines).  Per lane this is exactly
/// squared_distance() then sqrtf, summed in j order.  Plain arrays rather than vector types, so that GCC
/// vectorises add_square into fused multiply-adds; target_clones builds
/// AVX-512, AVX2 and baseline copies, all with the same IEEE operations,
/// hence the same bits.
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
void chunk_distance_sums(const float* __restrict xi, const float* __restrict xs, std::size_t n, std::size_t d,
                         std::size_t begin, std::size_t end, float* __restrict pout) {
  float p[kLanes];
  for (std::size_t r = 0; r < kLanes; ++r) p[r] = pout[r];
  if (d == 2) {
    float x0[kLanes], x1[kLanes];
    for (std::size_t r = 0; r < kLanes; ++r) {
      x0[r] = xi[r];
      x1[r] = xi[kLanes + r];
    }
    const float* __restrict xs0 = xs;
    const float* __restrict xs1 = xs + n;
    for (std::size_t j = begin; j < end; ++j) {
      const float a = xs0[j], b = xs1[j];
      for (std::size_t r = 0; r < kLanes; ++r) {
        const float s = add_square(x1[r] - b, add_square(x0[r] - a, 0.0f));
        p[r] = p[r] + std::sqrt(s);
      }
    }
  } else if (d <= 8) {  // GCC keeps the lanes' features in registers only for a d known at compile time
    switch (d) {
      case 1: small_d_sums<1>(xi, xs, begin, end, p); break;
      case 3: small_d_sums<3>(xi, xs, begin, end, p); break;
      case 4: small_d_sums<4>(xi, xs, begin, end, p); break;
      case 5: small_d_sums<5>(xi, xs, begin, end, p); break;
      case 6: small_d_sums<6>(xi, xs, begin, end, p); break;
      case 7: small_d_sums<7>(xi, xs, begin, end, p); break;
      default: small_d_sums<8>(xi, xs, begin, end, p); break;
    }
  } else {
    wide_sums(xi, xs, d, begin, end, p);
  }
  for (std::size_t r = 0; r < kLanes; ++r) pout[r] = p[r];
}

}  // namespace

void cpu_silhouette(MatrixView Y, const std::int32_t* labels, int k, int threads, double* out, std::size_t first,
                    std::size_t count) {
  const std::size_t n = Y.rows, d = Y.cols, kk = static_cast<std::size_t>(k);
  if (first >= n) return;
  const std::size_t stop = count < n - first ? first + count : n;  // rows scored: [first, stop)
  // Stable counting sort by label: segment c holds the rows of cluster c in
  // increasing row order.
  std::vector<std::int64_t> counts(kk, 0);
  for (std::size_t i = 0; i < n; ++i) counts[static_cast<std::size_t>(labels[i])] += 1;
  std::vector<std::size_t> start(kk + 1, 0);
  for (std::size_t c = 0; c < kk; ++c) start[c + 1] = start[c] + static_cast<std::size_t>(counts[c]);
  std::vector<float> xs(n * d);  // sorted rows: column-major for d = 2, row-major otherwise
  {
    std::vector<std::size_t> next(start.begin(), start.end() - 1);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t p = next[static_cast<std::size_t>(labels[i])]++;
      for (std::size_t f = 0; f < d; ++f) xs[d == 2 ? f * n + p : p * d + f] = Y.at(i, f);
    }
  }
  const std::size_t blocks = (stop - first + kLanes - 1) / kLanes;
#pragma omp parallel num_threads(threads > 0 ? threads : omp_get_max_threads())
  {
    std::vector<float> xi(d * kLanes);
    std::vector<double> acc(kLanes * kk);
    float p[kLanes];
#pragma omp for schedule(dynamic, 4)
    for (std::size_t b = 0; b < blocks; ++b) {
      const std::size_t i0 = first + b * kLanes;
      const std::size_t m = std::min(kLanes, stop - i0);
      for (std::size_t r = 0; r < kLanes; ++r) {
        const std::size_t i = i0 + std::min(r, m - 1);  // pad with the last row
        for (std::size_t f = 0; f < d; ++f) xi[f * kLanes + r] = Y.at(i, f);
      }
      std::fill(acc.begin(), acc.end(), 0.0);
      for (std::size_t c = 0; c < kk; ++c) {
        for (std::size_t j = start[c]; j < start[c + 1]; j += kSilhouetteChunk) {
          const std::size_t end = std::min(start[c + 1], j + kSilhouetteChunk);
          std::fill(p, p + kLanes, 0.0f);
          chunk_distance_sums(xi.data(), xs.data(), n, d, j, end, p);
          for (std::size_t r = 0; r < kLanes; ++r) acc[r * kk + c] += static_cast<double>(p[r]);
        }
      }
      for (std::size_t r = 0; r < m; ++r)
        out[i0 - first + r] = silhouette_value(acc.data() + r * kk, counts.data(), k, labels[i0 + r]);
    }
  }
}

}  // namespace archetype
