// K-Means passes on the GPU: fused nearest-centre assignment + exact
// per-cluster sums, k-means++ potentials, dispersion.  The float operations
// are those of archetype/distance.hpp (compiled with --fmad=false) and the
// rounding of __float2int_rn / __float2ll_rn is fixed_point.hpp's, so every
// integer sum equals the CPU backend's bit for bit; the atomics' order does
// not matter because integer addition is exact.
#include <cuda_runtime.h>

#include <cub/block/block_scan.cuh>

#include <cmath>
#include <string>

#include "archetype/distance.hpp"
#include "archetype/error.hpp"
#include "cuda_check.cuh"
#include "kernels.cuh"

namespace archetype::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kMaxTileRows = 2048;
constexpr int kMinBatchTile = 256;  // rows per tile below which a batch is split into launches
constexpr std::size_t kSharedBudget = 48 * 1024;
static_assert(kSampleTile % kThreads == 0, "whole rows per thread in the sampling scan");

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

/// Shared-memory layout of the batched Lloyd kernel, all offsets 8-byte
/// aligned: [S int64 block sums, S = sum over models of k*(d+1)]
/// [models + 1 int64: inertia per model, changed labels][d*tile int64
/// quantized features][d*tile float features][sum(k)*d float centres]
/// [tile int32 labels].
struct BatchLayout {
  long long* sacc;
  long long* sinertia;
  long long* svals;
  float* xs;
  float* centers;
  int* labels;
};

__host__ __device__ inline std::size_t align8(std::size_t bytes) { return (bytes + 7) / 8 * 8; }

__host__ __device__ inline std::size_t batch_fixed_bytes(int total_k, int models, int d) {
  return static_cast<std::size_t>(total_k) * (d + 1) * 8 + static_cast<std::size_t>(models + 1) * 8 +
         align8(static_cast<std::size_t>(total_k) * d * sizeof(float));
}

__host__ __device__ inline std::size_t batch_row_bytes(int d) { return static_cast<std::size_t>(d) * 12 + 4; }

__device__ BatchLayout batch_layout(unsigned char* smem, int total_k, int models, int d, int tile) {
  BatchLayout L;
  L.sacc = reinterpret_cast<long long*>(smem);
  L.sinertia = L.sacc + static_cast<std::size_t>(total_k) * (d + 1);
  L.svals = L.sinertia + models + 1;
  L.xs = reinterpret_cast<float*>(L.svals + static_cast<std::size_t>(d) * tile);
  L.centers = reinterpret_cast<float*>(reinterpret_cast<unsigned char*>(L.xs) +
                                       align8(static_cast<std::size_t>(d) * tile * sizeof(float)));
  L.labels = reinterpret_cast<int*>(reinterpret_cast<unsigned char*>(L.centers) +
                                    align8(static_cast<std::size_t>(total_k) * d * sizeof(float)));
  return L;
}

