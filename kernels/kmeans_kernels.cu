// K-Means passes on the GPU: fused nearest-centre assignment + exact
// per-cluster sums, k-means++ potentials, dispersion.  The float operations
// are those of archetype/distance.hpp (compiled with --fmad=false) and the
// rounding of __float2int_rn / __float2ll_rn is fixed_point.hpp's, so every
// integer sum equals the CPU backend's bit for bit; the atomics' order does
// not matter because integer addition is exact.
#include <cuda_runtime.h>

#include <cmath>

#include "archetype/distance.hpp"
#include "cuda_check.cuh"
#include "kernels.cuh"

namespace archetype::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kMaxTileRows = 2048;
constexpr std::size_t kSharedBudget = 48 * 1024;

using ull = unsigned long long;

__device__ __forceinline__ long long warp_sum(long long v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

/// Shared-memory layout of the tile kernels, all offsets 8-byte aligned:
/// [k*(v+1) int64 block sums][v*tile int64 row values][k*d float centres][tile int32 labels].
struct TileLayout {
  long long* sacc;
  long long* svals;
  float* centers;
  int* labels;
};

__device__ TileLayout tile_layout(unsigned char* smem, int k, int d, int v, int tile) {
  TileLayout t;
  t.sacc = reinterpret_cast<long long*>(smem);
  t.svals = t.sacc + k * (v + 1);
  t.centers = reinterpret_cast<float*>(t.svals + static_cast<std::size_t>(v) * tile);
  const std::size_t cbytes = ((static_cast<std::size_t>(k) * d * sizeof(float)) + 7) / 8 * 8;
  t.labels = reinterpret_cast<int*>(reinterpret_cast<unsigned char*>(t.centers) + cbytes);
  return t;
}

/// Values per row that reduce_tile keeps in registers (larger v falls back
/// to one slot per warp).
constexpr int kMaxRegisterValues = 8;

/// Adds to sacc the per-cluster count (slot c*(v+1)) and sums of the v
/// values (slots c*(v+1)+1+j) of the m rows of the tile.  One warp per
/// cluster: it reads every row's label once and the values of its own rows
/// only, so shared-memory traffic per row is about k labels plus v values.
/// Each slot has a single writer, so no atomics are needed here.
__device__ void reduce_tile(const TileLayout& t, int tile, int m, int k, int v) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, nwarps = blockDim.x / 32;
  if (v <= kMaxRegisterValues) {
    for (int c = warp; c < k; c += nwarps) {
      long long count = 0, sum[kMaxRegisterValues];
#pragma unroll
      for (int j = 0; j < kMaxRegisterValues; ++j) sum[j] = 0;
      for (int r = lane; r < m; r += 32) {
        if (t.labels[r] != c) continue;
        ++count;
#pragma unroll
        for (int j = 0; j < kMaxRegisterValues; ++j)
          if (j < v) sum[j] += t.svals[static_cast<std::size_t>(j) * tile + r];
      }
      count = warp_sum(count);
      if (lane == 0) t.sacc[c * (v + 1)] += count;
#pragma unroll
      for (int j = 0; j < kMaxRegisterValues; ++j) {
        if (j < v) {
          const long long s = warp_sum(sum[j]);
          if (lane == 0) t.sacc[c * (v + 1) + 1 + j] += s;
        }
      }
    }
    return;
  }
  const int slots = k * (v + 1);
  for (int s = warp; s < slots; s += nwarps) {
    const int c = s / (v + 1), j = s % (v + 1);
    long long sum = 0;
    for (int r = lane; r < m; r += 32)
      if (t.labels[r] == c) sum += j == 0 ? 1 : t.svals[static_cast<std::size_t>(j - 1) * tile + r];
    sum = warp_sum(sum);
    if (lane == 0) t.sacc[s] += sum;
  }
}

/// Block sums to the global accumulators (layout of kernels.cuh).
__device__ void flush_tile_sums(const TileLayout& t, int k, int v, ull* acc) {
  for (int s = threadIdx.x; s < k * (v + 1); s += blockDim.x) {
    const int c = s / (v + 1), j = s % (v + 1);
    const int idx = j == 0 ? c : k + c * v + (j - 1);
    atomicAdd(&acc[idx], static_cast<ull>(t.sacc[s]));
  }
}

__device__ void load_centres(const TileLayout& t, const float* centers, int k, int d, int v) {
  for (int i = threadIdx.x; i < k * d; i += blockDim.x) t.centers[i] = centers[i];
  for (int i = threadIdx.x; i < k * (v + 1); i += blockDim.x) t.sacc[i] = 0;
  __syncthreads();
}

