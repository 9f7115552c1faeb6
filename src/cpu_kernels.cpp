#include "cpu_kernels.hpp"

#include <algorithm>
#include <limits>

#include "archetype/distance.hpp"
#include "archetype/fixed_point.hpp"

namespace archetype::cpu {
namespace {

// Each exported kernel is compiled three times (AVX-512, AVX2 + FMA,
// baseline x86-64) and picked at load time.  All three perform the same
// IEEE operations in the same order: add_square is a correctly rounded fma
// everywhere (a hardware instruction in the first two, libm's fmaf in the
// baseline, which glibc runs on the hardware fma where there is one).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define ARCHETYPE_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define ARCHETYPE_CLONES
#endif
#define ARCHETYPE_INLINE inline __attribute__((always_inline))

constexpr std::size_t G = kGroup;
/// Centres evaluated together on one group: four accumulators of G lanes
/// (4 AVX-512 or 8 AVX2 registers) share each load of the group.
constexpr int kTile = 4;

/// xt[j * G + i] = feature j of row i, for the g <= G rows at x; the lanes
/// past g repeat the last row (their results are never used).
ARCHETYPE_INLINE void transpose_group(const float* x, std::size_t d, std::size_t g, float* __restrict xt) {
  for (std::size_t i = 0; i < G; ++i) {
    const float* row = x + std::min(i, g - 1) * d;
    for (std::size_t j = 0; j < d; ++j) xt[j * G + i] = row[j];
  }
}

/// s_t[i] = squared_distance(row i of the group, centre t) for the kTile
/// centres c[0..3] (each d floats).  D > 0 fixes d at compile time (small d
/// are unrolled); D == 0 reads it from d.
template <std::size_t D>
ARCHETYPE_INLINE void distances4(const float* __restrict xt, std::size_t d, const float* const* c,
                                 float (&s)[kTile][G]) {
  const std::size_t dd = D > 0 ? D : d;
  float a0[G] = {}, a1[G] = {}, a2[G] = {}, a3[G] = {};
  const float *c0 = c[0], *c1 = c[1], *c2 = c[2], *c3 = c[3];
  for (std::size_t j = 0; j < dd; ++j) {
    const float* xv = xt + j * G;
    const float b0 = c0[j], b1 = c1[j], b2 = c2[j], b3 = c3[j];
#pragma GCC unroll 16
    for (std::size_t i = 0; i < G; ++i) {
      const float v = xv[i];
      a0[i] = add_square(v - b0, a0[i]);
      a1[i] = add_square(v - b1, a1[i]);
      a2[i] = add_square(v - b2, a2[i]);
      a3[i] = add_square(v - b3, a3[i]);
    }
  }
  for (std::size_t i = 0; i < G; ++i) {
    s[0][i] = a0[i];
    s[1][i] = a1[i];
    s[2][i] = a2[i];
    s[3][i] = a3[i];
  }
}

/// s[i] = squared_distance(row i of the group, centre c).
template <std::size_t D>
ARCHETYPE_INLINE void distances1(const float* __restrict xt, std::size_t d, const float* c, float (&s)[G]) {
  const std::size_t dd = D > 0 ? D : d;
  float a[G] = {};
  for (std::size_t j = 0; j < dd; ++j) {
    const float* xv = xt + j * G;
    const float b = c[j];
#pragma GCC unroll 16
    for (std::size_t i = 0; i < G; ++i) a[i] = add_square(xv[i] - b, a[i]);
  }
  for (std::size_t i = 0; i < G; ++i) s[i] = a[i];
}

/// Calls f(s, first, count) for the k centres in tiles of kTile (the last
/// tiles one centre at a time), in increasing centre order: s[t] holds the
/// group's distances to centre first + t.
template <std::size_t D, typename F>
ARCHETYPE_INLINE void for_centre_tiles(const float* xt, std::size_t d, const float* centers, int k, F&& f) {
  float s[kTile][G];
  int c = 0;
  for (; c + kTile <= k; c += kTile) {
    const float* cs[kTile];
    for (int t = 0; t < kTile; ++t) cs[t] = centers + static_cast<std::size_t>(c + t) * d;
    distances4<D>(xt, d, cs, s);
    f(s, c, kTile);
  }
  for (; c < k; ++c) {
    distances1<D>(xt, d, centers + static_cast<std::size_t>(c) * d, s[0]);
    f(s, c, 1);
  }
}

template <std::size_t D>
ARCHETYPE_INLINE void nearest_impl(const float* x, std::size_t d, std::size_t m, const float* centers, int k,
                                   std::int32_t* __restrict lab, float* __restrict best, float* __restrict xt) {
  for (std::size_t r0 = 0; r0 < m; r0 += G) {
    const std::size_t g = std::min(G, m - r0);
    transpose_group(x + r0 * d, d, g, xt);
    float b[G];
    std::int32_t l[G];
    for (std::size_t i = 0; i < G; ++i) {
      b[i] = std::numeric_limits<float>::infinity();
      l[i] = 0;
    }
    for_centre_tiles<D>(xt, d, centers, k, [&](const float(&s)[kTile][G], int first, int count) {
      for (int t = 0; t < count; ++t) {
        const std::int32_t c = first + t;
        for (std::size_t i = 0; i < G; ++i) {
          const bool closer = s[t][i] < b[i];  // strict: ties keep the lower index
          b[i] = closer ? s[t][i] : b[i];
          l[i] = closer ? c : l[i];
        }
      }
    });
    for (std::size_t i = 0; i < g; ++i) {
      best[r0 + i] = b[i];
      lab[r0 + i] = l[i];
    }
  }
}

template <std::size_t D>
ARCHETYPE_INLINE void closest_impl(const float* x, std::size_t d, std::size_t m, const float* centers, int k,
                                   bool init, float* __restrict closest, float* __restrict xt) {
  for (std::size_t r0 = 0; r0 < m; r0 += G) {
    const std::size_t g = std::min(G, m - r0);
    transpose_group(x + r0 * d, d, g, xt);
    float b[G];
    for (std::size_t i = 0; i < G; ++i)
      b[i] = init || i >= g ? std::numeric_limits<float>::infinity() : closest[r0 + i];
    for_centre_tiles<D>(xt, d, centers, k, [&](const float(&s)[kTile][G], int, int count) {
      for (int t = 0; t < count; ++t)
        for (std::size_t i = 0; i < G; ++i) b[i] = s[t][i] < b[i] ? s[t][i] : b[i];
    });
    for (std::size_t i = 0; i < g; ++i) closest[r0 + i] = b[i];
  }
}

template <std::size_t D>
ARCHETYPE_INLINE void candidates_impl(const float* x, std::size_t d, std::size_t m, const float* cands, int trials,
                                      const float* __restrict closest, float dscale, std::int64_t* __restrict pot,
                                      float* __restrict xt) {
  for (std::size_t r0 = 0; r0 < m; r0 += G) {
    const std::size_t g = std::min(G, m - r0);
    transpose_group(x + r0 * d, d, g, xt);
    for_centre_tiles<D>(xt, d, cands, trials, [&](const float(&s)[kTile][G], int first, int count) {
      for (int t = 0; t < count; ++t) {
        std::int64_t sum = 0;
        for (std::size_t i = 0; i < g; ++i) {
          const float c = closest[r0 + i], v = s[t][i];
          sum += quantize_distance(v < c ? v : c, dscale);  // min(closest, d2)
        }
        pot[first + t] += sum;
      }
    });
  }
}

/// Sums of one block by one masked pass per cluster: fastest when k and d
/// are small (d = 2, k up to about 16), branch-free and vectorised.  In-block
/// sums fit an int32: m <= 256 values with |q| < 2^23 (kFeatureBits).
ARCHETYPE_INLINE void masked_sums(const std::int32_t* __restrict lab, const std::int32_t* __restrict q, std::size_t m,
                                  std::size_t d, std::size_t kk, int sign, std::int64_t* __restrict acc) {
  static_assert(kBlock <= 256, "int32 block sums need |sum| < 256 * 2^23 = 2^31");
  for (std::size_t c = 0; c < kk; ++c) {
    const std::int32_t cl = static_cast<std::int32_t>(c);
    std::int32_t cnt = 0;
    for (std::size_t r = 0; r < m; ++r) cnt += lab[r] == cl;
    acc[c] += sign * static_cast<std::int64_t>(cnt);
    for (std::size_t j = 0; j < d; ++j) {
      std::int32_t sum = 0;
      const std::int32_t* qj = q + j * m;
      for (std::size_t r = 0; r < m; ++r) sum += qj[r] & -static_cast<std::int32_t>(lab[r] == cl);
      acc[kk + c * d + j] += sign * static_cast<std::int64_t>(sum);
    }
  }
}

}  // namespace

ARCHETYPE_CLONES
void nearest_block(const float* x, std::size_t d, std::size_t m, const float* centers, int k, std::int32_t* lab,
                   float* best, GroupScratch& s) {
  switch (d) {
    case 1: return nearest_impl<1>(x, d, m, centers, k, lab, best, s.xt.data());
    case 2: return nearest_impl<2>(x, d, m, centers, k, lab, best, s.xt.data());
    case 3: return nearest_impl<3>(x, d, m, centers, k, lab, best, s.xt.data());
    case 4: return nearest_impl<4>(x, d, m, centers, k, lab, best, s.xt.data());
    default: return nearest_impl<0>(x, d, m, centers, k, lab, best, s.xt.data());
  }
}

ARCHETYPE_CLONES
void closest_block(const float* x, std::size_t d, std::size_t m, const float* centers, int k, bool init,
                   float* closest, GroupScratch& s) {
  switch (d) {
    case 1: return closest_impl<1>(x, d, m, centers, k, init, closest, s.xt.data());
    case 2: return closest_impl<2>(x, d, m, centers, k, init, closest, s.xt.data());
    default: return closest_impl<0>(x, d, m, centers, k, init, closest, s.xt.data());
  }
}

ARCHETYPE_CLONES
void candidate_potentials(const float* x, std::size_t d, std::size_t m, const float* cands, int trials,
                          const float* closest, float dscale, std::int64_t* pot, GroupScratch& s) {
  switch (d) {
    case 1: return candidates_impl<1>(x, d, m, cands, trials, closest, dscale, pot, s.xt.data());
    case 2: return candidates_impl<2>(x, d, m, cands, trials, closest, dscale, pot, s.xt.data());
    default: return candidates_impl<0>(x, d, m, cands, trials, closest, dscale, pot, s.xt.data());
  }
}

ARCHETYPE_CLONES
void assigned_distances(const float* x, std::size_t d, std::size_t m, const float* centers, const std::int32_t* lab,
                        float* d2, GroupScratch& s) {
  float* __restrict xt = s.xt.data();
  float* __restrict ct = xt + G * d;
  for (std::size_t r0 = 0; r0 < m; r0 += G) {
    const std::size_t g = std::min(G, m - r0);
    transpose_group(x + r0 * d, d, g, xt);
    // The centre of each lane, transposed the same way.
    for (std::size_t i = 0; i < G; ++i) {
      const float* c = centers + static_cast<std::size_t>(lab[r0 + std::min(i, g - 1)]) * d;
      for (std::size_t j = 0; j < d; ++j) ct[j * G + i] = c[j];
    }
    float a[G] = {};
    for (std::size_t j = 0; j < d; ++j)
      for (std::size_t i = 0; i < G; ++i) a[i] = add_square(xt[j * G + i] - ct[j * G + i], a[i]);
    for (std::size_t i = 0; i < g; ++i) d2[r0 + i] = a[i];
  }
}

ARCHETYPE_CLONES
std::int64_t quantized_sum(const float* v, std::size_t m, float scale) {
  std::int64_t sum = 0;
  for (std::size_t r = 0; r < m; ++r) sum += quantize_distance(v[r], scale);
  return sum;
}

ARCHETYPE_CLONES
void add_cluster_sums(const float* x, std::size_t d, std::size_t m, const std::int32_t* lab, float fscale,
                      std::size_t kk, int sign, std::int64_t* acc, GroupScratch& s) {
  if (kk * (d + 1) <= 48) {
    // Small k and d: quantize the block feature-major, one masked pass per cluster.
    std::int32_t* __restrict q = s.q.data();
    for (std::size_t j = 0; j < d; ++j)
      for (std::size_t r = 0; r < m; ++r) q[j * m + r] = quantize_feature(x[r * d + j], fscale);
    masked_sums(lab, q, m, d, kk, sign, acc);
    return;
  }
  // Otherwise scatter each row into its cluster's sums: O(d) per row for any k.
  for (std::size_t r = 0; r < m; ++r) {
    const std::int32_t c = lab[r];
    if (c < 0) continue;
    const float* __restrict xr = x + r * d;
    std::int64_t* __restrict a = acc + kk + static_cast<std::size_t>(c) * d;
    acc[c] += sign;
    if (sign > 0) {
      for (std::size_t j = 0; j < d; ++j) a[j] += quantize_feature(xr[j], fscale);
    } else {
      for (std::size_t j = 0; j < d; ++j) a[j] -= quantize_feature(xr[j], fscale);
    }
  }
}

}  // namespace archetype::cpu