/// One Lloyd pass for `models` models in one read of the rows.  Each tile of
/// rows is loaded once into shared memory (features and their quantized
/// values); then, model after model, every thread finds its rows' nearest
/// centres and the warps reduce the per-cluster sums (reduce_tile).  The
/// global accumulators hold, per model, [k counts | k*d sums | inertia |
/// changed] (changed only with `labels`, which is given for one model only:
/// the stored-labels pass).
__global__ void lloyd_batch_kernel(const float* __restrict__ x, std::size_t n, int d, const float* __restrict__ centers,
                                   const int* __restrict__ ks, int models, int total_k, float fscale, float dscale,
                                   int* __restrict__ labels, ull* __restrict__ acc, int tile) {
  extern __shared__ __align__(16) unsigned char smem[];
  const BatchLayout L = batch_layout(smem, total_k, models, d, tile);
  for (int i = threadIdx.x; i < total_k * d; i += blockDim.x) L.centers[i] = centers[i];
  for (int i = threadIdx.x; i < total_k * (d + 1); i += blockDim.x) L.sacc[i] = 0;
  for (int i = threadIdx.x; i <= models; i += blockDim.x) L.sinertia[i] = 0;
  __syncthreads();
  const int lane = threadIdx.x % 32;
  long long changed = 0;
  for (std::size_t base = static_cast<std::size_t>(blockIdx.x) * tile; base < n;
       base += static_cast<std::size_t>(gridDim.x) * tile) {
    const int m = static_cast<int>(n - base < static_cast<std::size_t>(tile) ? n - base : tile);
    for (int r = threadIdx.x; r < m; r += blockDim.x) {
      const std::size_t i = base + r;
      if (d == 2) {
        const float2 xv = reinterpret_cast<const float2*>(x)[i];  // one 8-byte load per row
        L.xs[r] = xv.x;
        L.xs[tile + r] = xv.y;
        L.svals[r] = __float2int_rn(xv.x * fscale);
        L.svals[tile + r] = __float2int_rn(xv.y * fscale);
      } else {
        for (int j = 0; j < d; ++j) {
          const float v = x[i * d + j];
          L.xs[static_cast<std::size_t>(j) * tile + r] = v;
          L.svals[static_cast<std::size_t>(j) * tile + r] = __float2int_rn(v * fscale);
        }
      }
    }
    __syncthreads();
    int coff = 0, soff = 0;
    for (int b = 0; b < models; ++b) {
      const int k = ks[b];
      const float* cen = L.centers + coff;
      long long inertia = 0;
      for (int r = threadIdx.x; r < m; r += blockDim.x) {
        float best = INFINITY;
        int bl = 0;
        for (int c = 0; c < k; ++c) {
          // squared_distance() on the shared copy: the same operations.
          float s = 0.0f;
          for (int j = 0; j < d; ++j) {
            const float diff = L.xs[static_cast<std::size_t>(j) * tile + r] - cen[c * d + j];
            s = add_square(diff, s);
          }
          if (s < best) {
            best = s;
            bl = c;
          }
        }
        inertia += __float2ll_rn(best * dscale);
        L.labels[r] = bl;
        if (labels) {
          const std::size_t i = base + r;
          if (labels[i] != bl) {  // labels are written only when they change
            labels[i] = bl;
            ++changed;
          }
        }
      }
      inertia = warp_sum(inertia);
      if (lane == 0) atomicAdd(reinterpret_cast<ull*>(&L.sinertia[b]), static_cast<ull>(inertia));
      __syncthreads();
      TileLayout t;
      t.sacc = L.sacc + soff;
      t.svals = L.svals;
      t.centers = nullptr;
      t.labels = L.labels;
      reduce_tile(t, tile, m, k, d);
      __syncthreads();
      coff += k * d;
      soff += k * (d + 1);
    }
  }
  changed = warp_sum(changed);
  if (lane == 0 && labels) atomicAdd(reinterpret_cast<ull*>(&L.sinertia[models]), static_cast<ull>(changed));
  __syncthreads();
  int soff = 0;
  std::size_t aoff = 0;
  for (int b = 0; b < models; ++b) {
    const int k = ks[b];
    for (int s = threadIdx.x; s < k * (d + 1); s += blockDim.x) {
      const int c = s / (d + 1), j = s % (d + 1);
      const int idx = j == 0 ? c : k + c * d + (j - 1);
      atomicAdd(&acc[aoff + idx], static_cast<ull>(L.sacc[soff + s]));
    }
    if (threadIdx.x == 0) {
      atomicAdd(&acc[aoff + static_cast<std::size_t>(k) * (d + 1)], static_cast<ull>(L.sinertia[b]));
      if (labels && b == 0) atomicAdd(&acc[aoff + static_cast<std::size_t>(k) * (d + 1) + 1], static_cast<ull>(L.sinertia[models]));
    }
    soff += k * (d + 1);
    aoff += static_cast<std::size_t>(k) * (d + 1) + 2;
  }
}

/// The nearest of k centres (k*d floats, any memory): its squared distance.
__device__ __forceinline__ float closest_distance(const float* row, const float* centers, int k, int d) {
  float closest = squared_distance(row, centers, d);
  for (int c = 1; c < k; ++c) {
    const float s = squared_distance(row, centers + c * d, d);
    closest = s < closest ? s : closest;
  }
  return closest;
}

