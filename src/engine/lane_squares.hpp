// The inner loop shared by the CPU block kernels (cpu_kernels.cpp) and the
// exact silhouette (cpu_silhouette.cpp): squared distances of 16 rows held
// feature-major (one SIMD lane each) to four other rows, every lane's sum
// exactly squared_distance() (archetype/distance.hpp).  Private to src/.
#pragma once

#include <cstddef>

#include "archetype/distance.hpp"

namespace archetype::cpu {

/// Rows per SIMD group: one AVX-512 register of floats.
constexpr std::size_t kLaneRows = 16;

/// s_t[i] = squared_distance(lane i of xt, row t) for the four rows c0..c3
/// (d floats each), xt holding feature j of lane i at xt[j * 16 + i]: each
/// load of the lanes' features serves four rows.  D > 0 fixes d at compile
/// time (small d unrolled); D == 0 reads it from d.  Plain arrays under
/// `omp simd`: the form in which GCC vectorises add_square into fmas.
template <std::size_t D>
inline __attribute__((always_inline)) void lane_squares4(const float* __restrict xt, std::size_t d, const float* c0,
                                                         const float* c1, const float* c2, const float* c3,
                                                         float* __restrict s0, float* __restrict s1,
                                                         float* __restrict s2, float* __restrict s3) {
  constexpr std::size_t G = kLaneRows;
  const std::size_t dd = D > 0 ? D : d;
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

/// s[i] = squared_distance(lane i of xt, row c), the same way.
template <std::size_t D>
inline __attribute__((always_inline)) void lane_squares1(const float* __restrict xt, std::size_t d, const float* c,
                                                         float* __restrict s) {
  constexpr std::size_t G = kLaneRows;
  const std::size_t dd = D > 0 ? D : d;
  for (std::size_t i = 0; i < G; ++i) s[i] = 0.0f;
  for (std::size_t j = 0; j < dd; ++j) {
    const float* xv = xt + j * G;
    const float b = c[j];
#pragma omp simd
    for (std::size_t i = 0; i < G; ++i) s[i] = add_square(xv[i] - b, s[i]);
  }
}

}  // namespace archetype::cpu