__global__ void lloyd_kernel(const float* __restrict__ x, std::size_t n, int d, const float* __restrict__ centers, int k,
                             float fscale, float dscale, int* __restrict__ labels, ull* __restrict__ acc, int tile) {
  extern __shared__ __align__(16) unsigned char smem[];
  const TileLayout t = tile_layout(smem, k, d, d, tile);
  load_centres(t, centers, k, d, d);
  long long inertia = 0, changed = 0;
  for (std::size_t base = static_cast<std::size_t>(blockIdx.x) * tile; base < n;
       base += static_cast<std::size_t>(gridDim.x) * tile) {
    const int m = static_cast<int>(n - base < static_cast<std::size_t>(tile) ? n - base : tile);
    for (int r = threadIdx.x; r < m; r += blockDim.x) {
      const std::size_t i = base + r;
      const float* xr = x + i * d;
      float best = INFINITY;
      int bl = 0;
      if (d == 2) {
        // One 8-byte load per row; the same operations as squared_distance().
        const float2 xv = reinterpret_cast<const float2*>(x)[i];
        for (int c = 0; c < k; ++c) {
          const float u = xv.x - t.centers[2 * c], v = xv.y - t.centers[2 * c + 1];
          float s = 0.0f;
          s = s + u * u;
          s = s + v * v;
          if (s < best) {
            best = s;
            bl = c;
          }
        }
        t.svals[r] = __float2int_rn(xv.x * fscale);
        t.svals[static_cast<std::size_t>(tile) + r] = __float2int_rn(xv.y * fscale);
      } else {
        for (int c = 0; c < k; ++c) {
          const float s = squared_distance(xr, t.centers + c * d, d);
          if (s < best) {
            best = s;
            bl = c;
          }
        }
        for (int j = 0; j < d; ++j) t.svals[static_cast<std::size_t>(j) * tile + r] = __float2int_rn(xr[j] * fscale);
      }
      inertia += __float2ll_rn(best * dscale);
      if (labels[i] != bl) {  // labels are written only when they change
        labels[i] = bl;
        ++changed;
      }
      t.labels[r] = bl;
    }
    __syncthreads();
    reduce_tile(t, tile, m, k, d);
    __syncthreads();
  }
  inertia = warp_sum(inertia);
  changed = warp_sum(changed);
  if (threadIdx.x % 32 == 0) {
    atomicAdd(&acc[k + k * d], static_cast<ull>(inertia));
    atomicAdd(&acc[k + k * d + 1], static_cast<ull>(changed));
  }
  __syncthreads();
  flush_tile_sums(t, k, d, acc);
}

__global__ void dispersion_kernel(const float* __restrict__ x, std::size_t n, int d, const float* __restrict__ centers,
                                  int k, float dscale, float rscale, const int* __restrict__ labels, ull* __restrict__ acc,
                                  int tile) {
  extern __shared__ __align__(16) unsigned char smem[];
  const TileLayout t = tile_layout(smem, k, d, 2, tile);
  load_centres(t, centers, k, d, 2);
  for (std::size_t base = static_cast<std::size_t>(blockIdx.x) * tile; base < n;
       base += static_cast<std::size_t>(gridDim.x) * tile) {
    const int m = static_cast<int>(n - base < static_cast<std::size_t>(tile) ? n - base : tile);
    for (int r = threadIdx.x; r < m; r += blockDim.x) {
      const std::size_t i = base + r;
      const int c = labels[i];
      t.labels[r] = c;
      if (c < 0) continue;
      const float d2 = squared_distance(x + i * d, t.centers + c * d, d);
      t.svals[r] = __float2ll_rn(d2 * dscale);
      t.svals[static_cast<std::size_t>(tile) + r] = __float2ll_rn(sqrtf(d2) * rscale);
    }
    __syncthreads();
    reduce_tile(t, tile, m, k, 2);
    __syncthreads();
  }
  flush_tile_sums(t, k, 2, acc);
}

__global__ void seed_distances_kernel(const float* __restrict__ x, std::size_t n, int d, const float* __restrict__ center,
                                      float* __restrict__ closest, bool keep_min) {
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const float s = squared_distance(x + i * d, center, d);
    // std::min(closest, s) on the CPU: (s < closest) ? s : closest.
    closest[i] = keep_min ? (s < closest[i] ? s : closest[i]) : s;
  }
}

__global__ void trial_potentials_kernel(const float* __restrict__ x, std::size_t n, int d,
                                        const float* __restrict__ candidates, int m, const float* __restrict__ closest,
                                        float dscale, ull* __restrict__ out) {
  extern __shared__ float cand[];
  for (int i = threadIdx.x; i < m * d; i += blockDim.x) cand[i] = candidates[i];
  __syncthreads();
  long long pot[kMaxTrials];
#pragma unroll
  for (int t = 0; t < kMaxTrials; ++t) pot[t] = 0;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const float cl = closest[i];
#pragma unroll
    for (int t = 0; t < kMaxTrials; ++t) {
      if (t < m) {
        const float s = squared_distance(x + i * d, cand + t * d, d);
        pot[t] += __float2ll_rn((s < cl ? s : cl) * dscale);
      }
    }
  }