/// k-means++ potentials of a batch (layout of Backend::kpp_potentials) in
/// one read of the rows: tiles of rows in shared memory, every model's
/// centres and candidates in shared memory, per-thread partials in
/// registers, reduced per warp into shared accumulators.
/// Shared layout: [V int64 accumulators][tile*d float rows][(K + C)*d float
/// centres then candidates].
__global__ void kpp_potentials_kernel(const float* __restrict__ x, std::size_t n, int d,
                                      const float* __restrict__ centers, const int* __restrict__ ks,
                                      const float* __restrict__ cands, const int* __restrict__ trials, int models,
                                      int total_k, int total_c, int values, float dscale, ull* __restrict__ out,
                                      int tile) {
  extern __shared__ __align__(16) unsigned char smem[];
  long long* sacc = reinterpret_cast<long long*>(smem);
  float* xs = reinterpret_cast<float*>(sacc + values);
  float* cs = xs + static_cast<std::size_t>(tile) * d;
  for (int i = threadIdx.x; i < total_k * d; i += blockDim.x) cs[i] = centers[i];
  for (int i = threadIdx.x; i < total_c * d; i += blockDim.x) cs[total_k * d + i] = cands[i];
  for (int i = threadIdx.x; i < values; i += blockDim.x) sacc[i] = 0;
  const int lane = threadIdx.x % 32;
  for (std::size_t base = static_cast<std::size_t>(blockIdx.x) * tile; base < n;
       base += static_cast<std::size_t>(gridDim.x) * tile) {
    const int m = static_cast<int>(n - base < static_cast<std::size_t>(tile) ? n - base : tile);
    __syncthreads();  // the previous tile is done with xs
    for (int i = threadIdx.x; i < m * d; i += blockDim.x) xs[i] = x[base * d + i];  // row-major, coalesced
    __syncthreads();
    int coff = 0, toff = total_k * d, voff = 0;
    for (int b = 0; b < models; ++b) {
      const int k = ks[b], tr = trials[b];
      long long v[kMaxTrials + 1];
#pragma unroll
      for (int t = 0; t <= kMaxTrials; ++t) v[t] = 0;
      for (int r = threadIdx.x; r < m; r += blockDim.x) {
        const float* row = xs + static_cast<std::size_t>(r) * d;
        const float closest = closest_distance(row, cs + coff, k, d);
        v[0] += __float2ll_rn(closest * dscale);
#pragma unroll
        for (int t = 0; t < kMaxTrials; ++t) {
          if (t < tr) {
            const float s = squared_distance(row, cs + toff + t * d, d);
            v[t + 1] += __float2ll_rn((s < closest ? s : closest) * dscale);  // min(closest, s)
          }
        }
      }
#pragma unroll
      for (int t = 0; t <= kMaxTrials; ++t) {
        if (t <= tr) {
          const long long s = warp_sum(v[t]);
          if (lane == 0) atomicAdd(reinterpret_cast<ull*>(&sacc[voff + t]), static_cast<ull>(s));
        }
      }
      coff += k * d;
      toff += tr * d;
      voff += 1 + tr;
    }
  }
  __syncthreads();
  for (int i = threadIdx.x; i < values; i += blockDim.x) atomicAdd(&out[i], static_cast<ull>(sacc[i]));
}

/// Per (model, tile of kSampleTile rows): the sum of q(closest) over the
/// tile, into tile_pot[model * tiles + tile].
__global__ void kpp_tile_potentials_kernel(const float* __restrict__ x, std::size_t n, int d,
                                           const float* __restrict__ centers, const int* __restrict__ ks, int models,
                                           float dscale, long long* __restrict__ tile_pot, std::size_t tiles,
                                           std::size_t tile_offset, std::size_t tile_stride) {
  __shared__ long long red[kThreads / 32];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  for (std::size_t t = blockIdx.x; t < tiles; t += gridDim.x) {
    const std::size_t begin = t * kSampleTile, end = begin + kSampleTile < n ? begin + kSampleTile : n;
    int coff = 0;
    for (int b = 0; b < models; ++b) {
      const int k = ks[b];
      long long s = 0;
      for (std::size_t i = begin + threadIdx.x; i < end; i += blockDim.x)
        s += __float2ll_rn(closest_distance(x + i * d, centers + coff, k, d) * dscale);
      s = warp_sum(s);
      if (lane == 0) red[warp] = s;
      __syncthreads();
      if (threadIdx.x == 0) {
        long long total = 0;
        for (int w = 0; w < kThreads / 32; ++w) total += red[w];
        tile_pot[static_cast<std::size_t>(b) * tile_stride + tile_offset + t] = total;
      }
      __syncthreads();
      coff += k * d;
    }
  }
}

