// Plain host launchers of the CUDA kernels (raw device pointers, explicit
// stream, caller-owned scratch, as CUB does).  Private to kernels/.
//
// Accumulator layout of the reduction kernels (int64 stored as unsigned
// long long so that atomicAdd wraps like two's complement):
//   [0, k)              rows per cluster
//   [k, k + k*v)        per-cluster sums of v int64 values per row
//   [k + k*v]           inertia (Lloyd) / unused
//   [k + k*v + 1]       rows whose label changed (Lloyd) / unused
// Every value is an exact integer sum of per-row rounded values, so the
// atomics' order does not matter (docs/ARCHITECTURE.md).
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

namespace archetype::cuda {

/// Dynamic shared memory the tile kernels need for k clusters, d features
/// and v values per row; 0 when it cannot fit (then the backend refuses).
std::size_t tile_shared_bytes(int k, int d, int v, int* tile_rows);

/// Nearest centre per row (ties to the lowest index), label update, and
/// the exact per-cluster sums of the quantized features; acc has
/// k + k*d + 2 zeroed values.
void launch_lloyd_pass(const float* x, std::size_t n, int d, const float* centers, int k, float feature_scale,
                       float dist_scale, std::int32_t* labels, unsigned long long* acc, int grid,
                       cudaStream_t stream);

/// With the stored labels: per-cluster sums of q(d2) and q(sqrt(d2)) to the
/// given centres; acc has k + 2k + 2 zeroed values ([k, 3k) interleaved
/// sq, root per cluster).
void launch_dispersion(const float* x, std::size_t n, int d, const float* centers, int k, float dist_scale,
                       float root_scale, const std::int32_t* labels, unsigned long long* acc, int grid,
                       cudaStream_t stream);

/// closest[i] = d2(row i, center).
void launch_seed_distances(const float* x, std::size_t n, int d, const float* center, float* closest, int grid,
                           cudaStream_t stream);
/// closest[i] = min(closest[i], d2(row i, center)).
void launch_commit_center(const float* x, std::size_t n, int d, const float* center, float* closest, int grid,
                          cudaStream_t stream);
/// out[t] += sum_i q(min(closest[i], d2(row i, cand t))) for t < m (m <= kMaxTrials); out zeroed.
constexpr int kMaxTrials = 32;
void launch_trial_potentials(const float* x, std::size_t n, int d, const float* candidates, int m,
                             const float* closest, float dist_scale, unsigned long long* out, int grid,
                             cudaStream_t stream);
/// q[i] = rint(closest[i] * dist_scale) as int64.
void launch_quantize_distances(const float* closest, std::size_t n, float dist_scale, long long* q, int grid,
                               cudaStream_t stream);
/// d2[i] = squared distance of row i to the centre of its label.
void launch_assigned_distances(const float* x, std::size_t n, int d, const float* centers,
                               const std::int32_t* labels, float* d2, int grid, cudaStream_t stream);

/// out[i] = labels[rows[i]] for i < m.
void launch_gather_labels(const std::int32_t* labels, const unsigned long long* rows, std::size_t m, std::int32_t* out,
                          cudaStream_t stream);

/// Silhouette sums: for every position p of the label-sorted rows xs
/// (column-major, d x n) and cluster c, sums[p * k + c] = the canonical-order
/// sum of distances from row p to the rows of c (segments seg_start[c] ..
/// seg_start[c+1]).
void launch_silhouette_sums(const float* xs, std::size_t n, int d, const std::int64_t* seg_start, int k,
                            double* sums, cudaStream_t stream);
/// s for each sorted position p, written to out[order[p]].
void launch_silhouette_values(const double* sums, const std::int64_t* counts, const std::int32_t* sorted_labels,
                              const std::int32_t* order, std::size_t n, int k, double* out, cudaStream_t stream);
/// xs[f * n + p] = y[order[p] * d + f].
void launch_gather_columns(const float* y, const std::int32_t* order, std::size_t n, int d, float* xs,
                           cudaStream_t stream);

}  // namespace archetype::cuda
