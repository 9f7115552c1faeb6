// K-Means passes on the GPU: fused nearest-centre assignment + exact
// per-cluster sums, k-means++ potentials, dispersion.  The float operations
// are those of archetype/distance.hpp (compiled with --fmad=false; the one
// fma is add_square's __fmaf_rn) and the rounding of __float2int_rn /
// __float2ll_rn is fixed_point.hpp's, so every integer sum equals the CPU
// backend's bit for bit; the atomics' order does not matter because integer
// addition is exact.  Launch shapes and shared-memory layouts come from
// launch_plan.hpp, checked on the host by tests/launch_plan_test.cpp.
#include <cuda_runtime.h>

#include <cub/block/block_scan.cuh>

#include <cmath>
#include <string>
#include <type_traits>

#include "archetype/distance.hpp"
#include "archetype/error.hpp"
#include "cuda_check.cuh"
#include "kernels.cuh"
#include "launch_plan.hpp"
#include "tile_math.cuh"

namespace archetype::cuda {
namespace {

constexpr int kThreads = 256;  // the sampling kernels (fixed by the scan)
static_assert(kSampleTile % kThreads == 0, "whole rows per thread in the sampling scan");

/// Copies rows [base, base + m) into the shared tile, feature-major:
/// coalesced global reads; the odd stride spreads the stores over banks.
__device__ __forceinline__ void load_tile(float* xs, int stride, const float* x, std::size_t base, int m, int d) {
  const float* src = x + base * d;
  for (int i = threadIdx.x; i < m * d; i += blockDim.x) {
    const int r = i / d, j = i - r * d;
    xs[j * stride + r] = src[i];
  }
}

/// Adds the count and the d quantized features of each valid lane's row to
/// its cluster `lab`: lanes with the same label form a group
/// (__match_any_sync), one exact int32 reduction per feature and group, and
/// the group's lowest lane adds the result (shared or global int64 slots).
/// With weights (`weighted`, the lane's weight w) the count is the group's
/// sum of w and each feature's w x q, reduced in int64.  The whole warp
/// calls it together.
template <int D>
__device__ __forceinline__ void add_cluster_sums(const Row<D>& row, bool valid, int lab, int d, int k, float fscale,
                                                 bool shared, long long* ssum, ull* acc, bool weighted, int w) {
  const unsigned peers = __match_any_sync(0xffffffffu, valid ? lab : -1);
  const bool lead = valid && static_cast<int>(threadIdx.x % 32) == __ffs(peers) - 1;
  const std::size_t sbase = static_cast<std::size_t>(lab) * (d + 1);
  const ull count = weighted ? static_cast<ull>(group_sum64(peers, valid ? w : 0)) : static_cast<ull>(__popc(peers));
  if (lead && count != 0) {
    if (shared)
      atomicAdd(reinterpret_cast<ull*>(ssum + sbase), count);
    else
      atomicAdd(acc + lab, count);
  }
  auto add = [&](int j) {
    const int q = valid ? __float2int_rn(row.at(j) * fscale) : 0;
    const long long s = weighted ? group_sum64(peers, static_cast<long long>(w) * q) : group_sum(peers, q);
    if (lead && s != 0) {
      const ull v = static_cast<ull>(static_cast<long long>(s));
      if (shared)
        atomicAdd(reinterpret_cast<ull*>(ssum + sbase + 1 + j), v);
      else
        atomicAdd(acc + k + static_cast<std::size_t>(lab) * d + j, v);
    }
  };
  if constexpr (D > 0) {
#pragma unroll
    for (int j = 0; j < D; ++j) add(j);
  } else {
    for (int j = 0; j < d; ++j) add(j);
  }
}

/// One Lloyd pass for the plan's models in one read of the rows.  Blocks
/// walk tiles of rows (shared, feature-major); per model, each thread takes
/// rows (warp-uniform loop) and finds the nearest centre, walking the centre
/// groups in increasing order with the running best in shared memory between
/// groups (one group when the centres are resident); after the last group it
/// adds q(d2) to the model's inertia, stores the label if it changed (the
/// stored-labels pass: `labels` given, one model) and adds the row to its
/// cluster's sums (add_cluster_sums).  acc holds, per model, [k counts |
/// k*d sums | inertia | changed].
template <int D>
__global__ void __launch_bounds__(kBlockThreads)
    lloyd_kernel(const float* __restrict__ x, const int* __restrict__ weights, std::size_t n, int d,
                 const float* __restrict__ centers, const int* __restrict__ ks, TilePlan plan, float fscale,
                 float dscale, int* __restrict__ labels, ull* __restrict__ acc) {
  extern __shared__ __align__(16) unsigned char smem[];
  long long* const ssum = reinterpret_cast<long long*>(smem + plan.layout.sums);
  long long* const sinertia = reinterpret_cast<long long*>(smem + plan.layout.inertia);
  float* const cbuf = reinterpret_cast<float*>(smem + plan.layout.centres);
  float* const xs = reinterpret_cast<float*>(smem + plan.layout.rows);
  float* const sbest = reinterpret_cast<float*>(smem + plan.layout.best);
  int* const slab = reinterpret_cast<int*>(smem + plan.layout.labels);
  const int models = plan.models, tile = plan.tile, stride = plan.row_stride, group = plan.group;
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  for (int i = threadIdx.x; i < plan.values; i += blockDim.x) ssum[i] = 0;
  for (int i = threadIdx.x; i < models; i += blockDim.x) sinertia[i] = 0;
  if (group == 0) {  // resident: every model's centres, loaded once
    std::size_t src = 0;
    int dst = 0;
    for (int b = 0; b < models; ++b) {
      const int k = ks[b];
      load_group(cbuf + dst, pad_centres(k), centers + src, k, d);
      src += static_cast<std::size_t>(k) * d;
      dst += d * pad_centres(k);
    }
  }
  long long changed = 0;
  for (std::size_t base = static_cast<std::size_t>(blockIdx.x) * tile; base < n;
       base += static_cast<std::size_t>(gridDim.x) * tile) {
    const int m = static_cast<int>(n - base < static_cast<std::size_t>(tile) ? n - base : tile);
    __syncthreads();  // the previous tile is done with xs (first tile: centres and zeros are in place)
    load_tile(xs, stride, x, base, m, d);
    __syncthreads();
    std::size_t src = 0, aoff = 0;
    int dst = 0, soff = 0;
    for (int b = 0; b < models; ++b) {
      const int k = ks[b];
      const int groups = group_count(k, group);
      long long inertia = 0;
      for (int g = 0; g < groups; ++g) {  // block-uniform
        const Group cg = select_group(cbuf, cbuf + dst, centers + src, k, group, g, d);
        const bool last = g + 1 == groups;
        for (int r0 = warp * 32; r0 < m; r0 += blockDim.x) {  // warp-uniform
          const int r = r0 + lane;
          const bool valid = r < m;
          Row<D> row;
          float best = INFINITY;
          int lab = 0;
          if (valid) {
            row.load(xs, stride, r, d);
            if (g > 0) {  // the same thread wrote them for the previous group
              best = sbest[r];
              lab = slab[r];
            }
            nearest_in_group<D>(row, d, cg.p, cg.stride, cg.count, cg.first, best, lab);
            if (!last) {
              sbest[r] = best;
              slab[r] = lab;
            }
          }
          if (last) {
            const int w = valid && weights ? weights[base + r] : 1;
            if (valid) {
              inertia += static_cast<long long>(w) * __float2ll_rn(best * dscale);
              if (labels) {
                const std::size_t i = base + r;
                if (labels[i] != lab) {  // labels are written only when they change
                  labels[i] = lab;
                  ++changed;
                }
              }
            }
            add_cluster_sums<D>(row, valid, lab, d, k, fscale, plan.shared_sums, ssum + soff, acc + aoff,
                                weights != nullptr, w);
          }
        }
      }
      inertia = warp_sum(inertia);
      if (lane == 0 && inertia != 0) atomicAdd(reinterpret_cast<ull*>(sinertia + b), static_cast<ull>(inertia));
      src += static_cast<std::size_t>(k) * d;
      dst += group == 0 ? d * pad_centres(k) : 0;
      soff += plan.shared_sums ? k * (d + 1) : 0;
      aoff += static_cast<std::size_t>(k) * (d + 1) + 2;
    }
  }
  changed = warp_sum(changed);
  if (labels && lane == 0 && changed != 0)
    atomicAdd(acc + static_cast<std::size_t>(ks[0]) * (d + 1) + 1, static_cast<ull>(changed));
  __syncthreads();
  // The block's sums to the global accumulators (zeros skipped).
  std::size_t aoff = 0;
  int soff = 0;
  for (int b = 0; b < models; ++b) {
    const int k = ks[b];
    if (plan.shared_sums) {
      for (int s = threadIdx.x; s < k * (d + 1); s += blockDim.x) {
        const long long v = ssum[soff + s];
        if (v == 0) continue;
        const int c = s / (d + 1), j = s % (d + 1);
        const std::size_t idx = j == 0 ? c : k + static_cast<std::size_t>(c) * d + (j - 1);
        atomicAdd(acc + aoff + idx, static_cast<ull>(v));
      }
      soff += k * (d + 1);
    }
    if (threadIdx.x == 0 && sinertia[b] != 0)
      atomicAdd(acc + aoff + static_cast<std::size_t>(k) * (d + 1), static_cast<ull>(sinertia[b]));
    aoff += static_cast<std::size_t>(k) * (d + 1) + 2;
  }
}

/// k-means++ potentials (Backend::kpp_potentials' layout) for the plan's
/// models in one read of the rows.  Per model: each row's closest centre
/// distance (centre groups in any order: a min is exact; or read from the
/// model's distance cache, cache_off[b] >= 0, when the backend keeps one)
/// into shared memory, its q() into out[o_b]; then candidates four at a
/// time, each thread summing q(min(closest, d2)) of its rows in four
/// registers, reduced per warp into the shared accumulators.  Low register
/// use and conflict-free row reads at every d.  `cache` points at the
/// caches' entry of x's row 0 (row r's is cache[cache_off[b] + r]).
template <int D>
__global__ void __launch_bounds__(kBlockThreads)
    kpp_kernel(const float* __restrict__ x, const int* __restrict__ weights, std::size_t n, int d,
               const float* __restrict__ centers, const float* __restrict__ cands, const int* __restrict__ ks,
               const int* __restrict__ trials, const long long* __restrict__ cache_off, const float* __restrict__ cache,
               TilePlan plan, float dscale, ull* __restrict__ out) {
  extern __shared__ __align__(16) unsigned char smem[];
  long long* const spot = reinterpret_cast<long long*>(smem + plan.layout.sums);
  float* const cbuf = reinterpret_cast<float*>(smem + plan.layout.centres);
  float* const xs = reinterpret_cast<float*>(smem + plan.layout.rows);
  float* const sbest = reinterpret_cast<float*>(smem + plan.layout.best);
  const int models = plan.models, tile = plan.tile, stride = plan.row_stride, group = plan.group;
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  for (int i = threadIdx.x; i < plan.values; i += blockDim.x) spot[i] = 0;
  if (group == 0) {  // resident: per model its centres, then its candidates
    std::size_t src_c = 0, src_t = 0;
    int dst = 0;
    for (int b = 0; b < models; ++b) {
      const int k = ks[b], tr = trials[b];
      load_group(cbuf + dst, pad_centres(k), centers + src_c, k, d);
      dst += d * pad_centres(k);
      load_group(cbuf + dst, pad_centres(tr), cands + src_t, tr, d);
      dst += d * pad_centres(tr);
      src_c += static_cast<std::size_t>(k) * d;
      src_t += static_cast<std::size_t>(tr) * d;
    }
  }
  for (std::size_t base = static_cast<std::size_t>(blockIdx.x) * tile; base < n;
       base += static_cast<std::size_t>(gridDim.x) * tile) {
    const int m = static_cast<int>(n - base < static_cast<std::size_t>(tile) ? n - base : tile);
    __syncthreads();
    load_tile(xs, stride, x, base, m, d);
    __syncthreads();
    std::size_t src_c = 0, src_t = 0;
    int dst = 0, voff = 0;
    for (int b = 0; b < models; ++b) {
      const int k = ks[b], tr = trials[b];
      const long long coff = cache_off[b];  // block-uniform
      const int kgroups = coff >= 0 ? 0 : group_count(k, group);  // cached: no centre to visit
      long long pot = 0;
      if (coff >= 0) {  // the cache holds every centre of the model: no distance to compute
        const float* cached = cache + coff + base;
        for (int r0 = warp * 32; r0 < m; r0 += blockDim.x) {
          const int r = r0 + lane;
          if (r >= m) continue;
          const float closest = cached[r];
          sbest[r] = closest;  // read back by this thread only
          pot += (weights ? static_cast<long long>(weights[base + r]) : 1LL) * __float2ll_rn(closest * dscale);
        }
      }
      for (int g = 0; g < kgroups; ++g) {  // block-uniform
        const Group cg = select_group(cbuf, cbuf + dst, centers + src_c, k, group, g, d);
        for (int r0 = warp * 32; r0 < m; r0 += blockDim.x) {
          const int r = r0 + lane;
          if (r >= m) continue;
          Row<D> row;
          row.load(xs, stride, r, d);
          const float closest = closest_in_group<D>(row, d, cg.p, cg.stride, cg.count, g > 0 ? sbest[r] : INFINITY);
          sbest[r] = closest;  // read back by this thread only
          if (g + 1 == kgroups)
            pot += (weights ? static_cast<long long>(weights[base + r]) : 1LL) * __float2ll_rn(closest * dscale);
        }
      }
      pot = warp_sum(pot);
      if (lane == 0 && pot != 0) atomicAdd(reinterpret_cast<ull*>(spot + voff), static_cast<ull>(pot));
      const int tgroups = group_count(tr, group);
      for (int g = 0; g < tgroups; ++g) {  // block-uniform
        const Group tg = select_group(cbuf, cbuf + dst + d * pad_centres(k), cands + src_t, tr, group, g, d);
        for (int c = 0; c < tg.count; c += kCentreBlock) {
          long long a[4] = {0, 0, 0, 0};
          for (int r0 = warp * 32; r0 < m; r0 += blockDim.x) {
            const int r = r0 + lane;
            if (r >= m) continue;
            Row<D> row;
            row.load(xs, stride, r, d);
            float s[4];
            distances4<D>(row, d, tg.p, tg.stride, c, s);
            const float closest = sbest[r];
            const long long w = weights ? static_cast<long long>(weights[base + r]) : 1LL;
#pragma unroll
            for (int u = 0; u < 4; ++u) a[u] += w * __float2ll_rn((s[u] < closest ? s[u] : closest) * dscale);
          }
#pragma unroll
          for (int u = 0; u < 4; ++u) {
            const long long v = warp_sum(a[u]);
            if (lane == 0 && c + u < tg.count && v != 0)
              atomicAdd(reinterpret_cast<ull*>(spot + voff + 1 + tg.first + c + u), static_cast<ull>(v));
          }
        }
      }
      src_c += static_cast<std::size_t>(k) * d;
      src_t += static_cast<std::size_t>(tr) * d;
      dst += group == 0 ? d * (pad_centres(k) + pad_centres(tr)) : 0;
      voff += 1 + tr;
    }
  }
  __syncthreads();
  for (int i = threadIdx.x; i < plan.values; i += blockDim.x)
    if (spot[i] != 0) atomicAdd(out + i, static_cast<ull>(spot[i]));
}

/// The nearest of k centres (k*d floats, global memory): its squared distance.
__device__ __forceinline__ float closest_distance(const float* row, const float* centers, int k, int d) {
  float closest = squared_distance(row, centers, d);
  for (int c = 1; c < k; ++c) {
    const float s = squared_distance(row, centers + static_cast<std::size_t>(c) * d, d);
    closest = s < closest ? s : closest;
  }
  return closest;
}

/// Folds centres into the models' distance caches, every model's in one
/// read of the rows.  Fold job j (kFoldValues values): its centres' offset
/// in `centers` (floats), their count, reset (0/1) and the model's cache
/// offset; `cache` points at the caches' entry of x's row 0.  Per row:
/// cache = min(cache, d2(row, centre)) over the job's centres or, with
/// reset, the nearest of them alone (closest_distance's order).  A min is
/// exact, so folding the centres as k-means++ adds them, one per step,
/// gives closest_distance's bits over all of them.
__global__ void kpp_fold_kernel(const float* __restrict__ x, std::size_t n, int d, const float* __restrict__ centers,
                                const long long* __restrict__ folds, int jobs, float* __restrict__ cache) {
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const float* row = x + i * d;
    for (int j = 0; j < jobs; ++j) {
      const long long* job = folds + kFoldValues * j;
      const float* cen = centers + job[0];
      const int count = static_cast<int>(job[1]);
      const bool reset = job[2] != 0;
      const std::size_t at = static_cast<std::size_t>(job[3]) + i;
      float closest = reset ? squared_distance(row, cen, d) : cache[at];
      for (int c = reset ? 1 : 0; c < count; ++c) {
        const float s = squared_distance(row, cen + static_cast<std::size_t>(c) * d, d);
        closest = s < closest ? s : closest;
      }
      cache[at] = closest;
    }
  }
}

/// Per (model, tile of kSampleTile rows): the sum of w q(closest) over the
/// tile, into tile_pot[model * tiles + tile].  A model with a distance
/// cache (cache_off[b] >= 0, indexed by data row; x's tiles start at tile
/// tile_offset of the data) reads its closest distances from it.
__global__ void kpp_tile_potentials_kernel(const float* __restrict__ x, const int* __restrict__ weights, std::size_t n,
                                           int d,
                                           const float* __restrict__ centers, const int* __restrict__ ks, int models,
                                           const long long* __restrict__ cache_off, const float* __restrict__ cache,
                                           float dscale, long long* __restrict__ tile_pot, std::size_t tiles,
                                           std::size_t tile_offset, std::size_t tile_stride) {
  __shared__ long long red[kThreads / 32];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  for (std::size_t t = blockIdx.x; t < tiles; t += gridDim.x) {
    const std::size_t begin = t * kSampleTile, end = begin + kSampleTile < n ? begin + kSampleTile : n;
    std::size_t coff = 0;
    for (int b = 0; b < models; ++b) {
      const int k = ks[b];
      const long long co = cache_off[b];
      const float* cached = co >= 0 ? cache + static_cast<std::size_t>(co) + tile_offset * kSampleTile : nullptr;
      long long s = 0;
      for (std::size_t i = begin + threadIdx.x; i < end; i += blockDim.x)
        s += (weights ? static_cast<long long>(weights[i]) : 1LL) *
             __float2ll_rn((cached ? cached[i] : closest_distance(x + i * d, centers + coff, k, d)) * dscale);
      s = warp_sum(s);
      if (lane == 0) red[warp] = s;
      __syncthreads();
      if (threadIdx.x == 0) {
        long long total = 0;
        for (int w = 0; w < kThreads / 32; ++w) total += red[w];
        tile_pot[static_cast<std::size_t>(b) * tile_stride + tile_offset + t] = total;
      }
      __syncthreads();
      coff += static_cast<std::size_t>(k) * d;
    }
  }
}

/// One block per target: jobs[kJobValues * j ..] = centre offset, k, tile
/// begin, tile end, residual target (the target minus the potential of the
/// rows before the tile), the model's distance cache offset (-1: none) and
/// the data row of x's row 0 (the cache's index).  rows[j] = the first row
/// of the tile whose inclusive prefix of w q(closest) exceeds the residual
/// (end - 1 if none).
__global__ void kpp_sample_kernel(const float* __restrict__ x, const int* __restrict__ weights, int d,
                                  const float* __restrict__ centers, const float* __restrict__ cache,
                                  const long long* __restrict__ jobs, float dscale, long long* __restrict__ rows) {
  using Scan = cub::BlockScan<long long, kThreads>;
  __shared__ typename Scan::TempStorage scan_tmp;
  constexpr int kPerThread = kSampleTile / kThreads;
  const long long* job = jobs + kJobValues * static_cast<std::size_t>(blockIdx.x);
  const float* cen = centers + job[0];
  const int k = static_cast<int>(job[1]);
  const long long begin = job[2], end = job[3], residual = job[4];
  // Row r of x is data row r + job[6] (job[6] < 0 for a gathered tile
  // placed after its data position): an index, not a pointer before the
  // array.
  const bool cached = job[5] >= 0;
  const long long at = job[5] + job[6];
  auto closest = [&](long long r) { return cached ? cache[at + r] : closest_distance(x + r * d, cen, k, d); };
  const long long r0 = begin + static_cast<long long>(threadIdx.x) * kPerThread;
  long long sum = 0;
  for (int i = 0; i < kPerThread; ++i)
    if (r0 + i < end)
      sum += (weights ? static_cast<long long>(weights[r0 + i]) : 1LL) * __float2ll_rn(closest(r0 + i) * dscale);
  long long before = 0;
  Scan(scan_tmp).ExclusiveSum(sum, before);
  if (threadIdx.x == 0) rows[blockIdx.x] = end - 1;
  __syncthreads();
  if (before <= residual && residual < before + sum) {
    long long prefix = before;
    for (int i = 0; i < kPerThread && r0 + i < end; ++i) {
      prefix += (weights ? static_cast<long long>(weights[r0 + i]) : 1LL) * __float2ll_rn(closest(r0 + i) * dscale);
      if (prefix > residual) {
        rows[blockIdx.x] = r0 + i;
        break;
      }
    }
  }
}

/// With the stored labels: per cluster the sums of q(d2) and q(sqrt(d2)),
/// in shared memory when the plan says they fit, else global atomics; acc
/// [k, 3k) holds them interleaved.  One pass per fit: the row's centre is
/// read from global memory.
__global__ void dispersion_kernel(const float* __restrict__ x, const int* __restrict__ weights, std::size_t n, int d,
                                  const float* __restrict__ centers,
                                  int k, float dscale, float rscale, const int* __restrict__ labels, bool shared,
                                  ull* __restrict__ acc) {
  extern __shared__ __align__(16) unsigned char smem[];
  long long* const ssum = reinterpret_cast<long long*>(smem);
  if (shared)
    for (int i = threadIdx.x; i < 2 * k; i += blockDim.x) ssum[i] = 0;
  __syncthreads();
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const int c = labels[i];
    if (c < 0) continue;
    const float d2 = squared_distance(x + i * d, centers + static_cast<std::size_t>(c) * d, d);
    const long long w = weights ? static_cast<long long>(weights[i]) : 1LL;
    const ull sq = static_cast<ull>(w * __float2ll_rn(d2 * dscale));
    const ull root = static_cast<ull>(w * __float2ll_rn(sqrtf(d2) * rscale));
    if (shared) {
      atomicAdd(reinterpret_cast<ull*>(ssum + 2 * c), sq);
      atomicAdd(reinterpret_cast<ull*>(ssum + 2 * c + 1), root);
    } else {
      atomicAdd(acc + k + 2 * static_cast<std::size_t>(c), sq);
      atomicAdd(acc + k + 2 * static_cast<std::size_t>(c) + 1, root);
    }
  }
  __syncthreads();
  if (shared)
    for (int i = threadIdx.x; i < 2 * k; i += blockDim.x)
      if (ssum[i] != 0) atomicAdd(acc + k + i, static_cast<ull>(ssum[i]));
}