/// One block per target: jobs[5 * j ..] = centre offset, k, tile begin,
/// tile end, residual target (the target minus the potential of the rows
/// before the tile).  rows[j] = the first row of the tile whose inclusive
/// prefix of q(closest) exceeds the residual (end - 1 if none).
__global__ void kpp_sample_kernel(const float* __restrict__ x, int d, const float* __restrict__ centers,
                                  const long long* __restrict__ jobs, float dscale, long long* __restrict__ rows) {
  using Scan = cub::BlockScan<long long, kThreads>;
  __shared__ typename Scan::TempStorage scan_tmp;
  constexpr int kPerThread = kSampleTile / kThreads;
  const long long* job = jobs + 5 * static_cast<std::size_t>(blockIdx.x);
  const float* cen = centers + job[0];
  const int k = static_cast<int>(job[1]);
  const long long begin = job[2], end = job[3], residual = job[4];
  const long long r0 = begin + static_cast<long long>(threadIdx.x) * kPerThread;
  long long sum = 0;
  for (int i = 0; i < kPerThread; ++i)
    if (r0 + i < end) sum += __float2ll_rn(closest_distance(x + (r0 + i) * d, cen, k, d) * dscale);
  long long before = 0;
  Scan(scan_tmp).ExclusiveSum(sum, before);
  if (threadIdx.x == 0) rows[blockIdx.x] = end - 1;
  __syncthreads();
  if (before <= residual && residual < before + sum) {
    long long prefix = before;
    for (int i = 0; i < kPerThread && r0 + i < end; ++i) {
      prefix += __float2ll_rn(closest_distance(x + (r0 + i) * d, cen, k, d) * dscale);
      if (prefix > residual) {
        rows[blockIdx.x] = r0 + i;
        break;
      }
    }
  }
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

void launch_dispersion(const float* x, std::size_t n, int d, const float* centers, int k, float dist_scale,
                       float root_scale, const std::int32_t* labels, unsigned long long* acc, int grid,
                       cudaStream_t stream) {
  int tile = 0;
  const std::size_t shmem = tile_shared_bytes(k, d, 2, &tile);
  dispersion_kernel<<<grid, kThreads, shmem, stream>>>(x, n, d, centers, k, dist_scale, root_scale, labels, acc, tile);
  CUDA_CHECK_LAUNCH();
}

int batch_tile_rows(int total_k, int models, int d) {
  const std::size_t fixed = batch_fixed_bytes(total_k, models, d) + 8;  // + alignment of the float rows
  const std::size_t per_row = batch_row_bytes(d);
  if (fixed + 32 * per_row > kSharedBudget) return 0;
  std::size_t tile = (kSharedBudget - fixed) / per_row;
  if (tile > kMaxTileRows) tile = kMaxTileRows;
  return static_cast<int>(tile / 32 * 32);
}

void launch_lloyd_batch(const float* x, std::size_t n, int d, const float* centers, const int* ks_device,
                        const int* ks_host, int models, float feature_scale, float dist_scale, std::int32_t* labels,
                        unsigned long long* acc, int grid, cudaStream_t stream) {
  // Consecutive models go into one launch while their centres and sums fit
  // the shared-memory budget (with a tile of at least kMinBatchTile rows).
  int b0 = 0;
  std::size_t coff = 0, aoff = 0;
  while (b0 < models) {
    int b1 = b0, total_k = 0;
    while (b1 < models && (b1 == b0 || batch_tile_rows(total_k + ks_host[b1], b1 + 1 - b0, d) >= kMinBatchTile)) {
      total_k += ks_host[b1];
      ++b1;
    }
    const int tile = batch_tile_rows(total_k, b1 - b0, d);
    if (tile == 0) throw DeviceError("a model of k = " + std::to_string(ks_host[b0]) + " with d = " + std::to_string(d) +
                                     " does not fit the Lloyd kernel's shared memory; use --backend cpu");
    const std::size_t shmem = batch_fixed_bytes(total_k, b1 - b0, d) + 8 +
                              static_cast<std::size_t>(tile) * batch_row_bytes(d) + 8;
    lloyd_batch_kernel<<<grid, kThreads, shmem, stream>>>(x, n, d, centers + coff, ks_device + b0, b1 - b0, total_k,
                                                          feature_scale, dist_scale, labels, acc + aoff, tile);
    CUDA_CHECK_LAUNCH();
    for (int b = b0; b < b1; ++b) {
      coff += static_cast<std::size_t>(ks_host[b]) * d;
      aoff += static_cast<std::size_t>(ks_host[b]) * (d + 1) + 2;
    }
    b0 = b1;
  }
}

void launch_kpp_potentials(const float* x, std::size_t n, int d, const float* centers, const int* ks_device,
                           const float* cands, const int* trials_device, const int* ks_host, const int* trials_host,
                           int models, float dist_scale, unsigned long long* out, int grid, cudaStream_t stream) {
  // Groups of consecutive models whose centres, candidates and sums take at
  // most half of the budget; the rest holds the tile of rows.
  int b0 = 0;
  std::size_t coff = 0, toff = 0, voff = 0;
  while (b0 < models) {
    int b1 = b0, total_k = 0, total_c = 0, values = 0;
    auto fixed = [&](int tk, int tc, int v) {
      return static_cast<std::size_t>(v) * 8 + static_cast<std::size_t>(tk + tc) * d * sizeof(float);
    };
    while (b1 < models && (b1 == b0 || fixed(total_k + ks_host[b1], total_c + trials_host[b1],
                                             values + 1 + trials_host[b1]) <= kSharedBudget / 2)) {
      total_k += ks_host[b1];
      total_c += trials_host[b1];
      values += 1 + trials_host[b1];
      ++b1;
    }
    const std::size_t f = fixed(total_k, total_c, values);
    if (f + 32 * static_cast<std::size_t>(d) * sizeof(float) > kSharedBudget)
      throw DeviceError("k-means++ with k = " + std::to_string(ks_host[b0]) + " and d = " + std::to_string(d) +
                       " does not fit the kernel's shared memory; use --backend cpu");
    std::size_t tile = (kSharedBudget - f) / (static_cast<std::size_t>(d) * sizeof(float));
    if (tile > kMaxTileRows) tile = kMaxTileRows;
    tile = tile / 32 * 32;
    const std::size_t shmem = f + tile * d * sizeof(float);
    kpp_potentials_kernel<<<grid, kThreads, shmem, stream>>>(x, n, d, centers + coff, ks_device + b0, cands + toff,
                                                             trials_device + b0, b1 - b0, total_k, total_c, values,
                                                             dist_scale, out + voff, static_cast<int>(tile));
    CUDA_CHECK_LAUNCH();
    coff += static_cast<std::size_t>(total_k) * d;
    toff += static_cast<std::size_t>(total_c) * d;
    voff += static_cast<std::size_t>(values);
    b0 = b1;
  }
}

void launch_kpp_tile_potentials(const float* x, std::size_t n, int d, const float* centers, const int* ks_device,
                                int models, float dist_scale, long long* tile_pot, std::size_t tile_offset,
                                std::size_t tile_stride, int grid, cudaStream_t stream) {
  const std::size_t tiles = (n + kSampleTile - 1) / kSampleTile;
  const int blocks = static_cast<int>(tiles < static_cast<std::size_t>(grid) ? tiles : grid);
  kpp_tile_potentials_kernel<<<blocks, kThreads, 0, stream>>>(x, n, d, centers, ks_device, models, dist_scale,
                                                               tile_pot, tiles, tile_offset, tile_stride);
  CUDA_CHECK_LAUNCH();
}

void launch_kpp_sample(const float* x, int d, const float* centers, const long long* jobs, int count,
                       float dist_scale, long long* rows, cudaStream_t stream) {
  if (count == 0) return;
  kpp_sample_kernel<<<count, kThreads, 0, stream>>>(x, d, centers, jobs, dist_scale, rows);
  CUDA_CHECK_LAUNCH();
}

}  // namespace archetype::cuda