#pragma unroll
  for (int t = 0; t < kMaxTrials; ++t) {
    if (t < m) {
      const long long s = warp_sum(pot[t]);
      if (threadIdx.x % 32 == 0) atomicAdd(&out[t], static_cast<ull>(s));
    }
  }
}

__global__ void quantize_kernel(const float* __restrict__ closest, std::size_t n, float dscale, long long* __restrict__ q) {
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    q[i] = __float2ll_rn(closest[i] * dscale);
}

__global__ void assigned_distances_kernel(const float* __restrict__ x, std::size_t n, int d,
                                          const float* __restrict__ centers, const int* __restrict__ labels,
                                          float* __restrict__ d2) {
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const int c = labels[i] < 0 ? 0 : labels[i];
    d2[i] = squared_distance(x + i * d, centers + c * d, d);
  }
}

__global__ void gather_labels_kernel(const int* __restrict__ labels, const unsigned long long* __restrict__ rows,
                                     std::size_t m, int* __restrict__ out) {
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < m;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    out[i] = labels[rows[i]];
}

}  // namespace

void launch_gather_labels(const std::int32_t* labels, const unsigned long long* rows, std::size_t m, std::int32_t* out,
                          cudaStream_t stream) {
  const std::size_t blocks = (m + kThreads - 1) / kThreads;
  gather_labels_kernel<<<static_cast<unsigned>(blocks < 4096 ? blocks : 4096), kThreads, 0, stream>>>(labels, rows, m, out);
  CUDA_CHECK_LAUNCH();
}

std::size_t tile_shared_bytes(int k, int d, int v, int* tile_rows) {
  const std::size_t fixed = static_cast<std::size_t>(k) * (v + 1) * 8 +
                            (static_cast<std::size_t>(k) * d * sizeof(float) + 7) / 8 * 8;
  const std::size_t per_row = static_cast<std::size_t>(v) * 8 + 4;
  if (fixed + 32 * per_row > kSharedBudget) return 0;
  std::size_t tile = (kSharedBudget - fixed) / per_row;
  if (tile > kMaxTileRows) tile = kMaxTileRows;
  tile = tile / 32 * 32;
  if (tile_rows) *tile_rows = static_cast<int>(tile);
  return fixed + tile * per_row;
}

void launch_lloyd_pass(const float* x, std::size_t n, int d, const float* centers, int k, float feature_scale,
                       float dist_scale, std::int32_t* labels, unsigned long long* acc, int grid, cudaStream_t stream) {
  int tile = 0;
  const std::size_t shmem = tile_shared_bytes(k, d, d, &tile);
  lloyd_kernel<<<grid, kThreads, shmem, stream>>>(x, n, d, centers, k, feature_scale, dist_scale, labels, acc, tile);
  CUDA_CHECK_LAUNCH();
}

void launch_dispersion(const float* x, std::size_t n, int d, const float* centers, int k, float dist_scale,
                       float root_scale, const std::int32_t* labels, unsigned long long* acc, int grid,
                       cudaStream_t stream) {
  int tile = 0;
  const std::size_t shmem = tile_shared_bytes(k, d, 2, &tile);
  dispersion_kernel<<<grid, kThreads, shmem, stream>>>(x, n, d, centers, k, dist_scale, root_scale, labels, acc, tile);
  CUDA_CHECK_LAUNCH();
}

void launch_seed_distances(const float* x, std::size_t n, int d, const float* center, float* closest, int grid,
                           cudaStream_t stream) {
  seed_distances_kernel<<<grid, kThreads, 0, stream>>>(x, n, d, center, closest, false);
  CUDA_CHECK_LAUNCH();
}

void launch_commit_center(const float* x, std::size_t n, int d, const float* center, float* closest, int grid,
                          cudaStream_t stream) {
  seed_distances_kernel<<<grid, kThreads, 0, stream>>>(x, n, d, center, closest, true);
  CUDA_CHECK_LAUNCH();
}

void launch_trial_potentials(const float* x, std::size_t n, int d, const float* candidates, int m,
                             const float* closest, float dist_scale, unsigned long long* out, int grid,
                             cudaStream_t stream) {
  trial_potentials_kernel<<<grid, kThreads, static_cast<std::size_t>(m) * d * sizeof(float), stream>>>(
      x, n, d, candidates, m, closest, dist_scale, out);
  CUDA_CHECK_LAUNCH();
}

void launch_quantize_distances(const float* closest, std::size_t n, float dist_scale, long long* q, int grid,
                               cudaStream_t stream) {
  quantize_kernel<<<grid, kThreads, 0, stream>>>(closest, n, dist_scale, q);
  CUDA_CHECK_LAUNCH();
}

void launch_assigned_distances(const float* x, std::size_t n, int d, const float* centers,
                               const std::int32_t* labels, float* d2, int grid, cudaStream_t stream) {
  assigned_distances_kernel<<<grid, kThreads, 0, stream>>>(x, n, d, centers, labels, d2);
  CUDA_CHECK_LAUNCH();
}

}  // namespace archetype::cuda