__global__ void gather_labels_kernel(const int* __restrict__ labels, const unsigned long long* __restrict__ rows,
                                     std::size_t m, int* __restrict__ out) {
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < m;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    out[i] = labels[rows[i]];
}

__global__ void iota_kernel(int* __restrict__ out, std::size_t n) {
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    out[i] = static_cast<int>(i);
}

unsigned blocks_for(std::size_t n) {
  const std::size_t b = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(b < 4096 ? (b > 0 ? b : 1) : 4096);
}

/// Calls f(std::integral_constant<int, D>) with D = d for the specialised
/// widths (row in registers, loops unrolled) and D = 0 otherwise.
template <typename F>
void with_dims(int d, F&& f) {
  switch (d) {
    case 1: f(std::integral_constant<int, 1>{}); break;
    case 2: f(std::integral_constant<int, 2>{}); break;
    case 3: f(std::integral_constant<int, 3>{}); break;
    case 4: f(std::integral_constant<int, 4>{}); break;
    case 8: f(std::integral_constant<int, 8>{}); break;
    case 16: f(std::integral_constant<int, 16>{}); break;
    case 32: f(std::integral_constant<int, 32>{}); break;
    default: f(std::integral_constant<int, 0>{}); break;
  }
}

[[noreturn]] void refuse(const char* pass, int d) {
  throw DeviceError(std::string(pass) + " with d = " + std::to_string(d) +
                    " does not fit the GPU's shared memory; use --backend cpu");
}

}  // namespace

