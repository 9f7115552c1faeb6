// Exact silhouette on the GPU, in the canonical order of
// docs/ARCHITECTURE.md: one thread per (label-sorted) row; for each cluster
// the block stages the cluster's rows chunk by chunk (kSilhouetteChunk rows,
// counted from the segment start) in shared memory; each thread sums its
// distances to a chunk in float, in row order, and adds the chunk sum to a
// double.  Memory is O(n k) (the per-row sums), never n x n.
#include <cuda_runtime.h>

#include <cmath>
#include <stdexcept>

#include "archetype/distance.hpp"
#include "cuda_check.cuh"
#include "kernels.cuh"
#include "launch_plan.hpp"

namespace archetype::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kChunk = static_cast<int>(kSilhouetteChunk);

/// Block (x, c): rows p of blockIdx.x against cluster c = blockIdx.y.  Each
/// (row, cluster) sum is independent, so putting the clusters on the grid
/// keeps the order and fills the GPU even for sampled sizes (20k-50k rows).
/// The row is held in D registers (d <= D; the guarded, unrolled loops
/// perform exactly the d operations of squared_distance(), and indexing by
/// unrolled constants keeps xi out of local memory).
template <int D>
__global__ void __launch_bounds__(kThreads)
    silhouette_sums_kernel(const float* __restrict__ xs, std::size_t n, int d, const long long* __restrict__ seg_start,
                           int k, double* __restrict__ sums) {
  extern __shared__ float chunk[];  // d x kChunk, feature-major
  const int c = blockIdx.y;
  const std::size_t p = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const bool active = p < n;
  float xi[D];
#pragma unroll
  for (int f = 0; f < D; ++f) xi[f] = active && f < d ? xs[static_cast<std::size_t>(f) * n + p] : 0.0f;
  const long long begin = seg_start[c], end = seg_start[c + 1];
  double acc = 0.0;
  for (long long j0 = begin; j0 < end; j0 += kChunk) {  // block-uniform
    const int len = static_cast<int>(end - j0 < kChunk ? end - j0 : kChunk);
    __syncthreads();  // every thread is done with the previous chunk
    for (int t = threadIdx.x; t < len * d; t += blockDim.x) {
      const int f = t / len, jj = t % len;
      chunk[f * kChunk + jj] = xs[static_cast<std::size_t>(f) * n + static_cast<std::size_t>(j0) + jj];
    }
    __syncthreads();
    if (active) {
      float part = 0.0f;
      for (int jj = 0; jj < len; ++jj) {
        // squared_distance() with the second row read from the chunk.
        float s = 0.0f;
#pragma unroll
        for (int f = 0; f < D; ++f)
          if (f < d) s = add_square(xi[f] - chunk[f * kChunk + jj], s);
        part = part + sqrtf(s);
      }
      acc += static_cast<double>(part);
    }
  }
  if (active) sums[p * k + c] = acc;
}

__global__ void silhouette_values_kernel(const double* __restrict__ sums, const long long* __restrict__ counts,
                                         const int* __restrict__ sorted_labels, const int* __restrict__ order,
                                         std::size_t n, int k, double* __restrict__ out) {
  for (std::size_t p = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; p < n;
       p += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    out[order[p]] = silhouette_value(sums + p * k, reinterpret_cast<const std::int64_t*>(counts), k, sorted_labels[p]);
}

__global__ void gather_columns_kernel(const float* __restrict__ y, const int* __restrict__ order, std::size_t n, int d,
                                      float* __restrict__ xs) {
  for (std::size_t p = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; p < n;
       p += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    for (int f = 0; f < d; ++f) xs[static_cast<std::size_t>(f) * n + p] = y[static_cast<std::size_t>(order[p]) * d + f];
}

int blocks_for(std::size_t n) {
  const std::size_t b = (n + kThreads - 1) / kThreads;
  return static_cast<int>(b < 65535 * 16 ? b : 65535 * 16);
}

}  // namespace

void launch_silhouette_sums(const float* xs, std::size_t n, int d, const std::int64_t* seg_start, int k,
                            double* sums, const DeviceLimits& lim, cudaStream_t stream) {
  const SilhouettePlan p = plan_silhouette(n, d, k, lim);
  const dim3 grid(static_cast<unsigned>(p.blocks_x), static_cast<unsigned>(p.blocks_y));
  const long long* seg = reinterpret_cast<const long long*>(seg_start);
  switch (p.dims) {
    case 1: silhouette_sums_kernel<1><<<grid, p.threads, p.bytes, stream>>>(xs, n, d, seg, k, sums); break;
    case 2: silhouette_sums_kernel<2><<<grid, p.threads, p.bytes, stream>>>(xs, n, d, seg, k, sums); break;
    case 4: silhouette_sums_kernel<4><<<grid, p.threads, p.bytes, stream>>>(xs, n, d, seg, k, sums); break;
    case 8: silhouette_sums_kernel<8><<<grid, p.threads, p.bytes, stream>>>(xs, n, d, seg, k, sums); break;
    case 16: silhouette_sums_kernel<16><<<grid, p.threads, p.bytes, stream>>>(xs, n, d, seg, k, sums); break;
    case 32: silhouette_sums_kernel<32><<<grid, p.threads, p.bytes, stream>>>(xs, n, d, seg, k, sums); break;
    case 64: silhouette_sums_kernel<64><<<grid, p.threads, p.bytes, stream>>>(xs, n, d, seg, k, sums); break;
    default: throw std::logic_error("launch_silhouette_sums: no GPU plan for this shape (the CPU computes it)");
  }
  CUDA_CHECK_LAUNCH();
}

void launch_silhouette_values(const double* sums, const std::int64_t* counts, const std::int32_t* sorted_labels,
                              const std::int32_t* order, std::size_t n, int k, double* out, cudaStream_t stream) {
  silhouette_values_kernel<<<blocks_for(n), kThreads, 0, stream>>>(sums, reinterpret_cast<const long long*>(counts),
                                                                  sorted_labels, order, n, k, out);
  CUDA_CHECK_LAUNCH();
}

void launch_gather_columns(const float* y, const std::int32_t* order, std::size_t n, int d, float* xs,
                           cudaStream_t stream) {
  gather_columns_kernel<<<blocks_for(n), kThreads, 0, stream>>>(y, order, n, d, xs);
  CUDA_CHECK_LAUNCH();
}

}  // namespace archetype::cuda
