#include "engine/cpu_kernels.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include <type_traits>

#include "archetype/distance.hpp"
#include "archetype/fixed_point.hpp"
#include "engine/cpu_clones.hpp"
#include "engine/lane_squares.hpp"

namespace archetype::cpu {
namespace {

constexpr std::size_t G = kGroup;
static_assert(kGroup == kLaneRows, "lane_squares.hpp works on groups of kGroup rows");
/// Centres evaluated together on one group: four accumulators of G lanes
/// (4 AVX-512 or 8 AVX2 registers) share each load of the group.
constexpr int kTile = 4;

/// One row of a 16 x 16 tile being transposed.
typedef float GroupLanes __attribute__((vector_size(G * sizeof(float))));

/// ct[j * G + i] = rows[i][j] for 16 rows anywhere in memory.  Whole 16 x 16
/// tiles in registers: four rounds of "zip row i with row i + 8" transpose
/// a 16 x 16 matrix (each round rotates the bits of the index), 64
/// two-register shuffles per 256 values; the last d mod 16 features one by
/// one.  (A row-by-row copy scatters 16 scalar stores per feature: as slow
/// as the distances themselves at d = 128, k = 20.)
ARCHETYPE_INLINE void transpose_rows16(const float* const* rows, std::size_t d, float* __restrict ct) {
  std::size_t j0 = 0;
  if (!lanes_in_one_register()) {  // AVX2: by 8 x 8 quarters (lane_squares.hpp)
    for (; j0 + G <= d; j0 += G) {
      const float* at[G];
      for (std::size_t i = 0; i < G; ++i) at[i] = rows[i] + j0;
      transpose16_by_quarters(at, ct + j0 * G);
    }
  }
  for (; j0 + G <= d; j0 += G) {
    GroupLanes r[G], t[G];
    for (std::size_t i = 0; i < G; ++i) std::memcpy(&r[i], rows[i] + j0, sizeof r[i]);
    for (int round = 0; round < 4; ++round) {
      for (std::size_t i = 0; i < G / 2; ++i) {
        t[2 * i] = __builtin_shufflevector(r[i], r[i + G / 2], 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        t[2 * i + 1] =
            __builtin_shufflevector(r[i], r[i + G / 2], 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
      }
      for (std::size_t i = 0; i < G; ++i) r[i] = t[i];
    }
    for (std::size_t j = 0; j < G; ++j) std::memcpy(ct + (j0 + j) * G, &r[j], sizeof r[j]);
  }
  for (std::size_t i = 0; i < G; ++i)
    for (std::size_t j = j0; j < d; ++j) ct[j * G + i] = rows[i][j];
}

/// xt[j * G + i] = feature j of row i, for the g <= G rows at x; the lanes
/// past g repeat the last row (their results are never used).
ARCHETYPE_INLINE void transpose_group(const float* x, std::size_t d, std::size_t g, float* __restrict xt) {
  if (d == 2 && g == G) {  // the common case, as two de-interleaving shuffles
#pragma omp simd
    for (std::size_t i = 0; i < G; ++i) {
      xt[i] = x[2 * i];
      xt[G + i] = x[2 * i + 1];
    }
    return;
  }
  if (g == G) {
    const float* rows[G];
    for (std::size_t i = 0; i < G; ++i) rows[i] = x + i * d;
    transpose_rows16(rows, d, xt);
    return;
  }
  for (std::size_t i = 0; i < G; ++i) {
    const float* row = x + std::min(i, g - 1) * d;
    for (std::size_t j = 0; j < d; ++j) xt[j * G + i] = row[j];
  }
}

/// The G lanes of a group as GCC vectors, for the compare-and-select steps
/// (GCC compiles these to clean compares and blends; it has no vector fma on
/// such types, so the distance loops use plain arrays under `omp simd`, the
/// form in which it vectorises add_square into fused multiply-adds, then hand
/// their result over).  Two forms, picked per CPU by lanes_in_one_register():
/// - OneRegister: one 16-lane vector, one AVX-512 register.
/// - TwoRegisters: two 8-lane vectors.  Where the target has no 64-byte
///   registers (the AVX2 and baseline clones) GCC expands every operation on
///   a 16-lane vector element by element, a scalar compare and move per lane
///   (-Wvector-operation-performance; measured: the AVX2 clone of the Lloyd
///   pass at d = 2, k = 5 spent most of its time there), while an 8-lane
///   vector is one AVX2 register.
/// Both forms compare and select lane by lane: the same bits.
typedef float Lanes __attribute__((vector_size(G * sizeof(float))));
typedef std::int32_t IntLanes __attribute__((vector_size(G * sizeof(std::int32_t))));
typedef float HalfLanes __attribute__((vector_size(G / 2 * sizeof(float))));
typedef std::int32_t IntHalfLanes __attribute__((vector_size(G / 2 * sizeof(std::int32_t))));
struct SplitLanes {
  HalfLanes lo, hi;  ///< lanes [0, 8) and [8, 16)
};
struct SplitIntLanes {
  IntHalfLanes lo, hi;
};
struct OneRegister {
  typedef Lanes F;
  typedef IntLanes I;
};
struct TwoRegisters {
  typedef SplitLanes F;
  typedef SplitIntLanes I;
};
static_assert(sizeof(SplitLanes) == sizeof(Lanes) && sizeof(SplitIntLanes) == sizeof(IntLanes),
              "both forms hold G lanes, no padding (copied in and out with memcpy)");

/// The lane_squares form (lane_squares.hpp) of lanes held as F: fixed at
/// compile time, so that each kernel instantiation compiles one loop.
template <typename F>
constexpr LaneForm kFormOf = std::is_same<F, SplitLanes>::value ? LaneForm::Two : LaneForm::One;

/// Every lane = v.
ARCHETYPE_INLINE void fill(Lanes& x, float v) { x = Lanes{} + v; }
ARCHETYPE_INLINE void fill(SplitLanes& x, float v) { x.lo = x.hi = HalfLanes{} + v; }

/// The first g lanes of x into out (g <= G), and back.
template <typename F>
ARCHETYPE_INLINE void store_lanes(const F& x, std::size_t g, float* out) {
  float t[G];
  std::memcpy(t, &x, sizeof t);
  for (std::size_t i = 0; i < g; ++i) out[i] = t[i];
}
template <typename I>
ARCHETYPE_INLINE void store_int_lanes(const I& x, std::size_t g, std::int32_t* out) {
  std::int32_t t[G];
  std::memcpy(t, &x, sizeof t);
  for (std::size_t i = 0; i < g; ++i) out[i] = t[i];
}

/// a_t = squared_distance(row i of the group, centre t) in lane i for the
/// kTile centres c0..c3 (each d floats).  D > 0 fixes d at compile time
/// (small d are unrolled); D == 0 reads it from d.
template <std::size_t D, typename F>
ARCHETYPE_INLINE void distances4(const float* __restrict xt, std::size_t d, const float* c0, const float* c1,
                                 const float* c2, const float* c3, F& o0, F& o1, F& o2, F& o3) {
  float a0[G], a1[G], a2[G], a3[G];
  lane_squares4<D, kFormOf<F>>(xt, d, c0, c1, c2, c3, a0, a1, a2, a3);
  std::memcpy(&o0, a0, sizeof o0);
  std::memcpy(&o1, a1, sizeof o1);
  std::memcpy(&o2, a2, sizeof o2);
  std::memcpy(&o3, a3, sizeof o3);
}

/// a = squared_distance(row i of the group, centre c) in lane i.
template <std::size_t D, typename F>
ARCHETYPE_INLINE void distances1(const float* __restrict xt, std::size_t d, const float* c, F& o) {
  float a[G];
  lane_squares1<D, kFormOf<F>>(xt, d, c, a);
  std::memcpy(&o, a, sizeof o);
}

/// o_q = squared_distance(row i of group q, centre c) in lane i, for four
/// groups (x0..x3, each transposed): four independent fma chains for one
/// centre.  A single centre on a single group is one chain, d fmas long,
/// latency-bound at large d; the tails of the centre tiles use this.
template <typename F>
ARCHETYPE_INLINE void distances1x4(const float* __restrict x0, const float* __restrict x1,
                                   const float* __restrict x2, const float* __restrict x3, std::size_t d,
                                   const float* c, F& o0, F& o1, F& o2, F& o3) {
  if constexpr (kFormOf<F> == LaneForm::Two) {  // each group's lanes as two arrays of 8 (see lane_squares.hpp)
    constexpr std::size_t H = G / 2;
    float l0[H] = {}, l1[H] = {}, l2[H] = {}, l3[H] = {}, h0[H] = {}, h1[H] = {}, h2[H] = {}, h3[H] = {};
    for (std::size_t j = 0; j < d; ++j) {
      const float b = c[j];
      const float *v0 = x0 + j * G, *v1 = x1 + j * G, *v2 = x2 + j * G, *v3 = x3 + j * G;
#pragma omp simd
      for (std::size_t i = 0; i < H; ++i) {
        l0[i] = add_square(v0[i] - b, l0[i]);
        l1[i] = add_square(v1[i] - b, l1[i]);
        l2[i] = add_square(v2[i] - b, l2[i]);
        l3[i] = add_square(v3[i] - b, l3[i]);
        h0[i] = add_square(v0[H + i] - b, h0[i]);
        h1[i] = add_square(v1[H + i] - b, h1[i]);
        h2[i] = add_square(v2[H + i] - b, h2[i]);
        h3[i] = add_square(v3[H + i] - b, h3[i]);
      }
    }
    // Copied out whole, as in lane_squares.hpp: element by element GCC
    // keeps the eight arrays in memory again.
    float* o[4] = {reinterpret_cast<float*>(&o0), reinterpret_cast<float*>(&o1), reinterpret_cast<float*>(&o2),
                   reinterpret_cast<float*>(&o3)};
    std::memcpy(o[0], l0, sizeof l0), std::memcpy(o[0] + H, h0, sizeof h0);
    std::memcpy(o[1], l1, sizeof l1), std::memcpy(o[1] + H, h1, sizeof h1);
    std::memcpy(o[2], l2, sizeof l2), std::memcpy(o[2] + H, h2, sizeof h2);
    std::memcpy(o[3], l3, sizeof l3), std::memcpy(o[3] + H, h3, sizeof h3);
  } else {
    float a0[G] = {}, a1[G] = {}, a2[G] = {}, a3[G] = {};
    for (std::size_t j = 0; j < d; ++j) {
      const float b = c[j];
      const float *v0 = x0 + j * G, *v1 = x1 + j * G, *v2 = x2 + j * G, *v3 = x3 + j * G;
#pragma omp simd
      for (std::size_t i = 0; i < G; ++i) {
        a0[i] = add_square(v0[i] - b, a0[i]);
        a1[i] = add_square(v1[i] - b, a1[i]);
        a2[i] = add_square(v2[i] - b, a2[i]);
        a3[i] = add_square(v3[i] - b, a3[i]);
      }
    }
    std::memcpy(&o0, a0, sizeof o0);
    std::memcpy(&o1, a1, sizeof o1);
    std::memcpy(&o2, a2, sizeof o2);
    std::memcpy(&o3, a3, sizeof o3);
  }
}

/// Calls f(q, lanes) for groups [0, groups) four at a time, with lanes the
/// group's distances to centre c (missing groups of the last four repeat
/// the last group; f is not called for them).
template <typename V, typename Fn>
ARCHETYPE_INLINE void for_groups_of_centre(const float* block, std::size_t d, std::size_t groups, const float* c,
                                           Fn&& f) {
  typename V::F a[4];
  for (std::size_t g0 = 0; g0 < groups; g0 += 4) {
    const float* x[4];
    for (std::size_t q = 0; q < 4; ++q) x[q] = block + std::min(g0 + q, groups - 1) * G * d;
    distances1x4(x[0], x[1], x[2], x[3], d, c, a[0], a[1], a[2], a[3]);
    for (std::size_t q = 0; q < 4 && g0 + q < groups; ++q) f(g0 + q, a[q]);
  }
}

/// Keeps in (b, l) the closer of the current best and centre c (strict <:
/// ties keep the lower index, since centres come in increasing order).
template <typename F, typename I>
ARCHETYPE_INLINE void take_closer_v(const F& a, std::int32_t c, F& b, I& l) {
  const I closer = a < b;
  b = closer ? a : b;
  l = closer ? c : l;
}
ARCHETYPE_INLINE void take_closer(const Lanes& a, std::int32_t c, Lanes& b, IntLanes& l) { take_closer_v(a, c, b, l); }
ARCHETYPE_INLINE void take_closer(const SplitLanes& a, std::int32_t c, SplitLanes& b, SplitIntLanes& l) {
  take_closer_v(a.lo, c, b.lo, l.lo);
  take_closer_v(a.hi, c, b.hi, l.hi);
}

ARCHETYPE_INLINE void take_min(const Lanes& a, Lanes& b) { b = a < b ? a : b; }
ARCHETYPE_INLINE void take_min(const SplitLanes& a, SplitLanes& b) {
  b.lo = a.lo < b.lo ? a.lo : b.lo;
  b.hi = a.hi < b.hi ? a.hi : b.hi;
}

/// Whether any lane of a compare result is set.
template <typename I>
ARCHETYPE_INLINE bool any_lane(const I& x) {
  std::uint64_t w[sizeof(I) / 8];
  std::memcpy(w, &x, sizeof w);
  std::uint64_t any = 0;
  for (std::uint64_t v : w) any |= v;
  return any != 0;
}

/// mn = min(c, a) lane by lane (a < c ? a : c); returns whether a < c in
/// any lane.
ARCHETYPE_INLINE bool min_lanes(const Lanes& a, const Lanes& c, Lanes& mn) {
  const IntLanes lt = a < c;
  mn = lt ? a : c;
  return any_lane(lt);
}
ARCHETYPE_INLINE bool min_lanes(const SplitLanes& a, const SplitLanes& c, SplitLanes& mn) {
  const IntHalfLanes lo = a.lo < c.lo, hi = a.hi < c.hi;
  mn.lo = lo ? a.lo : c.lo;
  mn.hi = hi ? a.hi : c.hi;
  return any_lane(IntHalfLanes(lo | hi));
}

/// take_closer that also keeps the second smallest in s2: centre c comes
/// after the others in increasing order, so the old best becomes the second
/// when c is closer, else the lower of the two is kept.
template <typename F, typename I>
ARCHETYPE_INLINE void take_closer2_v(const F& a, std::int32_t c, F& b, F& s2, I& l) {
  const I closer = a < b;
  s2 = closer ? b : (a < s2 ? a : s2);
  b = closer ? a : b;
  l = closer ? c : l;
}
ARCHETYPE_INLINE void take_closer2(const Lanes& a, std::int32_t c, Lanes& b, Lanes& s2, IntLanes& l) {
  take_closer2_v(a, c, b, s2, l);
}
ARCHETYPE_INLINE void take_closer2(const SplitLanes& a, std::int32_t c, SplitLanes& b, SplitLanes& s2,
                                   SplitIntLanes& l) {
  take_closer2_v(a.lo, c, b.lo, s2.lo, l.lo);
  take_closer2_v(a.hi, c, b.hi, s2.hi, l.hi);
}

/// nearest_impl on two full groups at once (xa, xb transposed; one
/// register a group, small D): two independent compare-and-select chains.
/// With one group at small d each centre costs a compare and a select that
/// wait on the previous centre's (about 8 cycles a centre at d = 2), and
/// the distances' few operations cannot fill that wait; two chains
/// interleaved fill it.  Each lane's work is unchanged: the same bits.
template <std::size_t D>
ARCHETYPE_INLINE void nearest_two_groups(const float* xa, const float* xb, const float* centers, int k,
                                         std::int32_t* __restrict lab, float* __restrict best) {
  Lanes ba, bb;
  fill(ba, std::numeric_limits<float>::infinity());
  fill(bb, std::numeric_limits<float>::infinity());
  IntLanes la = {}, lb = {};
  int c = 0;
  for (; c + kTile <= k; c += kTile) {
    const float* cc = centers + static_cast<std::size_t>(c) * D;
    Lanes a0, a1, a2, a3, e0, e1, e2, e3;
    distances4<D>(xa, D, cc, cc + D, cc + 2 * D, cc + 3 * D, a0, a1, a2, a3);
    distances4<D>(xb, D, cc, cc + D, cc + 2 * D, cc + 3 * D, e0, e1, e2, e3);
    take_closer(a0, c, ba, la);
    take_closer(e0, c, bb, lb);
    take_closer(a1, c + 1, ba, la);
    take_closer(e1, c + 1, bb, lb);
    take_closer(a2, c + 2, ba, la);
    take_closer(e2, c + 2, bb, lb);
    take_closer(a3, c + 3, ba, la);
    take_closer(e3, c + 3, bb, lb);
  }
  for (; c < k; ++c) {
    const float* cc = centers + static_cast<std::size_t>(c) * D;
    Lanes a, e;
    distances1<D>(xa, D, cc, a);
    distances1<D>(xb, D, cc, e);
    take_closer(a, c, ba, la);
    take_closer(e, c, bb, lb);
  }
  std::memcpy(best, &ba, sizeof ba);
  std::memcpy(best + G, &bb, sizeof bb);
  std::memcpy(lab, &la, sizeof la);
  std::memcpy(lab + G, &lb, sizeof lb);
}

/// With `rows` (row-major, small D only) each group is transposed into
/// registers on the fly instead of being read from the transposed block.
template <typename V, std::size_t D>
ARCHETYPE_INLINE void nearest_impl(const float* block, const float* rows, std::size_t d, std::size_t m,
                                   const float* centers, int k, std::int32_t* __restrict lab,
                                   float* __restrict best) {
  float local[D > 0 ? D * G : 1];
  std::size_t first = 0;  // the first row left to the one-group loop
  if constexpr (D > 0 && std::is_same<V, OneRegister>::value) {
    float local_b[D * G];
    for (; first + 2 * G <= m; first += 2 * G) {
      const float* xa = block + first * d;
      const float* xb = xa + G * d;
      if (rows) {
        transpose_group(rows + first * d, d, G, local);
        transpose_group(rows + (first + G) * d, d, G, local_b);
        xa = local;
        xb = local_b;
      }
      nearest_two_groups<D>(xa, xb, centers, k, lab + first, best + first);
    }
  }
  for (std::size_t r0 = first; r0 < m; r0 += G) {
    const std::size_t g = std::min(G, m - r0);
    const float* xt = block + r0 * d;
    if (D > 0 && rows) {
      transpose_group(rows + r0 * d, d, g, local);
      xt = local;
    }
    typename V::F a0, a1, a2, a3, b;
    fill(b, std::numeric_limits<float>::infinity());
    typename V::I l = {};
    int c = 0;
    for (; c + kTile <= k; c += kTile) {
      const float* cc = centers + static_cast<std::size_t>(c) * d;
      distances4<D>(xt, d, cc, cc + d, cc + 2 * d, cc + 3 * d, a0, a1, a2, a3);
      take_closer(a0, c, b, l);
      take_closer(a1, c + 1, b, l);
      take_closer(a2, c + 2, b, l);
      take_closer(a3, c + 3, b, l);
    }
    for (; c < k; ++c) {
      distances1<D>(xt, d, centers + static_cast<std::size_t>(c) * d, a0);
      take_closer(a0, c, b, l);
    }
    if (g == G) {  // whole groups as one store each (a loop of variable length becomes a slow rep movs)
      std::memcpy(best + r0, &b, sizeof b);
      std::memcpy(lab + r0, &l, sizeof l);
    } else {
      store_lanes(b, g, best + r0);
      store_int_lanes(l, g, lab + r0);
    }
  }
}

/// The one-register form's eight rows a step (lane_squares8): for t = 0,
/// 8, ... while t + 8 <= count, the group xt's squared distances to the
/// rows base + (t + q) d handed to f(t + q, lanes), q = 0..7 in order.
/// Returns the first t not handled (a multiple of 8).
template <typename Fn>
ARCHETYPE_INLINE int by_eights(const float* xt, std::size_t d, const float* base, int count, Fn&& f) {
  alignas(64) float a8[8][G];
  int t = 0;
  for (; t + 8 <= count; t += 8) {
    const float* rows[8];
    for (int q = 0; q < 8; ++q) rows[q] = base + static_cast<std::size_t>(t + q) * d;
    lane_squares8(xt, d, rows, a8);
    for (int q = 0; q < 8; ++q) {
      Lanes a;
      std::memcpy(&a, a8[q], sizeof a);
      f(t + q, a);
    }
  }
  return t;
}

/// nearest_impl for large d (any d, read from the transposed block): in the
/// one-register form eight centres a step (by_eights), then the tiles of
/// four centres group by group, then each remaining centre (k mod 4 of
/// them) on four groups at a time (distances1x4), so that no fma chain runs
/// alone.  Centres still reach each row in increasing order.
template <typename V>
ARCHETYPE_INLINE void nearest_wide(const float* block, std::size_t d, std::size_t m, const float* centers, int k,
                                   std::int32_t* __restrict lab, float* __restrict best) {
  alignas(64) float bb[kBlock];
  alignas(64) std::int32_t ll[kBlock];
  const std::size_t groups = (m + G - 1) / G;
  const int k4 = k / kTile * kTile;
  for (std::size_t gi = 0; gi < groups; ++gi) {
    const float* xt = block + gi * G * d;
    typename V::F a0, a1, a2, a3, b;
    fill(b, std::numeric_limits<float>::infinity());
    typename V::I l = {};
    int c = 0;
    if constexpr (std::is_same<V, OneRegister>::value)
      c = by_eights(xt, d, centers, k, [&](int t, const Lanes& a) __attribute__((always_inline)) {
        take_closer(a, t, b, l);
      });
    for (; c < k4; c += kTile) {
      const float* cc = centers + static_cast<std::size_t>(c) * d;
      distances4<0>(xt, d, cc, cc + d, cc + 2 * d, cc + 3 * d, a0, a1, a2, a3);
      take_closer(a0, c, b, l);
      take_closer(a1, c + 1, b, l);
      take_closer(a2, c + 2, b, l);
      take_closer(a3, c + 3, b, l);
    }
    std::memcpy(bb + gi * G, &b, sizeof b);
    std::memcpy(ll + gi * G, &l, sizeof l);
  }
  for (int c = k4; c < k; ++c)
    for_groups_of_centre<V>(block, d, groups, centers + static_cast<std::size_t>(c) * d,
                            [&](std::size_t gi, const typename V::F& a) __attribute__((always_inline)) {
                           typename V::F b;
                           typename V::I l;
                           std::memcpy(&b, bb + gi * G, sizeof b);
                           std::memcpy(&l, ll + gi * G, sizeof l);
                           take_closer(a, c, b, l);
                           std::memcpy(bb + gi * G, &b, sizeof b);
                           std::memcpy(ll + gi * G, &l, sizeof l);
                         });
  std::memcpy(best, bb, m * sizeof(float));
  std::memcpy(lab, ll, m * sizeof(std::int32_t));
}

/// closest_impl for large d, the same way as nearest_wide.
template <typename V>
ARCHETYPE_INLINE void closest_wide(const float* block, std::size_t d, std::size_t m, const float* centers, int k,
                                   bool init, float* __restrict closest) {
  alignas(64) float bb[kBlock];
  const std::size_t groups = (m + G - 1) / G;
  for (std::size_t i = 0; i < groups * G; ++i)
    bb[i] = init || i >= m ? std::numeric_limits<float>::infinity() : closest[i];
  const int k4 = k / kTile * kTile;
  for (std::size_t gi = 0; gi < groups && k4 > 0; ++gi) {
    const float* xt = block + gi * G * d;
    typename V::F a0, a1, a2, a3, b;
    std::memcpy(&b, bb + gi * G, sizeof b);
    for (int c = 0; c < k4; c += kTile) {
      const float* cc = centers + static_cast<std::size_t>(c) * d;
      distances4<0>(xt, d, cc, cc + d, cc + 2 * d, cc + 3 * d, a0, a1, a2, a3);
      take_min(a0, b);
      take_min(a1, b);
      take_min(a2, b);
      take_min(a3, b);
    }
    std::memcpy(bb + gi * G, &b, sizeof b);
  }
  for (int c = k4; c < k; ++c)
    for_groups_of_centre<V>(block, d, groups, centers + static_cast<std::size_t>(c) * d,
                            [&](std::size_t gi, const typename V::F& a) __attribute__((always_inline)) {
                           typename V::F b;
                           std::memcpy(&b, bb + gi * G, sizeof b);
                           take_min(a, b);
                           std::memcpy(bb + gi * G, &b, sizeof b);
                         });
  std::memcpy(closest, bb, m * sizeof(float));
}

/// closest_block's kernel; with `rows` (D > 0 only) each group is read from
/// the rows in place and transposed in registers, as nearest_impl does.
template <typename V, std::size_t D>
ARCHETYPE_INLINE void closest_impl(const float* block, const float* rows, std::size_t d, std::size_t m,
                                   const float* centers, int k, bool init, float* __restrict closest) {
  float local[D > 0 ? D * G : 1];
  for (std::size_t r0 = 0; r0 < m; r0 += G) {
    const std::size_t g = std::min(G, m - r0);
    const float* xt = block + r0 * d;
    if (D > 0 && rows) {
      transpose_group(rows + r0 * d, d, g, local);
      xt = local;
    }
    typename V::F a0, a1, a2, a3, b;
    fill(b, std::numeric_limits<float>::infinity());
    if (!init && g == G) {
      std::memcpy(&b, closest + r0, sizeof b);
    } else if (!init) {
      float t[G];
      std::memcpy(t, &b, sizeof t);
      for (std::size_t i = 0; i < g; ++i) t[i] = closest[r0 + i];
      std::memcpy(&b, t, sizeof b);
    }
    int c = 0;
    for (; c + kTile <= k; c += kTile) {
      const float* cc = centers + static_cast<std::size_t>(c) * d;
      distances4<D>(xt, d, cc, cc + d, cc + 2 * d, cc + 3 * d, a0, a1, a2, a3);
      take_min(a0, b);
      take_min(a1, b);
      take_min(a2, b);
      take_min(a3, b);
    }
    for (; c < k; ++c) {
      distances1<D>(xt, d, centers + static_cast<std::size_t>(c) * d, a0);
      take_min(a0, b);
    }
    if (g == G) {
      std::memcpy(closest + r0, &b, sizeof b);
    } else {
      store_lanes(b, g, closest + r0);
    }
  }
}

/// acc[i] += Sign x quantize_distance(v[i], scale) for the G values, vectorised
/// where the CPU has no float -> int64 conversion (AVX2): the product x =
/// v[i] x scale goes to double exactly, and for |x| < 2^51 the double sum x
/// + 1.5 x 2^52 lies in [2^52, 2^53), where the spacing of doubles is 1, so
/// the addition rounds x to the nearest integer, ties to even: exactly
/// rint(x), that is round_half_even(x) (fixed_point.hpp); its bits are those
/// of 1.5 x 2^52 plus rint(x).  (Measured: half the operations of rounding
/// in float first.)  Returns false, adding nothing, when a value lies
/// outside (-2^51, 2^51) (NaN, or too large: on the fixed-point grid a
/// distance is below 2^62 / rows, so only data of a few thousand rows or
/// less get there); the caller then adds value by value.
/// The range test is on the bits: |x| < 2^51 exactly when the bits of |x|
/// (sign cleared) are below those of 2^51, NaN and infinities above; as an
/// unsigned maximum over the lanes it is one vector instruction a group
/// (GCC computed the float compare's flag lane by lane in scalar code,
/// five instructions a value: most of this function's time).
template <int Sign>
ARCHETYPE_INLINE bool add_quantized_lanes(const float* __restrict v, float scale, std::int64_t* __restrict acc) {
  constexpr double kMagic = 0x1.8p52;                 // 1.5 x 2^52
  constexpr std::uint64_t kMagicBits = 0x4338000000000000u;
  constexpr std::uint32_t kLimitBits = 0x59000000u;   // the bits of 2^51 as a float
  std::int64_t q[G];
  std::uint32_t xb[G];
  for (std::size_t i = 0; i < G; ++i) {
    const float x = v[i] * scale;
    std::memcpy(&xb[i], &x, sizeof x);
    const double t = static_cast<double>(x) + kMagic;
    std::uint64_t tb;
    std::memcpy(&tb, &t, sizeof tb);
    q[i] = static_cast<std::int64_t>(tb - kMagicBits);
  }
  std::uint32_t top = 0;
  for (std::size_t i = 0; i < G; ++i) {
    const std::uint32_t a = xb[i] & 0x7fffffffu;
    top = top > a ? top : a;
  }
  if (top >= kLimitBits) return false;
  for (std::size_t i = 0; i < G; ++i) acc[i] += Sign * q[i];
  return true;
}

/// Whether the CPU converts floats to int64 in vector registers
/// (AVX-512DQ: vcvtps2qq), read once.  There the rounding conversion
/// (quantize16_dq below; before it, the plain loop of quantize_distance,
/// which vectorises there) is faster than add_quantized_lanes' double
/// addition and range test (each Lloyd pass's inertia; for the plain loop on an
/// AVX-512 Xeon BM_CpuLloydPass/1000000/2 0.456-0.478 -> 0.433-0.442 ms,
/// BM_CpuLloydBatch/1000000/2 53.1-57.7 -> 51.2-51.5 ms; in quantize_lanes,
/// the k-means++ potentials, BM_KMeansFit 1,000,000 x 2 142-143 -> 135-138
/// ms).  Both give the same values; ARCHETYPE_CPU_LANES=other (the test
/// `cpu_lanes_other`) takes the path this CPU would not, so that both are
/// tested anywhere.
inline bool converts_to_int64() {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
  static const bool yes = unless_other_form(static_cast<bool>(__builtin_cpu_supports("avx512dq")));
#else
  static const bool yes = unless_other_form(false);
#endif
  return yes;
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define ARCHETYPE_DQ_ROUNDING 1
/// Whether this CPU has AVX-512DQ, read once and never overridden:
/// converts_to_int64() is flipped by ARCHETYPE_CPU_LANES=other, and on a
/// CPU without AVX-512 the functions below would not run (SIGILL).  There
/// the flipped form takes the plain loop of quantize_distance instead.
inline bool has_avx512dq() {
  static const bool yes = static_cast<bool>(__builtin_cpu_supports("avx512dq"));
  return yes;
}
/// Whether the rounding conversions below run: this CPU's form rounds by
/// conversion (converts_to_int64) and the CPU has the instructions.
inline bool rounds_by_dq() { return converts_to_int64() && has_avx512dq(); }
/// quantize_distance of 16 values with AVX-512DQ: the product, then
/// vcvtps2qq with round-to-nearest-even spelled in the instruction (not read
/// from MXCSR), which is rint exactly, as round_half_even is; out-of-range
/// values and NaN give the same integer indefinite as the portable form's
/// truncating conversion.  GCC compiled the portable form to 13
/// instructions a group (the emulated rounding, then the conversion), a
/// fifth of the Lloyd pass at d = 2.  Only where rounds_by_dq(); a target
/// of its own so that the other clones still
/// compile (the x86-64-v4 clone inlines it).
__attribute__((target("avx512f,avx512dq"))) inline void quantize16_dq(const float* v, float scale, __m512i& lo,
                                                                      __m512i& hi) {
  // Each half loaded and scaled as 8 floats: the 512-bit extract and
  // shuffle intrinsics of GCC 12 warn (-Wuninitialized on their undefined
  // pass-through operand).
  const __m256 s = _mm256_set1_ps(scale);
  constexpr int kNearest = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
  lo = _mm512_cvt_roundps_epi64(_mm256_mul_ps(_mm256_loadu_ps(v), s), kNearest);
  hi = _mm512_cvt_roundps_epi64(_mm256_mul_ps(_mm256_loadu_ps(v + 8), s), kNearest);
}

/// out[i] = quantize_distance(v[i], scale), i < 16 (quantize16_dq).
__attribute__((target("avx512f,avx512dq"))) inline void quantize_lanes_dq(const float* v, float scale,
                                                                          std::int64_t* out) {
  __m512i lo, hi;
  quantize16_dq(v, scale, lo, hi);
  _mm512_storeu_si512(out, lo);
  _mm512_storeu_si512(out + 8, hi);
}

/// out[i] = quantize_feature(v[i], scale), i < 16: vcvtps2dq with the
/// same spelled rounding (the zero-masked form: the unmasked intrinsic
/// warns like the extracts above).
__attribute__((target("avx512f,avx512dq"))) inline void quantize_features_dq(const float* v, float scale,
                                                                             std::int32_t* out) {
  const __m512 x = _mm512_mul_ps(_mm512_loadu_ps(v), _mm512_set1_ps(scale));
  _mm512_storeu_si512(out, _mm512_maskz_cvt_roundps_epi32(0xFFFF, x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

/// sum over i < m of quantize_distance(v[i], scale) (quantize16_dq).
__attribute__((target("avx512f,avx512dq"))) inline std::int64_t sum_quantized_dq(const float* v, std::size_t m,
                                                                                 float scale) {
  __m512i acc = _mm512_setzero_si512();
  std::size_t i = 0;
  for (; i + 16 <= m; i += 16) {
    __m512i lo, hi;
    quantize16_dq(v + i, scale, lo, hi);
    acc = _mm512_add_epi64(acc, _mm512_add_epi64(lo, hi));
  }
  alignas(64) std::int64_t lanes[8];
  _mm512_store_si512(lanes, acc);
  std::int64_t sum = 0;
  for (std::int64_t l : lanes) sum += l;
  for (; i < m; ++i) sum += quantize_distance(v[i], scale);
  return sum;
}

/// add_potential_lanes (below) for the one-register form, in registers:
/// the compare into a mask, the test of the mask, the minimum by a blend and
/// its two halves rounded by vcvtps2qq (quantize16_dq's operations on the
/// same values).  From the vector of compare results GCC had extracted four
/// 128-bit pieces into general registers to test them, and the minimum went
/// through memory to the conversion: at d = 2 with a few centres (where most
/// groups hold a row closer to the candidate) the step cost more than the
/// distances.
__attribute__((target("avx512f,avx512dq"))) inline void add_potential_dq(const Lanes& a, const Lanes& c,
                                                                         const std::int64_t* qc, float scale,
                                                                         std::int64_t* lane_pot) {
  const __mmask16 closer = _mm512_cmp_ps_mask(static_cast<__m512>(a), static_cast<__m512>(c), _CMP_LT_OQ);
  if (closer == 0) return;
  const Lanes mn = _mm512_mask_blend_ps(closer, static_cast<__m512>(c), static_cast<__m512>(a));
  const HalfLanes lo = __builtin_shufflevector(mn, mn, 0, 1, 2, 3, 4, 5, 6, 7);
  const HalfLanes hi = __builtin_shufflevector(mn, mn, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m256 s = _mm256_set1_ps(scale);
  constexpr int kNearest = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
  const __m512i qlo = _mm512_cvt_roundps_epi64(_mm256_mul_ps(static_cast<__m256>(lo), s), kNearest);
  const __m512i qhi = _mm512_cvt_roundps_epi64(_mm256_mul_ps(static_cast<__m256>(hi), s), kNearest);
  _mm512_storeu_si512(lane_pot, _mm512_add_epi64(_mm512_loadu_si512(lane_pot),
                                                 _mm512_sub_epi64(qlo, _mm512_loadu_si512(qc))));
  _mm512_storeu_si512(lane_pot + 8, _mm512_add_epi64(_mm512_loadu_si512(lane_pot + 8),
                                                     _mm512_sub_epi64(qhi, _mm512_loadu_si512(qc + 8))));
}
#else
/// Without the DQ forms compiled (another compiler or CPU family): never.
inline bool rounds_by_dq() { return false; }
#endif

/// out[i] = quantize_distance(v[i], scale) for the G values, the same way.
/// dq: rounds_by_dq(), read by the caller outside its loops (the guard of
/// a function-local static cannot be hoisted past the stores to out).
ARCHETYPE_INLINE void quantize_lanes(const float* __restrict v, float scale, bool dq, std::int64_t* __restrict out) {
#ifdef ARCHETYPE_DQ_ROUNDING
  static_assert(G == 16, "quantize_lanes_dq converts 16 values");
  if (dq) return quantize_lanes_dq(v, scale, out);
#endif
  (void)dq;
  if (converts_to_int64()) {
    for (std::size_t i = 0; i < G; ++i) out[i] = quantize_distance(v[i], scale);
    return;
  }
  for (std::size_t i = 0; i < G; ++i) out[i] = 0;
  if (!add_quantized_lanes<1>(v, scale, out))
    for (std::size_t i = 0; i < G; ++i) out[i] = quantize_distance(v[i], scale);
}

/// sum over the m values v of quantize_distance(v, scale): G at a time
/// through add_quantized_lanes, the rest value by value (or by the rounding
/// conversion where the CPU has it: converts_to_int64).
ARCHETYPE_INLINE std::int64_t sum_quantized(const float* __restrict v, std::size_t m, float scale) {
#ifdef ARCHETYPE_DQ_ROUNDING
  if (rounds_by_dq()) return sum_quantized_dq(v, m, scale);
#endif
  if (converts_to_int64()) {
    std::int64_t sum = 0;
    for (std::size_t i = 0; i < m; ++i) sum += quantize_distance(v[i], scale);
    return sum;
  }
  std::int64_t lanes[G] = {};
  std::int64_t sum = 0;
  std::size_t i = 0;
  for (; i + G <= m; i += G)
    if (!add_quantized_lanes<1>(v + i, scale, lanes))
      for (std::size_t j = i; j < i + G; ++j) sum += quantize_distance(v[j], scale);
  for (; i < m; ++i) sum += quantize_distance(v[i], scale);
  for (std::size_t j = 0; j < G; ++j) sum += lanes[j];
  return sum;
}

/// pot += sum over the g used lanes of w q(min(closest, a)), weighted.
template <typename F>
ARCHETYPE_INLINE void add_weighted_potential(const F& lanes, const float* __restrict closest, const std::int32_t* w,
                                             std::size_t g, float dscale, std::int64_t& pot) {
  float a[G];
  std::memcpy(a, &lanes, sizeof a);
  std::int64_t sum = 0;
  for (std::size_t i = 0; i < g; ++i) {
    const float c = closest[i], v = a[i];
    sum += static_cast<std::int64_t>(w[i]) * quantize_distance(v < c ? v : c, dscale);
  }
  pot += sum;
}

/// lane_pot[i] += q(min(closest[i], d2)) - qc[i] for the G lanes (closest
/// padded with zeros past the block's rows: never farther, so they add
/// 0 - 0), d2 the lane's distance to the candidate and qc[i] = q(closest[i]):
/// nothing unless the candidate is closer.  candidates_impl adds the
/// block's sum of qc once, so that each candidate's potential is
/// sum q(min(closest, d2)) exactly (integers), while a group in which no
/// row is closer to the candidate (most groups once k-means++ has a few
/// centres) costs one compare.  Per-lane int64 sums, added up once per
/// block: a horizontal sum per group and candidate cost more than the
/// distances at small d.
/// dq: rounds_by_dq(), read by the caller once per block (a function-local
/// static tested in the loop cost a load and a branch on its guard per group
/// and candidate).
template <typename F>
ARCHETYPE_INLINE void add_potential_lanes(const F& a, const float* __restrict closest, const std::int64_t* qc,
                                          float dscale, bool dq, std::int64_t* __restrict lane_pot) {
  F c;
  std::memcpy(&c, closest, sizeof c);
#ifdef ARCHETYPE_DQ_ROUNDING
  if constexpr (std::is_same<F, Lanes>::value)
    if (dq) return add_potential_dq(a, c, qc, dscale, lane_pot);
#endif
  (void)dq;
  F mn;
  if (!min_lanes(a, c, mn)) return;
  float v[G];
  std::memcpy(v, &mn, sizeof v);
  std::int64_t q[G];
  quantize_lanes(v, dscale, dq, q);
  for (std::size_t i = 0; i < G; ++i) lane_pot[i] += q[i] - qc[i];  // unused lanes: 0 - 0
}

/// Candidates whose per-lane potentials candidates_impl keeps at once.
constexpr int kLaneTrials = 32;

/// candidate_potentials for trials <= kLaneTrials; base: the block's
/// sum of q(closest) (unweighted only).
template <typename V, std::size_t D>
ARCHETYPE_INLINE void candidates_impl(const float* block, const float* rows, std::size_t d, std::size_t m,
                                      const float* cands, int trials, const float* __restrict closest,
                                      const float* __restrict padded, float dscale, const std::int32_t* w,
                                      std::int64_t base, const std::int64_t* qc, std::int64_t* __restrict pot,
                                      const CandidateDistances& keep) {
  alignas(64) std::int64_t lane_pot[kLaneTrials][G];
  for (int t = 0; t < trials; ++t)
    for (std::size_t i = 0; i < G; ++i) lane_pot[t][i] = 0;
  const bool dq = rounds_by_dq();
  // Candidate t's potential on group r0 (g used rows), whose distances are
  // a.  always_inline: a lambda is no clone of the function around it, and
  // out of line it would run baseline x86-64 code.
  auto add = [&](int t, std::size_t r0, std::size_t g, const typename V::F& a) __attribute__((always_inline)) {
    if (t < keep.trials) std::memcpy(keep.dists + static_cast<std::size_t>(t) * keep.stride + r0, &a, sizeof a);
    if (w) {
      add_weighted_potential(a, closest + r0, w + r0, g, dscale, pot[t]);
    } else {
      add_potential_lanes(a, padded + r0, qc + r0, dscale, dq, lane_pot[t]);
    }
  };
  float local[D > 0 ? D * G : 1];
  for (std::size_t r0 = 0; r0 < m; r0 += G) {
    const std::size_t g = std::min(G, m - r0);
    const float* xt = block + r0 * d;
    if (D > 0 && rows) {  // the rows in place (see closest_impl)
      transpose_group(rows + r0 * d, d, g, local);
      xt = local;
    }
    typename V::F a0, a1, a2, a3;
    int t = 0;
    if constexpr (D == 0 && std::is_same<V, OneRegister>::value)
      t = by_eights(xt, d, cands, trials, [&](int u, const Lanes& a) __attribute__((always_inline)) {
        add(u, r0, g, a);
      });
    for (; t + kTile <= trials; t += kTile) {
      const float* cc = cands + static_cast<std::size_t>(t) * d;
      distances4<D>(xt, d, cc, cc + d, cc + 2 * d, cc + 3 * d, a0, a1, a2, a3);
      add(t, r0, g, a0);
      add(t + 1, r0, g, a1);
      add(t + 2, r0, g, a2);
      add(t + 3, r0, g, a3);
    }
    if (D == 0) continue;  // the remaining candidates below, four groups at a time
    for (; t < trials; ++t) {
      distances1<D>(xt, d, cands + static_cast<std::size_t>(t) * d, a0);
      add(t, r0, g, a0);
    }
  }
  if (D == 0) {
    const std::size_t groups = (m + G - 1) / G;
    for (int t = trials / kTile * kTile; t < trials; ++t)
      for_groups_of_centre<V>(block, d, groups, cands + static_cast<std::size_t>(t) * d,
                              [&](std::size_t gi, const typename V::F& a) __attribute__((always_inline)) { add(t, gi * G, std::min(G, m - gi * G), a); });
  }
  if (w) return;
  for (int t = 0; t < trials; ++t) {
    std::int64_t sum = base;
    for (std::size_t i = 0; i < G; ++i) sum += lane_pot[t][i];
    pot[t] += sum;
  }
}

/// The sum of v's 16 lanes, by halves in registers (element by element GCC
/// stored the vector and added 16 values from memory).
ARCHETYPE_INLINE std::int32_t lane_total(const IntLanes& v) {
  typedef std::int32_t Eight __attribute__((vector_size(8 * sizeof(std::int32_t))));
  typedef std::int32_t Four __attribute__((vector_size(4 * sizeof(std::int32_t))));
  const Eight a = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7) +
                  __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
  const Four b = __builtin_shufflevector(a, a, 0, 1, 2, 3) + __builtin_shufflevector(a, a, 4, 5, 6, 7);
  return (b[0] + b[2]) + (b[1] + b[3]);
}

/// masked_sums at d = 2 with one register a group (AVX-512): up to
/// kRegisterClusters clusters per pass over the block, each one's count
/// and two sums in registers (24 of the 32), so that a group's labels and
/// features are loaded once for all of them, where one masked pass per
/// cluster loaded them once per cluster (the largest part of the batch
/// pass at 1,000,000 x 2, k = 5).  A block's last m mod 16 rows one by
/// one.  Integer sums under the same int32 bound: the same values.
constexpr int kRegisterClusters = 8;
ARCHETYPE_INLINE void masked_sums2_registers(const std::int32_t* __restrict lab, const std::int32_t* __restrict q,
                                             std::size_t m, std::size_t kk, int sign,
                                             std::int64_t* __restrict acc) {
  const std::int32_t* __restrict q0 = q;
  const std::int32_t* __restrict q1 = q + m;
  const std::size_t full = m / G * G;
  for (std::size_t c0 = 0; c0 < kk; c0 += kRegisterClusters) {
    const int nc = static_cast<int>(std::min<std::size_t>(kRegisterClusters, kk - c0));
    IntLanes cnt[kRegisterClusters], s0[kRegisterClusters], s1[kRegisterClusters];
    for (int c = 0; c < kRegisterClusters; ++c) cnt[c] = s0[c] = s1[c] = IntLanes{};  // (= {} became a memset)
    for (std::size_t r = 0; r < full; r += G) {
      IntLanes l, a, b;
      std::memcpy(&l, lab + r, sizeof l);
      std::memcpy(&a, q0 + r, sizeof a);
      std::memcpy(&b, q1 + r, sizeof b);
      // Unrolled, so that each cluster's accumulators are fixed registers;
      // the test on nc is the same on every group (predicted).
#pragma GCC unroll 8
      for (int c = 0; c < kRegisterClusters; ++c) {
        if (c < nc) {
          // Selects of sums, which GCC compiles to merge-masked additions
          // (one instruction each; `s += a & in` took two).
          const IntLanes in = l == static_cast<std::int32_t>(c0 + static_cast<std::size_t>(c));
          cnt[c] = in ? cnt[c] + 1 : cnt[c];
          s0[c] = in ? s0[c] + a : s0[c];
          s1[c] = in ? s1[c] + b : s1[c];
        }
      }
    }
    for (int c = 0; c < nc; ++c) {
      const std::size_t cl = c0 + static_cast<std::size_t>(c);
      std::int32_t n = lane_total(cnt[c]), t0 = lane_total(s0[c]), t1 = lane_total(s1[c]);
      for (std::size_t r = full; r < m; ++r)
        if (lab[r] == static_cast<std::int32_t>(cl)) {
          ++n;
          t0 += q0[r];
          t1 += q1[r];
        }
      acc[cl] += sign * static_cast<std::int64_t>(n);
      acc[kk + 2 * cl] += sign * static_cast<std::int64_t>(t0);
      acc[kk + 2 * cl + 1] += sign * static_cast<std::int64_t>(t1);
    }
  }
}

/// Sums of one block by one masked pass per cluster: fastest when k and d
/// are small (d = 2, k up to about 16), branch-free and vectorised.  In-block
/// sums fit an int32: m <= 256 values with |q| < 2^23 (kFeatureBits).
ARCHETYPE_INLINE void masked_sums(const std::int32_t* __restrict lab, const std::int32_t* __restrict q, std::size_t m,
                                  std::size_t d, std::size_t kk, int sign, std::int64_t* __restrict acc) {
  static_assert(kBlock <= 256, "int32 block sums need |sum| < 256 * 2^23 = 2^31");
  if (d == 2) {
    // On AVX-512 many clusters at a time; else one pass over the labels per
    // cluster for the count and both sums.
    if (lanes_in_one_register()) return masked_sums2_registers(lab, q, m, kk, sign, acc);
    const std::int32_t* __restrict q0 = q;
    const std::int32_t* __restrict q1 = q + m;
    for (std::size_t c = 0; c < kk; ++c) {
      const std::int32_t cl = static_cast<std::int32_t>(c);
      std::int32_t cnt = 0, s0 = 0, s1 = 0;
      for (std::size_t r = 0; r < m; ++r) {
        const std::int32_t in = -static_cast<std::int32_t>(lab[r] == cl);  // all ones when in cluster c
        cnt -= in;
        s0 += q0[r] & in;
        s1 += q1[r] & in;
      }
      acc[c] += sign * static_cast<std::int64_t>(cnt);
      acc[kk + 2 * c] += sign * static_cast<std::int64_t>(s0);
      acc[kk + 2 * c + 1] += sign * static_cast<std::int64_t>(s1);
    }
    return;
  }
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

/// Clusters x features that copy_sums' partial sums hold (the masked
/// regime's largest, sums_by_mask: kk (d + 1) <= 48).
constexpr std::size_t kCopyWidth = 48;

/// Rows of a block that one int32 partial sum takes: every row added to a
/// copy below is one of every kCopies, so a copy's sums stay under kBlock /
/// kCopies x 2^23 = 2^29.
constexpr std::size_t kCopies = 4;

/// masked_sums' result from the rows quantized row-major (q: m x d), for d
/// >= 3 in the masked regime: each row's d values added into its cluster's
/// int32 partial sums, rows taken in turn by kCopies copies of the sums, so
/// that rows of one cluster that follow each other add into different
/// memory (a single copy waits on the store of the previous row's sums:
/// a chain of store-to-load forwards).  About d / 8 vector adds a row,
/// where the masked passes cost kk (d + 1) / 8 of them (measured at d = 8,
/// k = 5: the masked passes took longer than the distances).  Integer
/// sums: the same result in any order.
template <std::size_t D>
ARCHETYPE_INLINE void copy_sums_d(const std::int32_t* __restrict lab, const std::int32_t* __restrict q, std::size_t m,
                                  std::size_t dd, std::size_t kk, int sign, std::int64_t* __restrict acc) {
  const std::size_t d = D > 0 ? D : dd;
  static_assert(kBlock / kCopies * (std::int64_t{1} << 23) < (std::int64_t{1} << 31), "int32 partial sums");
  alignas(64) std::int32_t part[kCopies][kCopyWidth];
  std::int32_t cnt[kCopies][kCopyWidth];
  const std::size_t width = kk * d;
  for (std::size_t t = 0; t < kCopies; ++t) {
    for (std::size_t i = 0; i < width; ++i) part[t][i] = 0;
    for (std::size_t c = 0; c < kk; ++c) cnt[t][c] = 0;
  }
  auto add = [&](std::size_t t, std::size_t r) __attribute__((always_inline)) {
    const std::int32_t c = lab[r];
    if (c < 0) return;
    std::int32_t* __restrict p = part[t] + static_cast<std::size_t>(c) * d;
    const std::int32_t* __restrict qr = q + r * d;
    if constexpr (D == 4 || D == 8) {
      // One vector (GCC otherwise adds the D values one by one).
      typedef std::int32_t Row __attribute__((vector_size(D * sizeof(std::int32_t))));
      Row a, b;
      std::memcpy(&a, p, sizeof a);
      std::memcpy(&b, qr, sizeof b);
      a += b;
      std::memcpy(p, &a, sizeof a);
    } else {
      for (std::size_t j = 0; j < d; ++j) p[j] += qr[j];
    }
    ++cnt[t][c];
  };
  std::size_t r = 0;
  for (; r + kCopies <= m; r += kCopies)
    for (std::size_t t = 0; t < kCopies; ++t) add(t, r + t);
  for (std::size_t t = 0; r < m; ++r, ++t) add(t, r);
  for (std::size_t c = 0; c < kk; ++c) {
    std::int64_t n = 0;
    for (std::size_t t = 0; t < kCopies; ++t) n += cnt[t][c];
    acc[c] += sign * n;
  }
  for (std::size_t i = 0; i < width; ++i) {
    std::int64_t v = 0;
    for (std::size_t t = 0; t < kCopies; ++t) v += part[t][i];
    acc[kk + i] += sign * v;
  }
}

/// copy_sums_d with d fixed at compile time for 4 and 8 features (a row's
/// adds one vector, no loop around them).
ARCHETYPE_INLINE void copy_sums(const std::int32_t* lab, const std::int32_t* q, std::size_t m, std::size_t d,
                                std::size_t kk, int sign, std::int64_t* acc) {
  switch (d) {
    case 4: return copy_sums_d<4>(lab, q, m, d, kk, sign, acc);
    case 8: return copy_sums_d<8>(lab, q, m, d, kk, sign, acc);
    default: return copy_sums_d<0>(lab, q, m, d, kk, sign, acc);
  }
}

/// masked_sums for a weighted block (s.wq: weights, then w x q per
/// feature): int64 lanes, since a product needs up to 54 bits.
ARCHETYPE_INLINE void masked_weighted_sums(const std::int32_t* __restrict lab, const std::int64_t* __restrict wq,
                                           std::size_t m, std::size_t d, std::size_t kk, int sign,
                                           std::int64_t* __restrict acc) {
  if (d == 2) {  // one pass over the labels per cluster for the weight and both sums
    const std::int64_t* __restrict w = wq;
    const std::int64_t* __restrict q0 = wq + m;
    const std::int64_t* __restrict q1 = wq + 2 * m;
    for (std::size_t c = 0; c < kk; ++c) {
      const std::int32_t cl = static_cast<std::int32_t>(c);
      std::int64_t cnt = 0, s0 = 0, s1 = 0;
      for (std::size_t r = 0; r < m; ++r) {
        const std::int64_t in = -static_cast<std::int64_t>(lab[r] == cl);  // all ones when in cluster c
        cnt += w[r] & in;
        s0 += q0[r] & in;
        s1 += q1[r] & in;
      }
      acc[c] += sign * cnt;
      acc[kk + 2 * c] += sign * s0;
      acc[kk + 2 * c + 1] += sign * s1;
    }
    return;
  }
  for (std::size_t c = 0; c < kk; ++c) {
    const std::int32_t cl = static_cast<std::int32_t>(c);
    for (std::size_t j = 0; j <= d; ++j) {
      std::int64_t sum = 0;
      const std::int64_t* vj = wq + j * m;
      for (std::size_t r = 0; r < m; ++r) sum += vj[r] & -static_cast<std::int64_t>(lab[r] == cl);
      acc[j == 0 ? c : kk + c * d + (j - 1)] += sign * sum;
    }
  }
}

template <typename V>
ARCHETYPE_INLINE void nearest_block_as(const float* xt, std::size_t d, std::size_t m, const float* centers, int k,
                                       std::int32_t* lab, float* best) {
  switch (d) {
    case 1: return nearest_impl<V, 1>(xt, nullptr, d, m, centers, k, lab, best);
    case 2: return nearest_impl<V, 2>(xt, nullptr, d, m, centers, k, lab, best);
    case 3: return nearest_impl<V, 3>(xt, nullptr, d, m, centers, k, lab, best);
    case 4: return nearest_impl<V, 4>(xt, nullptr, d, m, centers, k, lab, best);
    default: return nearest_wide<V>(xt, d, m, centers, k, lab, best);
  }
}

/// d <= 2 only: each group transposed in registers.
template <typename V>
ARCHETYPE_INLINE void nearest_rows_as(const float* x, std::size_t d, std::size_t m, const float* centers, int k,
                                      std::int32_t* lab, float* best) {
  if (d == 1) return nearest_impl<V, 1>(nullptr, x, d, m, centers, k, lab, best);
  nearest_impl<V, 2>(nullptr, x, d, m, centers, k, lab, best);
}

template <typename V>
ARCHETYPE_INLINE void closest_block_as(const float* xt, const float* rows, std::size_t d, std::size_t m,
                                       const float* centers, int k, bool init, float* closest) {
  switch (d) {
    case 1: return closest_impl<V, 1>(xt, rows, d, m, centers, k, init, closest);
    case 2: return closest_impl<V, 2>(xt, rows, d, m, centers, k, init, closest);
    default: return closest_wide<V>(xt, d, m, centers, k, init, closest);
  }
}

template <typename V>
ARCHETYPE_INLINE void candidate_potentials_as(const float* xt, const float* rows, std::size_t d, std::size_t m,
                                              const float* cands, int trials, const float* closest, float dscale,
                                              const std::int32_t* w, std::int64_t& current, std::int64_t* pot,
                                              const CandidateDistances& keep) {
  // Unweighted: the rows' closest distances padded with zeros to whole
  // groups (copied once: filled lane by lane under a bound test in every
  // group and candidate, GCC built each group's vector through scalar
  // stores that the vector load could not forward from, measured a fifth
  // of this kernel's time at d = 8), their q(closest), and its sum.
  alignas(64) std::int64_t qc[kBlock + G];
  alignas(64) float padded[kBlock + G];
  std::int64_t base = 0;
  if (w) {
    base = quantized_sum(closest, m, dscale, w);
  } else {
    const std::size_t groups = (m + G - 1) / G;
    std::memcpy(padded, closest, m * sizeof(float));
    std::fill(padded + m, padded + groups * G, 0.0f);
    // Summed per lane, then across: added straight into `base` GCC made it
    // 16 scalar additions a group, a quarter of this kernel at d = 2
    // (integers: any order gives the same sum).
    alignas(64) std::int64_t lane_base[G] = {};
    const bool dq = rounds_by_dq();
    for (std::size_t gi = 0; gi < groups; ++gi) {
      quantize_lanes(padded + gi * G, dscale, dq, qc + gi * G);
      for (std::size_t i = 0; i < G; ++i) lane_base[i] += qc[gi * G + i];
    }
    for (std::size_t i = 0; i < G; ++i) base += lane_base[i];
  }
  current += base;
  for (int t0 = 0; t0 < trials; t0 += kLaneTrials) {
    const int tt = std::min(kLaneTrials, trials - t0);
    const float* cc = cands + static_cast<std::size_t>(t0) * d;
    CandidateDistances kk = keep;  // this round's candidates t0.. as 0..
    kk.trials = std::max(0, keep.trials - t0);
    if (kk.trials > 0) kk.dists += static_cast<std::size_t>(t0) * keep.stride;
    switch (d) {
      case 1: candidates_impl<V, 1>(xt, rows, d, m, cc, tt, closest, padded, dscale, w, base, qc, pot + t0, kk); break;
      case 2: candidates_impl<V, 2>(xt, rows, d, m, cc, tt, closest, padded, dscale, w, base, qc, pot + t0, kk); break;
      default:
        candidates_impl<V, 0>(xt, nullptr, d, m, cc, tt, closest, padded, dscale, w, base, qc, pot + t0, kk);
        break;
    }
  }
}

/// nearest_block that also keeps each row's second smallest distance.
template <typename V>
ARCHETYPE_INLINE void nearest2_as(const float* xt_block, std::size_t d, std::size_t m, const float* centers, int k,
                                  std::int32_t* __restrict lab, float* __restrict best, float* __restrict second) {
  for (std::size_t r0 = 0; r0 < m; r0 += G) {
    const std::size_t g = std::min(G, m - r0);
    const float* xt = xt_block + r0 * d;
    typename V::F a0, a1, a2, a3, b, s2;
    fill(b, std::numeric_limits<float>::infinity());
    s2 = b;
    typename V::I l = {};
    int c = 0;
    for (; c + kTile <= k; c += kTile) {
      const float* cc = centers + static_cast<std::size_t>(c) * d;
      distances4<0>(xt, d, cc, cc + d, cc + 2 * d, cc + 3 * d, a0, a1, a2, a3);
      take_closer2(a0, c, b, s2, l);
      take_closer2(a1, c + 1, b, s2, l);
      take_closer2(a2, c + 2, b, s2, l);
      take_closer2(a3, c + 3, b, s2, l);
    }
    for (; c < k; ++c) {
      distances1<0>(xt, d, centers + static_cast<std::size_t>(c) * d, a0);
      take_closer2(a0, c, b, s2, l);
    }
    if (g == G) {
      std::memcpy(best + r0, &b, sizeof b);
      std::memcpy(second + r0, &s2, sizeof s2);
      std::memcpy(lab + r0, &l, sizeof l);
    } else {
      store_lanes(b, g, best + r0);
      store_lanes(s2, g, second + r0);
      store_int_lanes(l, g, lab + r0);
    }
  }
}

/// The smallest of 16 values (an exact minimum: any order gives it).
ARCHETYPE_INLINE float min16(const float* v) {
  HalfLanes lo, hi;
  std::memcpy(&lo, v, sizeof lo);
  std::memcpy(&hi, v + G / 2, sizeof hi);
  const HalfLanes m8 = lo < hi ? lo : hi;
  typedef float Quarter __attribute__((vector_size(4 * sizeof(float))));
  const Quarter a = __builtin_shufflevector(m8, m8, 0, 1, 2, 3), b = __builtin_shufflevector(m8, m8, 4, 5, 6, 7);
  const Quarter m4 = a < b ? a : b;
  const float m2a = m4[0] < m4[2] ? m4[0] : m4[2], m2b = m4[1] < m4[3] ? m4[1] : m4[3];
  return m2a < m2b ? m2a : m2b;
}

template <typename V>
ARCHETYPE_INLINE void rows_to_group_as(const float* x, std::size_t d, const std::int32_t* idx, std::size_t count,
                                       const float* ct, const float* thr, std::int32_t* lane, float* best,
                                       float* second) {
  // Eight rows a step in the one-register form (lane_squares8), four in
  // the two-register form.
  constexpr std::size_t R = kFormOf<typename V::F> == LaneForm::One ? 8 : 4;
  alignas(64) float out[R][G];
  for (std::size_t q0 = 0; q0 < count; q0 += R) {
    const std::size_t qn = std::min<std::size_t>(R, count - q0);
    const float* r[R];
    for (std::size_t q = 0; q < R; ++q)
      r[q] = x + static_cast<std::size_t>(idx[q0 + std::min(q, qn - 1)]) * d;
    // The centres in the lanes, the rows broadcast: (centre - row)^2, the
    // bits of squared_distance(row, centre) (see lane_squares8).
    if constexpr (R == 8) {
      lane_squares8(ct, d, r, out);
    } else {
      lane_squares4<0, LaneForm::Two>(ct, d, r[0], r[1], r[2], r[3], out[0], out[1], out[2], out[3]);
    }
    for (std::size_t q = 0; q < qn; ++q) {
      const float* v = out[q];
      const float b = min16(v);
      best[q0 + q] = b;
      // Above the row's threshold neither the lane nor the second is read.
      if (thr && b > thr[idx[q0 + q]]) {
        lane[q0 + q] = 0;
        second[q0 + q] = std::numeric_limits<float>::infinity();
        continue;
      }
      // The lowest lane among equal smallest values, as the kernels'
      // strict < keeps the lowest centre index.
      std::size_t at = 0;
      while (at + 1 < G && !(v[at] == b)) ++at;
      float s2 = std::numeric_limits<float>::infinity();
      for (std::size_t i = 0; i < G; ++i) s2 = (i != at && v[i] < s2) ? v[i] : s2;
      lane[q0 + q] = static_cast<std::int32_t>(at);
      second[q0 + q] = s2;
    }
  }
}

}  // namespace

ARCHETYPE_CLONES
void weigh_block(const float* x, const std::int32_t* w, std::size_t d, std::size_t m, float fscale, GroupScratch& s) {
  std::int64_t* __restrict wq = s.wq.data();
  for (std::size_t r = 0; r < m; ++r) wq[r] = w[r];
  for (std::size_t j = 0; j < d; ++j)
    for (std::size_t r = 0; r < m; ++r)
      wq[(j + 1) * m + r] = static_cast<std::int64_t>(w[r]) * quantize_feature(x[r * d + j], fscale);
}

ARCHETYPE_CLONES
void transpose_block(const float* x, std::size_t d, std::size_t m, GroupScratch& s) {
  for (std::size_t r0 = 0; r0 < m; r0 += G) transpose_group(x + r0 * d, d, std::min(G, m - r0), s.xt.data() + r0 * d);
}

ARCHETYPE_CLONES
void transpose_rows(const float* x, std::size_t d, std::size_t n, float* out, int threads) {
  const long long groups = static_cast<long long>((n + G - 1) / G);
#pragma omp parallel for schedule(static) num_threads(threads) if (n >= 32768)
  for (long long gi = 0; gi < groups; ++gi) {
    const std::size_t r0 = static_cast<std::size_t>(gi) * G;
    transpose_group(x + r0 * d, d, std::min(G, n - r0), out + r0 * d);
  }
}

// Each entry below runs its kernel with the lane form of this CPU (see
// OneRegister): one test per call, far from the inner loops.

ARCHETYPE_CLONES
void nearest_block(const float* xt, std::size_t d, std::size_t m, const float* centers, int k,
                   std::int32_t* lab, float* best) {
  if (lanes_in_one_register()) return nearest_block_as<OneRegister>(xt, d, m, centers, k, lab, best);
  nearest_block_as<TwoRegisters>(xt, d, m, centers, k, lab, best);
}

ARCHETYPE_CLONES
void nearest_rows(const float* x, std::size_t d, std::size_t m, const float* centers, int k, std::int32_t* lab,
                  float* best, GroupScratch& s) {
  if (d <= 2 && lanes_in_one_register()) return nearest_rows_as<OneRegister>(x, d, m, centers, k, lab, best);
  if (d <= 2) return nearest_rows_as<TwoRegisters>(x, d, m, centers, k, lab, best);
  transpose_block(x, d, m, s);
  nearest_block(s.xt.data(), d, m, centers, k, lab, best);
}

ARCHETYPE_CLONES
void closest_block(const float* xt, std::size_t d, std::size_t m, const float* centers, int k, bool init,
                   float* closest) {
  if (lanes_in_one_register()) return closest_block_as<OneRegister>(xt, nullptr, d, m, centers, k, init, closest);
  closest_block_as<TwoRegisters>(xt, nullptr, d, m, centers, k, init, closest);
}

ARCHETYPE_CLONES
void candidate_potentials(const float* xt, std::size_t d, std::size_t m, const float* cands, int trials,
                          const float* closest, float dscale, const std::int32_t* w, std::int64_t& current,
                          std::int64_t* pot, const CandidateDistances& keep) {
  if (lanes_in_one_register())
    return candidate_potentials_as<OneRegister>(xt, nullptr, d, m, cands, trials, closest, dscale, w, current, pot,
                                                keep);
  candidate_potentials_as<TwoRegisters>(xt, nullptr, d, m, cands, trials, closest, dscale, w, current, pot, keep);
}

ARCHETYPE_CLONES
void closest_rows(const float* x, std::size_t d, std::size_t m, const float* centers, int k, bool init,
                  float* closest, GroupScratch& s) {
  if (d <= 2 && lanes_in_one_register())
    return closest_block_as<OneRegister>(nullptr, x, d, m, centers, k, init, closest);
  if (d <= 2) return closest_block_as<TwoRegisters>(nullptr, x, d, m, centers, k, init, closest);
  transpose_block(x, d, m, s);
  closest_block(s.xt.data(), d, m, centers, k, init, closest);
}

ARCHETYPE_CLONES
void candidate_potentials_rows(const float* x, std::size_t d, std::size_t m, const float* cands, int trials,
                               const float* closest, float dscale, const std::int32_t* w, std::int64_t& current,
                               std::int64_t* pot, GroupScratch& s, const CandidateDistances& keep) {
  if (d <= 2 && lanes_in_one_register())
    return candidate_potentials_as<OneRegister>(nullptr, x, d, m, cands, trials, closest, dscale, w, current, pot,
                                                keep);
  if (d <= 2)
    return candidate_potentials_as<TwoRegisters>(nullptr, x, d, m, cands, trials, closest, dscale, w, current, pot,
                                                 keep);
  transpose_block(x, d, m, s);
  candidate_potentials(s.xt.data(), d, m, cands, trials, closest, dscale, w, current, pot, keep);
}

ARCHETYPE_CLONES
void fold_distances(const float* __restrict d2, std::size_t m, float* __restrict closest) {
  for (std::size_t i = 0; i < m; ++i) closest[i] = d2[i] < closest[i] ? d2[i] : closest[i];  // take_min's order
}

/// assigned_distances for the groups of one lane form: the centres of each
/// group's lanes transposed like the rows, then the lane sums of up to four
/// groups at a time (four independent fma chains; one group alone is one
/// chain, d fmas long, latency-bound).  Every lane's sum is
/// squared_distance() of its row and centre, in feature order.
template <typename V>
ARCHETYPE_INLINE void assigned_as(const float* xt_block, std::size_t d, std::size_t m, const float* centers,
                                  const std::int32_t* lab, float* d2, float* scratch) {
  constexpr std::size_t kGroups = 4;
  float* __restrict ct = scratch;  // kGroups x (G x d), transposed like the rows
  const std::size_t groups = (m + G - 1) / G;
  for (std::size_t q0 = 0; q0 < groups; q0 += kGroups) {
    const std::size_t qn = std::min(kGroups, groups - q0);
    const float* xq[kGroups];
    const float* cq[kGroups];
    for (std::size_t q = 0; q < kGroups; ++q) {
      // Missing groups of the last four repeat the last one (not stored).
      const std::size_t gi = q0 + std::min(q, qn - 1), r0 = gi * G, g = std::min(G, m - r0);
      xq[q] = xt_block + r0 * d;
      cq[q] = ct + q * G * d;
      if (q < qn) {
        const float* rows[G];
        for (std::size_t i = 0; i < G; ++i) rows[i] = centers + static_cast<std::size_t>(lab[r0 + std::min(i, g - 1)]) * d;
        transpose_rows16(rows, d, ct + q * G * d);
      }
    }
    float out[kGroups][G];
    if constexpr (kFormOf<typename V::F> == LaneForm::Two) {  // lanes as arrays of 8 (lane_squares.hpp)
      constexpr std::size_t H = G / 2;
      float l0[H] = {}, l1[H] = {}, l2[H] = {}, l3[H] = {}, h0[H] = {}, h1[H] = {}, h2[H] = {}, h3[H] = {};
      for (std::size_t j = 0; j < d; ++j) {
        const float *v0 = xq[0] + j * G, *v1 = xq[1] + j * G, *v2 = xq[2] + j * G, *v3 = xq[3] + j * G;
        const float *c0 = cq[0] + j * G, *c1 = cq[1] + j * G, *c2 = cq[2] + j * G, *c3 = cq[3] + j * G;
#pragma omp simd
        for (std::size_t i = 0; i < H; ++i) {
          l0[i] = add_square(v0[i] - c0[i], l0[i]);
          l1[i] = add_square(v1[i] - c1[i], l1[i]);
          l2[i] = add_square(v2[i] - c2[i], l2[i]);
          l3[i] = add_square(v3[i] - c3[i], l3[i]);
          h0[i] = add_square(v0[H + i] - c0[H + i], h0[i]);
          h1[i] = add_square(v1[H + i] - c1[H + i], h1[i]);
          h2[i] = add_square(v2[H + i] - c2[H + i], h2[i]);
          h3[i] = add_square(v3[H + i] - c3[H + i], h3[i]);
        }
      }
      std::memcpy(out[0], l0, sizeof l0), std::memcpy(out[0] + H, h0, sizeof h0);
      std::memcpy(out[1], l1, sizeof l1), std::memcpy(out[1] + H, h1, sizeof h1);
      std::memcpy(out[2], l2, sizeof l2), std::memcpy(out[2] + H, h2, sizeof h2);
      std::memcpy(out[3], l3, sizeof l3), std::memcpy(out[3] + H, h3, sizeof h3);
    } else {
      float a0[G] = {}, a1[G] = {}, a2[G] = {}, a3[G] = {};
      for (std::size_t j = 0; j < d; ++j) {
        const float *v0 = xq[0] + j * G, *v1 = xq[1] + j * G, *v2 = xq[2] + j * G, *v3 = xq[3] + j * G;
        const float *c0 = cq[0] + j * G, *c1 = cq[1] + j * G, *c2 = cq[2] + j * G, *c3 = cq[3] + j * G;
#pragma omp simd
        for (std::size_t i = 0; i < G; ++i) {
          a0[i] = add_square(v0[i] - c0[i], a0[i]);
          a1[i] = add_square(v1[i] - c1[i], a1[i]);
          a2[i] = add_square(v2[i] - c2[i], a2[i]);
          a3[i] = add_square(v3[i] - c3[i], a3[i]);
        }
      }
      std::memcpy(out[0], a0, sizeof a0);
      std::memcpy(out[1], a1, sizeof a1);
      std::memcpy(out[2], a2, sizeof a2);
      std::memcpy(out[3], a3, sizeof a3);
    }
    for (std::size_t q = 0; q < qn; ++q) {
      const std::size_t r0 = (q0 + q) * G, g = std::min(G, m - r0);
      std::copy(out[q], out[q] + g, d2 + r0);
    }
  }
}

ARCHETYPE_CLONES
void assigned_distances(const float* xt, std::size_t d, std::size_t m, const float* centers, const std::int32_t* lab,
                        float* d2, float* scratch) {
  if (lanes_in_one_register()) return assigned_as<OneRegister>(xt, d, m, centers, lab, d2, scratch);
  assigned_as<TwoRegisters>(xt, d, m, centers, lab, d2, scratch);
}

ARCHETYPE_CLONES
void nearest2_block(const float* xt, std::size_t d, std::size_t m, const float* centers, int k, std::int32_t* lab,
                    float* best, float* second) {
  if (lanes_in_one_register()) return nearest2_as<OneRegister>(xt, d, m, centers, k, lab, best, second);
  nearest2_as<TwoRegisters>(xt, d, m, centers, k, lab, best, second);
}

ARCHETYPE_CLONES
void rows_to_group(const float* x, std::size_t d, const std::int32_t* idx, std::size_t count, const float* ct,
                   const float* thr, std::int32_t* lane, float* best, float* second) {
  if (count == 0) return;
  if (lanes_in_one_register()) return rows_to_group_as<OneRegister>(x, d, idx, count, ct, thr, lane, best, second);
  rows_to_group_as<TwoRegisters>(x, d, idx, count, ct, thr, lane, best, second);
}

ARCHETYPE_CLONES
std::int64_t quantized_sum(const float* v, std::size_t m, float scale, const std::int32_t* w) {
  std::int64_t sum = 0;
  if (w) {
    for (std::size_t r = 0; r < m; ++r) sum += static_cast<std::int64_t>(w[r]) * quantize_distance(v[r], scale);
    return sum;
  }
  return sum_quantized(v, m, scale);
}

ARCHETYPE_CLONES
void quantize_block(const float* x, std::size_t d, std::size_t m, float fscale, GroupScratch& s) {
  std::int32_t* __restrict q = s.q.data();
  if (s.xt_block) {
    // From the transposed block (in cache after the distances): each
    // group's feature j is 16 contiguous values, one vector.  From the rows
    // GCC gathered them value by value (at d = 2 with n_init 1, 9% of a
    // k-means++ fit's samples).
    const float* __restrict xt = s.xt_block;
#ifdef ARCHETYPE_DQ_ROUNDING
    const bool dq = rounds_by_dq();
#endif
    for (std::size_t r0 = 0; r0 < m; r0 += G) {
      const std::size_t g = std::min(G, m - r0);
      const float* __restrict blk = xt + r0 * d;
      for (std::size_t j = 0; j < d; ++j) {
        std::int32_t* __restrict out = q + j * m + r0;
        if (g == G) {
#ifdef ARCHETYPE_DQ_ROUNDING
          if (dq) {
            quantize_features_dq(blk + j * G, fscale, out);
            continue;
          }
#endif
          for (std::size_t i = 0; i < G; ++i) out[i] = quantize_feature(blk[j * G + i], fscale);
        } else {
          for (std::size_t i = 0; i < g; ++i) out[i] = quantize_feature(blk[j * G + i], fscale);
        }
      }
    }
    return;
  }
  for (std::size_t j = 0; j < d; ++j)
    for (std::size_t r = 0; r < m; ++r) q[j * m + r] = quantize_feature(x[r * d + j], fscale);
}

bool sums_by_mask(std::size_t kk, std::size_t d) { return kk * (d + 1) <= kCopyWidth; }

bool sums_by_columns(std::size_t kk, std::size_t d) { return d <= 2 && sums_by_mask(kk, d); }

ARCHETYPE_CLONES
const std::int32_t* quantized_rows(const float* x, std::size_t d, std::size_t m, float fscale, GroupScratch& s) {
  if (s.qr_block == x) return s.qr.data();
  std::int32_t* __restrict q = s.qr.data();
  if (s.xt_block) {
    // From the transposed block (in cache after the distances).  A whole
    // group goes back to rows 16 features at a time, a 16 x 16 tile
    // transposed in registers (transpose_rows16 with the features as its
    // rows), each row's 16 values then quantized and stored together.
    // Feature by feature, each quantized vector went out as 16 scalar
    // stores d values apart: 22% of a 17,000 x 1024 fit, where those 16
    // rows' lines (4 KB apart) share one L1 set.  The rest of the
    // features, and a last partial group, feature by feature.
    const float* __restrict xt = s.xt_block;
    for (std::size_t r0 = 0; r0 < m; r0 += G) {
      const std::size_t g = std::min(G, m - r0);
      const float* __restrict blk = xt + r0 * d;
      std::int32_t* __restrict qg = q + r0 * d;
      std::size_t j0 = 0;
      if (g == G) {
        alignas(64) float tile[G * G];
        for (; j0 + G <= d; j0 += G) {
          const float* features[G];
          for (std::size_t f = 0; f < G; ++f) features[f] = blk + (j0 + f) * G;
          transpose_rows16(features, G, tile);  // tile[i * G + f] = feature j0 + f of row i
          for (std::size_t i = 0; i < G; ++i)
            for (std::size_t f = 0; f < G; ++f) qg[i * d + j0 + f] = quantize_feature(tile[i * G + f], fscale);
        }
      }
      for (std::size_t j = j0; j < d; ++j) {
        std::int32_t v[G];
        for (std::size_t i = 0; i < G; ++i) v[i] = quantize_feature(blk[j * G + i], fscale);
        for (std::size_t i = 0; i < g; ++i) qg[i * d + j] = v[i];
      }
    }
  } else {
    const float* __restrict xx = x;
    for (std::size_t i = 0; i < m * d; ++i) q[i] = quantize_feature(xx[i], fscale);
  }
  s.qr_block = x;
  return q;
}

ARCHETYPE_CLONES
void add_cluster_sums(const float* x, std::size_t d, std::size_t m, const std::int32_t* lab, const std::int32_t* w,
                      float fscale, std::size_t kk, int sign, std::int64_t* acc, GroupScratch& s, bool quantized) {
  if (w) {
    // Weighted: the block's weights and products w x q (int64: no int32
    // bound on a block of them), then masked sums or a scatter as below.
    if (!quantized) weigh_block(x, w, d, m, fscale, s);
    const std::int64_t* __restrict wq = s.wq.data();
    if (sums_by_mask(kk, d)) {
      masked_weighted_sums(lab, wq, m, d, kk, sign, acc);
      return;
    }
    for (std::size_t r = 0; r < m; ++r) {
      const std::int32_t c = lab[r];
      if (c < 0) continue;
      std::int64_t* __restrict a = acc + kk + static_cast<std::size_t>(c) * d;
      acc[c] += sign * wq[r];
      for (std::size_t j = 0; j < d; ++j) a[j] += sign * wq[(j + 1) * m + r];
    }
    return;
  }
  if (sums_by_mask(kk, d) && !sums_by_columns(kk, d)) {
    // Small k, three or more features: partial sums per row (copy_sums).
    copy_sums(lab, quantized_rows(x, d, m, fscale, s), m, d, kk, sign, acc);
    return;
  }
  if (sums_by_mask(kk, d)) {
    // Small k and d <= 2: the block quantized feature-major, one masked pass
    // per cluster (both features in it).
    if (!quantized) quantize_block(x, d, m, fscale, s);
    masked_sums(lab, s.q.data(), m, d, kk, sign, acc);
    return;
  }
  // Otherwise scatter each row into its cluster's sums: O(d) per row for any
  // k, from the block quantized once (quantized_rows) for every model.
  const std::int32_t* __restrict q = quantized_rows(x, d, m, fscale, s);
  for (std::size_t r = 0; r < m; ++r) {
    const std::int32_t c = lab[r];
    if (c < 0) continue;
    const std::int32_t* __restrict qrow = q + r * d;
    std::int64_t* __restrict a = acc + kk + static_cast<std::size_t>(c) * d;
    acc[c] += sign;
    if (sign > 0) {
      for (std::size_t j = 0; j < d; ++j) a[j] += qrow[j];
    } else {
      for (std::size_t j = 0; j < d; ++j) a[j] -= qrow[j];
    }
  }
}

}  // namespace archetype::cpu
