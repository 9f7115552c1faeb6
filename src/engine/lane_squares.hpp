// The inner loop shared by the CPU block kernels (cpu_kernels.cpp) and the
// exact silhouette (cpu_silhouette.cpp): squared distances of 16 rows held
// feature-major (one SIMD lane each) to four other rows, every lane's sum
// exactly squared_distance() (archetype/distance.hpp).  Private to src/.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "archetype/distance.hpp"

namespace archetype::cpu {

/// Rows per SIMD group: one AVX-512 register of floats.
constexpr std::size_t kLaneRows = 16;

/// `native`, or its opposite under ARCHETYPE_CPU_LANES=other: the tests
/// (cpu_lanes_other) run every path this CPU would not take.
inline bool unless_other_form(bool native) {
  const char* force = std::getenv("ARCHETYPE_CPU_LANES");
  return force && std::strcmp(force, "other") == 0 ? !native : native;
}

/// True where a group's 16 lanes fit one vector register (AVX-512).
/// Without it (AVX2: two registers of 8) GCC keeps arrays of 16 lane sums
/// in memory across the feature loop: every step of a long sum then waits
/// for a store and a reload (measured: the AVX2 clone of the Lloyd pass at
/// d = 256 ran at about half the speed of the same loop with its sums split
/// into two arrays of 8, which GCC keeps in registers).  The split form
/// computes each lane's sum with the same operations in the same order, so
/// both forms give the same bits; this only picks the faster one.  A
/// run-time test (target_clones builds one source for every instruction
/// set), read once per call of a kernel below, far from the inner loop.
/// ARCHETYPE_CPU_LANES=one or two forces either form, `other` the one this
/// CPU would not pick (tests: both forms on any CPU must give the same bits;
/// the other form only runs slower).
inline bool lanes_in_one_register() {
  static const bool one = [] {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
    const bool native = static_cast<bool>(__builtin_cpu_supports("avx512f"));
#else
    const bool native = true;
#endif
    const char* force = std::getenv("ARCHETYPE_CPU_LANES");
    if (force && std::strcmp(force, "one") == 0) return true;
    if (force && std::strcmp(force, "two") == 0) return false;
    return unless_other_form(native);
  }();
  return one;
}

/// Which form lane_squares4 / lane_squares1 compute their 16 lane sums in
/// (both give the same bits): `One` array of 16 (one AVX-512 register) or
/// `Two` arrays of 8 (two AVX2 registers).  Every kernel is compiled once
/// per form (cpu_kernels.cpp's OneRegister / TwoRegisters, the silhouette's
/// `_as<L>` helpers) and lanes_in_one_register() picks one at the kernel's
/// entry.  There is no run-time form: with the test inside a loop, GCC
/// allocated the registers of both loops worse than either alone (the
/// silhouette's plain path at 27,386 x 16 on AVX2 ran 1.6-1.9x slower than
/// with the form fixed).
enum class LaneForm { One, Two };

/// Whether form L computes a d read at run time (D == 0) as two arrays of 8.
template <std::size_t D, LaneForm L>
constexpr bool split_lanes() {
  return D == 0 && L == LaneForm::Two;
}

/// s_t[i] = squared_distance(lane i of xt, row t) for the four rows c0..c3
/// (d floats each), xt holding feature j of lane i at xt[j * 16 + i]: each
/// load of the lanes' features serves four rows.  D > 0 fixes d at compile
/// time (small d unrolled); D == 0 reads it from d.  Plain arrays under
/// `omp simd`: the form in which GCC vectorises add_square into fmas.
/// Form L (see LaneForm) for a d read at run time (D == 0); the unrolled
/// small-d instantiations keep their registers in the one-array form
/// either way.
template <std::size_t D, LaneForm L>
inline __attribute__((always_inline)) void lane_squares4(const float* __restrict xt, std::size_t d, const float* c0,
                                                         const float* c1, const float* c2, const float* c3,
                                                         float* __restrict s0, float* __restrict s1,
                                                         float* __restrict s2, float* __restrict s3) {
  constexpr std::size_t G = kLaneRows;
  const std::size_t dd = D > 0 ? D : d;
  if constexpr (split_lanes<D, L>()) {
    constexpr std::size_t H = G / 2;  // lanes [0, H) and [H, G) in separate arrays
    float l0[H] = {}, l1[H] = {}, l2[H] = {}, l3[H] = {}, h0[H] = {}, h1[H] = {}, h2[H] = {}, h3[H] = {};
    for (std::size_t j = 0; j < dd; ++j) {
      const float* xv = xt + j * G;
      const float b0 = c0[j], b1 = c1[j], b2 = c2[j], b3 = c3[j];
#pragma omp simd
      for (std::size_t i = 0; i < H; ++i) {
        const float v = xv[i], w = xv[H + i];
        l0[i] = add_square(v - b0, l0[i]);
        l1[i] = add_square(v - b1, l1[i]);
        l2[i] = add_square(v - b2, l2[i]);
        l3[i] = add_square(v - b3, l3[i]);
        h0[i] = add_square(w - b0, h0[i]);
        h1[i] = add_square(w - b1, h1[i]);
        h2[i] = add_square(w - b2, h2[i]);
        h3[i] = add_square(w - b3, h3[i]);
      }
    }
    std::memcpy(s0, l0, sizeof l0), std::memcpy(s0 + H, h0, sizeof h0);
    std::memcpy(s1, l1, sizeof l1), std::memcpy(s1 + H, h1, sizeof h1);
    std::memcpy(s2, l2, sizeof l2), std::memcpy(s2 + H, h2, sizeof h2);
    std::memcpy(s3, l3, sizeof l3), std::memcpy(s3 + H, h3, sizeof h3);
  } else {
    for (std::size_t i = 0; i < G; ++i) s0[i] = s1[i] = s2[i] = s3[i] = 0.0f;
    for (std::size_t j = 0; j < dd; ++j) {
      const float* xv = xt + j * G;
      const float b0 = c0[j], b1 = c1[j], b2 = c2[j], b3 = c3[j];
#pragma omp simd
      for (std::size_t i = 0; i < G; ++i) {
        const float v = xv[i];
        s0[i] = add_square(v - b0, s0[i]);
        s1[i] = add_square(v - b1, s1[i]);
        s2[i] = add_square(v - b2, s2[i]);
        s3[i] = add_square(v - b3, s3[i]);
      }
    }
  }
}

/// s[q][i] = squared_distance(lane i of xt, row c[q]) for eight rows, in
/// the one-array form only (eight accumulators of 16 lanes and the
/// broadcasts fit AVX-512's 32 registers, not AVX2's 16): eight independent
/// fma chains, where lane_squares4's four wait on the fma latency at every
/// feature (measured 11-21% slower at d = 32..1,024).  Since a rounded
/// difference only changes sign when its operands swap, (row - lane)^2 has
/// the bits of (lane - row)^2: the rows may be the centres and the lanes the
/// data, or the other way round (rows_to_group).
inline __attribute__((always_inline)) void lane_squares8(const float* __restrict xt, std::size_t d,
                                                         const float* const* c, float (*s)[kLaneRows]) {
  constexpr std::size_t G = kLaneRows;
  const float *__restrict b0 = c[0], *__restrict b1 = c[1], *__restrict b2 = c[2], *__restrict b3 = c[3];
  const float *__restrict b4 = c[4], *__restrict b5 = c[5], *__restrict b6 = c[6], *__restrict b7 = c[7];
  float a0[G] = {}, a1[G] = {}, a2[G] = {}, a3[G] = {}, a4[G] = {}, a5[G] = {}, a6[G] = {}, a7[G] = {};
  for (std::size_t j = 0; j < d; ++j) {
    const float* xv = xt + j * G;
    const float v0 = b0[j], v1 = b1[j], v2 = b2[j], v3 = b3[j], v4 = b4[j], v5 = b5[j], v6 = b6[j], v7 = b7[j];
#pragma omp simd
    for (std::size_t i = 0; i < G; ++i) {
      const float v = xv[i];
      a0[i] = add_square(v - v0, a0[i]);
      a1[i] = add_square(v - v1, a1[i]);
      a2[i] = add_square(v - v2, a2[i]);
      a3[i] = add_square(v - v3, a3[i]);
      a4[i] = add_square(v - v4, a4[i]);
      a5[i] = add_square(v - v5, a5[i]);
      a6[i] = add_square(v - v6, a6[i]);
      a7[i] = add_square(v - v7, a7[i]);
    }
  }
  std::memcpy(s[0], a0, sizeof a0);
  std::memcpy(s[1], a1, sizeof a1);
  std::memcpy(s[2], a2, sizeof a2);
  std::memcpy(s[3], a3, sizeof a3);
  std::memcpy(s[4], a4, sizeof a4);
  std::memcpy(s[5], a5, sizeof a5);
  std::memcpy(s[6], a6, sizeof a6);
  std::memcpy(s[7], a7, sizeof a7);
}

/// s[i] = squared_distance(lane i of xt, row c), the same way.
template <std::size_t D, LaneForm L>
inline __attribute__((always_inline)) void lane_squares1(const float* __restrict xt, std::size_t d, const float* c,
                                                         float* __restrict s) {
  constexpr std::size_t G = kLaneRows;
  const std::size_t dd = D > 0 ? D : d;
  if constexpr (split_lanes<D, L>()) {
    constexpr std::size_t H = G / 2;
    float lo[H] = {}, hi[H] = {};
    for (std::size_t j = 0; j < dd; ++j) {
      const float* xv = xt + j * G;
      const float b = c[j];
#pragma omp simd
      for (std::size_t i = 0; i < H; ++i) {
        lo[i] = add_square(xv[i] - b, lo[i]);
        hi[i] = add_square(xv[H + i] - b, hi[i]);
      }
    }
    std::memcpy(s, lo, sizeof lo), std::memcpy(s + H, hi, sizeof hi);
  } else {
    for (std::size_t i = 0; i < G; ++i) s[i] = 0.0f;
    for (std::size_t j = 0; j < dd; ++j) {
      const float* xv = xt + j * G;
      const float b = c[j];
#pragma omp simd
      for (std::size_t i = 0; i < G; ++i) s[i] = add_square(xv[i] - b, s[i]);
    }
  }
}

/// Eight floats: half a group, one AVX2 register.
typedef float HalfGroup __attribute__((vector_size(kLaneRows / 2 * sizeof(float))));

/// out[j * 16 + i] = rows[i][j] for i, j < 16 (16 x 16 floats), in 8 x 8
/// quarters: the form for CPUs without AVX-512 (lanes_in_one_register()
/// false), where GCC expands every shuffle of a 16-float vector element by
/// element but an 8-float one stays in a register.  Each quarter: three
/// rounds of "zip row i with row i + 4" (each round rotates the bits of the
/// index).  Only moves values: any form gives the same bits.
inline __attribute__((always_inline)) void transpose16_by_quarters(const float* const* rows,
                                                                   float* __restrict out) {
  constexpr std::size_t H = kLaneRows / 2;
  for (std::size_t hj = 0; hj < 2; ++hj) {    // columns [8 hj, 8 hj + 8)
    for (std::size_t hi = 0; hi < 2; ++hi) {  // rows [8 hi, 8 hi + 8)
      HalfGroup r[H], t[H];
      for (std::size_t i = 0; i < H; ++i) std::memcpy(&r[i], rows[H * hi + i] + H * hj, sizeof r[i]);
      for (int round = 0; round < 3; ++round) {
        for (std::size_t i = 0; i < H / 2; ++i) {
          t[2 * i] = __builtin_shufflevector(r[i], r[i + H / 2], 0, 8, 1, 9, 2, 10, 3, 11);
          t[2 * i + 1] = __builtin_shufflevector(r[i], r[i + H / 2], 4, 12, 5, 13, 6, 14, 7, 15);
        }
        for (std::size_t i = 0; i < H; ++i) r[i] = t[i];
      }
      for (std::size_t j = 0; j < H; ++j) std::memcpy(out + (H * hj + j) * kLaneRows + H * hi, &r[j], sizeof r[j]);
    }
  }
}

}  // namespace archetype::cpu