DeviceLimits device_limits(int device) {
  DeviceLimits lim;
  int v = 0;
  CUDA_CHECK(cudaDeviceGetAttribute(&v, cudaDevAttrMaxSharedMemoryPerBlock, device));
  lim.shared_default = static_cast<std::size_t>(v);
  CUDA_CHECK(cudaDeviceGetAttribute(&v, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
  lim.shared_optin = static_cast<std::size_t>(v);
  CUDA_CHECK(cudaDeviceGetAttribute(&v, cudaDevAttrMaxThreadsPerBlock, device));
  lim.max_threads = v;
  return lim;
}

void check_shapes(int d, int k_max, const DeviceLimits& lim) {
  const int trials = kMaxTrials;
  if (plan_lloyd(&k_max, 1, 0, d, lim).models == 0) refuse("the Lloyd pass", d);
  if (plan_kpp(&k_max, &trials, 1, 0, d, lim).models == 0) refuse("k-means++", d);
}

void launch_gather_labels(const std::int32_t* labels, const unsigned long long* rows, std::size_t m, std::int32_t* out,
                          cudaStream_t stream) {
  gather_labels_kernel<<<blocks_for(m), kThreads, 0, stream>>>(labels, rows, m, out);
  CUDA_CHECK_LAUNCH();
}

void launch_iota(std::int32_t* out, std::size_t n, cudaStream_t stream) {
  iota_kernel<<<blocks_for(n), kThreads, 0, stream>>>(out, n);
  CUDA_CHECK_LAUNCH();
}

void launch_dispersion(const float* x, const std::int32_t* weights, std::size_t n, int d, const float* centers, int k,
                       float dist_scale, float root_scale, const std::int32_t* labels, unsigned long long* acc,
                       int grid, const DeviceLimits& lim, cudaStream_t stream) {
  const DispersionPlan p = plan_dispersion(k, lim);
  allow_shared(dispersion_kernel, p.bytes);
  const int blocks = grid_for_tiles(n, p.threads, grid);
  dispersion_kernel<<<blocks, p.threads, p.bytes, stream>>>(x, weights, n, d, centers, k, dist_scale, root_scale,
                                                           labels, p.shared_sums, acc);
  CUDA_CHECK_LAUNCH();
}

void launch_lloyd_batch(const float* x, const std::int32_t* weights, std::size_t n, int d, const float* centers,
                        const int* ks_device, const int* ks_host, int models, float feature_scale, float dist_scale,
                        std::int32_t* labels, unsigned long long* acc, int grid, const DeviceLimits& lim,
                        cudaStream_t stream) {
  std::size_t coff = 0, aoff = 0;
  for (int b0 = 0; b0 < models;) {
    const TilePlan p = plan_lloyd(ks_host, models, b0, d, lim);
    if (p.models == 0) refuse("the Lloyd pass", d);
    const int blocks = grid_for_tiles(n, p.tile, grid);
    with_dims(d, [&](auto dims) {
      constexpr int D = decltype(dims)::value;
      allow_shared(lloyd_kernel<D>, p.layout.bytes);
      lloyd_kernel<D><<<blocks, p.threads, p.layout.bytes, stream>>>(x, weights, n, d, centers + coff, ks_device + b0,
                                                                    p, feature_scale, dist_scale, labels, acc + aoff);
      CUDA_CHECK_LAUNCH();
    });
    for (int b = b0; b < b0 + p.models; ++b) {
      coff += static_cast<std::size_t>(ks_host[b]) * d;
      aoff += static_cast<std::size_t>(ks_host[b]) * (d + 1) + 2;
    }
    b0 += p.models;
  }
}

void launch_kpp_potentials(const float* x, const std::int32_t* weights, std::size_t n, int d, const float* centers,
                           const int* ks_device, const float* cands, const int* trials_device,
                           const long long* cache_off, const float* cache, std::size_t first, const int* ks_host,
                           const int* trials_host, int models, float dist_scale, unsigned long long* out, int grid,
                           const DeviceLimits& lim, cudaStream_t stream) {
  std::size_t coff = 0, toff = 0, voff = 0;
  for (int b0 = 0; b0 < models;) {
    const TilePlan p = plan_kpp(ks_host, trials_host, models, b0, d, lim);
    if (p.models == 0) refuse("k-means++", d);
    const int blocks = grid_for_tiles(n, p.tile, grid);
    with_dims(d, [&](auto dims) {
      constexpr int D = decltype(dims)::value;
      allow_shared(kpp_kernel<D>, p.layout.bytes);
      kpp_kernel<D><<<blocks, p.threads, p.layout.bytes, stream>>>(x, weights, n, d, centers + coff, cands + toff,
                                                                  ks_device + b0, trials_device + b0, cache_off + b0,
                                                                  cache ? cache + first : nullptr, p, dist_scale,
                                                                  out + voff);
      CUDA_CHECK_LAUNCH();
    });
    coff += static_cast<std::size_t>(p.total_k) * d;
    toff += static_cast<std::size_t>(p.total_c) * d;
    voff += static_cast<std::size_t>(p.values);
    b0 += p.models;
  }
}

void launch_kpp_fold(const float* x, std::size_t n, int d, const float* centers, const long long* folds, int jobs,
                     float* cache, int grid, cudaStream_t stream) {
  if (n == 0 || jobs <= 0) return;
  const int blocks = grid_for_tiles(n, kThreads, grid);
  kpp_fold_kernel<<<blocks, kThreads, 0, stream>>>(x, n, d, centers, folds, jobs, cache);
  CUDA_CHECK_LAUNCH();
}

void launch_kpp_tile_potentials(const float* x, const std::int32_t* weights, std::size_t n, int d,
                                const float* centers, const int* ks_device, int models, const long long* cache_off,
                                const float* cache, float dist_scale, long long* tile_pot, std::size_t tile_offset,
                                std::size_t tile_stride, int grid, cudaStream_t stream) {
  const std::size_t tiles = (n + kSampleTile - 1) / kSampleTile;
  const int blocks = grid_for_tiles(n, kSampleTile, grid);
  kpp_tile_potentials_kernel<<<blocks, kThreads, 0, stream>>>(x, weights, n, d, centers, ks_device, models, cache_off,
                                                               cache, dist_scale, tile_pot, tiles, tile_offset,
                                                               tile_stride);
  CUDA_CHECK_LAUNCH();
}

void launch_kpp_sample(const float* x, const std::int32_t* weights, int d, const float* centers, const float* cache,
                       const long long* jobs, int count, float dist_scale, long long* rows, cudaStream_t stream) {
  if (count == 0) return;
  kpp_sample_kernel<<<count, kThreads, 0, stream>>>(x, weights, d, centers, cache, jobs, dist_scale, rows);
  CUDA_CHECK_LAUNCH();
}

}  // namespace archetype::cuda
