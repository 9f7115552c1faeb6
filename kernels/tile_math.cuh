// Device building blocks of the tile kernels (Lloyd, k-means++): a row held
// in registers (small d, compile-time) or read from the shared tile
// (generic d), four centres at a time from feature-major shared groups, and
// the warp-aggregated exact sums.  Every distance is squared_distance()'s
// operations (distance.hpp): s = 0; for j = 0..d-1: s = add_square(x_j - c_j, s).
// Private to kernels/.
#pragma once

#include <cuda_runtime.h>

#include <cmath>

#include "archetype/distance.hpp"
#include "launch_plan.hpp"

namespace archetype::cuda {

using ull = unsigned long long;

__device__ __forceinline__ long long warp_sum(long long v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

/// Row r of the tile (rows[j * stride + r]).  D > 0: exactly D features,
/// copied to registers once per use; D == 0: any d, read from shared memory.
template <int D>
struct Row {
  float v[D];
  __device__ __forceinline__ void load(const float* rows, int stride, int r, int) {
#pragma unroll
    for (int j = 0; j < D; ++j) v[j] = rows[j * stride + r];
  }
  __device__ __forceinline__ float at(int j) const { return v[j]; }
};
template <>
struct Row<0> {
  const float* p = nullptr;
  int stride = 0;
  __device__ __forceinline__ void load(const float* rows, int s, int r, int) {
    p = rows + r;
    stride = s;
  }
  __device__ __forceinline__ float at(int j) const { return p[static_cast<std::size_t>(j) * stride]; }
};

/// Squared distances of a row to centres c .. c + 3 of a feature-major group
/// (g[j * stride + c], 16-byte aligned: stride and c are multiples of 4):
/// four independent chains, each in feature order.
template <int D>
__device__ __forceinline__ void distances4(const Row<D>& row, int d, const float* g, int stride, int c, float (&s)[4]) {
  s[0] = s[1] = s[2] = s[3] = 0.0f;
  if constexpr (D > 0) {
#pragma unroll
    for (int j = 0; j < D; ++j) {
      const float4 cv = *reinterpret_cast<const float4*>(g + j * stride + c);
      const float x = row.at(j);
      s[0] = add_square(x - cv.x, s[0]);
      s[1] = add_square(x - cv.y, s[1]);
      s[2] = add_square(x - cv.z, s[2]);
      s[3] = add_square(x - cv.w, s[3]);
    }
  } else {
#pragma unroll 4
    for (int j = 0; j < d; ++j) {
      const float4 cv = *reinterpret_cast<const float4*>(g + static_cast<std::size_t>(j) * stride + c);
      const float x = row.at(j);
      s[0] = add_square(x - cv.x, s[0]);
      s[1] = add_square(x - cv.y, s[1]);
      s[2] = add_square(x - cv.z, s[2]);
      s[3] = add_square(x - cv.w, s[3]);
    }
  }
}

/// Nearest of the gk centres of a group (global indices c0 ..): strict <
/// in increasing index, so ties keep the lowest index as on the CPU.
template <int D>
__device__ __forceinline__ void nearest_in_group(const Row<D>& row, int d, const float* g, int stride, int gk, int c0,
                                                 float& best, int& label) {
  for (int c = 0; c < gk; c += kCentreBlock) {
    float s[4];
    distances4<D>(row, d, g, stride, c, s);
#pragma unroll
    for (int u = 0; u < 4; ++u)
      if (c + u < gk && s[u] < best) {
        best = s[u];
        label = c0 + c + u;
      }
  }
}

/// The smallest squared distance to the gk centres of a group (a min is
/// exact, so this equals the CPU's closest).
template <int D>
__device__ __forceinline__ float closest_in_group(const Row<D>& row, int d, const float* g, int stride, int gk,
                                                  float closest) {
  for (int c = 0; c < gk; c += kCentreBlock) {
    float s[4];
    distances4<D>(row, d, g, stride, c, s);
#pragma unroll
    for (int u = 0; u < 4; ++u)
      if (c + u < gk) closest = s[u] < closest ? s[u] : closest;
  }
  return closest;
}

/// Copies gk row-major centres (d floats each) into a feature-major group
/// of `stride` columns; the padding columns up to a multiple of 4 get zeros
/// (computed, never chosen).  All threads of the block take part.
__device__ __forceinline__ void load_group(float* g, int stride, const float* src, int gk, int d) {
  const int cols = pad_centres(gk);
  const int count = cols * d;
  for (int i = threadIdx.x; i < count; i += blockDim.x) {
    const int c = i / d, j = i - c * d;
    g[j * stride + c] = c < gk ? src[static_cast<std::size_t>(c) * d + j] : 0.0f;
  }
}

/// One group of a model's n vectors (centres or candidates) in shared memory.
struct Group {
  const float* p;  ///< feature-major: p[j * stride + c]
  int stride, count, first;
};

/// Groups of a model's n vectors: one when resident (group == 0; none when
/// n == 0), else ceil(n / group).
__device__ __forceinline__ int group_count(int n, int group) {
  return group == 0 ? (n > 0 ? 1 : 0) : (n + group - 1) / group;
}

/// Group g: the resident copy (stride pad_centres(n)), or, streaming, the
/// vectors [g * group, ..) of src (row-major) loaded into cbuf by the whole
/// block between two barriers.  Block-uniform calls only.
__device__ __forceinline__ Group select_group(float* cbuf, const float* resident, const float* src, int n, int group,
                                              int g, int d) {
  if (group == 0) return {resident, pad_centres(n), n, 0};
  const int first = g * group, count = min(group, n - first);
  __syncthreads();  // every thread is done with the previous group
  load_group(cbuf, group, src + static_cast<std::size_t>(first) * d, count, d);
  __syncthreads();
  return {cbuf, group, count, first};
}

/// Exact int32 sum over the lanes of `peers` (all calling together):
/// __reduce_add_sync on sm_80+, shuffles within the group before.  The
/// values are quantized features (|q| < 2^23), so 32 of them fit.
__device__ __forceinline__ int group_sum(unsigned peers, int v) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  return __reduce_add_sync(peers, v);
#else
  int s = 0;
  for (unsigned m = peers; m; m &= m - 1) s += __shfl_sync(peers, v, __ffs(m) - 1);
  return s;
#endif
}

/// Exact int64 sum over the lanes of `peers` (all calling together): the
/// weighted values w x q, beyond int32.  One shuffle per peer.
__device__ __forceinline__ long long group_sum64(unsigned peers, long long v) {
  long long s = 0;
  for (unsigned m = peers; m; m &= m - 1) s += __shfl_sync(peers, v, __ffs(m) - 1);
  return s;
}

}  // namespace archetype::cuda
