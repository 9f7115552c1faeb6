// Plain host launchers of the CUDA kernels (raw device pointers, explicit
// stream, caller-owned scratch, as CUB does).  Private to kernels/.
//
// Accumulator layout of the reduction kernels (int64 stored as unsigned
// long long so that atomicAdd wraps like two's complement):
//   [0, k)              rows per cluster (with weights: their sum)
//   [k, k + k*v)        per-cluster sums of v int64 values per row
//   [k + k*v]           inertia (Lloyd) / unused
//   [k + k*v + 1]       rows whose label changed (Lloyd) / unused
// Every value is an exact integer sum of per-row rounded values, so the
// atomics' order does not matter (docs/ARCHITECTURE.md).  `weights` (n
// quantized sample weights of the rows at x, or null: every row 1)
// multiply each row's values before they are summed, as on the CPU.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "archetype/backend.hpp"
#include "cuda_check.cuh"
#include "launch_plan.hpp"

namespace archetype::cuda {

/// The limits of a device that the launch plans respect.
DeviceLimits device_limits(int device);

/// Throws DeviceError when even the smallest tile of the Lloyd or k-means++
/// kernel does not fit the device for d features (only very large d; every
/// k is accepted: centres are streamed in groups when they do not fit).
void check_shapes(int d, int k_max, const DeviceLimits& lim);

/// Lets `kernel` use `bytes` of dynamic shared memory: above the 48 KiB
/// every device allows by default, the opt-in of sm_70+ is required.
template <typename Kernel>
void allow_shared(Kernel* kernel, std::size_t bytes) {
  if (bytes > 48 * 1024)
    CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)));
}

/// One Lloyd pass for `models` models (centres model after model, k of each
/// in ks_device and ks_host): nearest centre per row (ties to the lowest
/// index) and the exact per-cluster sums; acc holds per model
/// [k counts | k*d sums | inertia | changed], zeroed.  With `labels` (one
/// model only) the labels are stored and the changed ones counted.
void launch_lloyd_batch(const float* x, const std::int32_t* weights, std::size_t n, int d, const float* centers,
                        const int* ks_device,
                        const int* ks_host, int models, float feature_scale, float dist_scale, std::int32_t* labels,
                        unsigned long long* acc, int grid, const DeviceLimits& lim, cudaStream_t stream);

/// With the stored labels: per-cluster sums of q(d2) and q(sqrt(d2)) to the
/// given centres; acc has k + 2k + 2 zeroed values ([k, 3k) interleaved
/// sq, root per cluster).
void launch_dispersion(const float* x, const std::int32_t* weights, std::size_t n, int d, const float* centers, int k,
                       float dist_scale,
                       float root_scale, const std::int32_t* labels, unsigned long long* acc, int grid,
                       const DeviceLimits& lim, cudaStream_t stream);

// The k-means++ distance cache: per model that has one, n floats (one per
// row of the data), each the squared distance of the row to the nearest of
// the centres folded in so far (launch_kpp_fold).  k-means++ adds one
// centre per step, so a step folds one centre instead of computing k
// distances per row.  cache_off (device, one per model of the batch) gives
// each model's offset into `cache`, or -1: no cache, every distance
// computed.  A min is exact: both ways give the same bits.

/// Values per fold job: the centres' offset in `centers` (floats), their
/// count, reset (1: the cache starts over from these centres alone, else
/// they are folded into it) and the model's cache offset.
constexpr int kFoldValues = 4;
/// Runs `jobs` fold jobs (device, kFoldValues each) over the n rows at x in
/// one read of them; `cache` points at the caches' entry of x's row 0.
void launch_kpp_fold(const float* x, std::size_t n, int d, const float* centers, const long long* folds, int jobs,
                     float* cache, int grid, cudaStream_t stream);

/// k-means++ potentials of a batch (Backend::kpp_potentials' layout) into
/// out (zeroed, sum over models of 1 + trials values).  Row r of x is row
/// first + r of the data (the caches' index).
void launch_kpp_potentials(const float* x, const std::int32_t* weights, std::size_t n, int d, const float* centers,
                           const int* ks_device, const float* cands, const int* trials_device,
                           const long long* cache_off, const float* cache, std::size_t first, const int* ks_host,
                           const int* trials_host, int models, float dist_scale, unsigned long long* out, int grid,
                           const DeviceLimits& lim, cudaStream_t stream);

/// Rows per tile of the k-means++ sampling search.
constexpr int kSampleTile = 4096;
/// tile_pot[b * tile_stride + tile_offset + t] = sum of w q(closest_b) over
/// tile t (kSampleTile rows) of the n rows at x (x's row 0 is data row
/// tile_offset * kSampleTile).
void launch_kpp_tile_potentials(const float* x, const std::int32_t* weights, std::size_t n, int d,
                                const float* centers, const int* ks_device, int models, const long long* cache_off,
                                const float* cache, float dist_scale, long long* tile_pot, std::size_t tile_offset,
                                std::size_t tile_stride, int grid, cudaStream_t stream);
/// Values per k-means++ sampling job: centre offset, k, tile begin, tile
/// end, residual target, the model's cache offset (-1: none), the data row
/// of x's row 0 (the cache's index of the rows at x).
constexpr int kJobValues = 7;
/// For each of `count` jobs (kJobValues values each) the first row of the
/// tile whose inclusive prefix of w q(closest) exceeds the residual, into
/// rows (tiles index x and weights).
void launch_kpp_sample(const float* x, const std::int32_t* weights, int d, const float* centers, const float* cache,
                       const long long* jobs, int count, float dist_scale, long long* rows, cudaStream_t stream);

/// out[i] = i for i < n (the row order the silhouette sorts).
void launch_iota(std::int32_t* out, std::size_t n, cudaStream_t stream);

/// out[i] = labels[rows[i]] for i < m.
void launch_gather_labels(const std::int32_t* labels, const unsigned long long* rows, std::size_t m, std::int32_t* out,
                          cudaStream_t stream);

/// Silhouette sums: for every position p of the label-sorted rows xs
/// (column-major, d x n) and cluster c, sums[p * k + c] = the canonical-order
/// sum of distances from row p to the rows of c (segments seg_start[c] ..
/// seg_start[c+1]).
/// Needs plan_silhouette(n, d, k).dims > 0 (else the CPU computes it).
void launch_silhouette_sums(const float* xs, std::size_t n, int d, const std::int64_t* seg_start, int k,
                            double* sums, const DeviceLimits& lim, cudaStream_t stream);
/// s for each sorted position p, written to out[order[p]].
void launch_silhouette_values(const double* sums, const std::int64_t* counts, const std::int32_t* sorted_labels,
                              const std::int32_t* order, std::size_t n, int k, double* out, cudaStream_t stream);
/// xs[f * n + p] = y[order[p] * d + f].
void launch_gather_columns(const float* y, const std::int32_t* order, std::size_t n, int d, float* xs,
                           cudaStream_t stream);

}  // namespace archetype::cuda
