// Launch plans of the CUDA kernels: block size, rows per tile, centre
// groups, where each array lives in dynamic shared memory and how many
// bytes that is.  Plain C++ (no CUDA headers) so that it is compiled into
// every build and checked by a host-only test (tests/launch_plan_test.cpp)
// against the limits of sm_75, sm_80 and sm_90: no GPU runs in CI, so a
// launch that would ask for too much shared memory must be caught here.
// The launchers in kernels/*.cu use exactly these plans and the kernels
// use exactly these offsets.
#pragma once

#include <cstddef>

#include "archetype/distance.hpp"  // ARCHETYPE_HD: pad_centres runs on both sides

namespace archetype::cuda {

/// What a device allows one block (bytes of shared memory, threads).
struct DeviceLimits {
  std::size_t shared_default = 48 * 1024;  ///< without cudaFuncSetAttribute
  std::size_t shared_optin = 48 * 1024;    ///< cudaDevAttrMaxSharedMemoryPerBlockOptin
  int max_threads = 1024;
};
DeviceLimits sm75_limits();  ///< 64 KiB opt-in (Turing)
DeviceLimits sm80_limits();  ///< 163 KiB opt-in (A100)
DeviceLimits sm90_limits();  ///< 227 KiB opt-in (H100/H200)

/// Threads per block of the tile kernels (fewer when a tile has fewer rows).
constexpr int kBlockThreads = 256;
/// Most rows per tile of the tile kernels.
constexpr int kMaxTileRows = 1024;
/// Centres are evaluated four at a time (one 16-byte shared load per feature).
constexpr int kCentreBlock = 4;
/// Silhouette: features held in registers at most (larger d runs on the CPU).
constexpr int kSilhouetteMaxDims = 64;

/// n rounded up to a multiple of kCentreBlock (the stride of a centre group).
ARCHETYPE_HD inline int pad_centres(int n) { return (n + kCentreBlock - 1) / kCentreBlock * kCentreBlock; }

/// Byte offsets of the arrays in a tile kernel's dynamic shared memory,
/// each 16-byte aligned; an array a kernel does not use has size 0.
struct TileLayout {
  std::size_t sums = 0;     ///< int64 accumulators (Lloyd: per-cluster sums; k-means++: potentials)
  std::size_t inertia = 0;  ///< int64 per model (Lloyd)
  std::size_t centres = 0;  ///< float centre groups, feature-major (stride: padded group size)
  std::size_t rows = 0;     ///< float rows of the tile, feature-major: rows[j * row_stride + r]
  std::size_t best = 0;     ///< float per row: running nearest distance across centre groups
  std::size_t labels = 0;   ///< int32 per row: running nearest centre (Lloyd)
  std::size_t bytes = 0;    ///< total: the dynamic shared memory of the launch
};

/// One launch of the Lloyd or k-means++ tile kernel: models
/// [first, first + models) of the batch.  All plain data, passed to the
/// kernel by value.
struct TilePlan {
  int first = 0, models = 0;
  int total_k = 0;         ///< centres of these models
  int total_c = 0;         ///< k-means++ candidates of these models
  int values = 0;          ///< int64 accumulators in shared memory (0: Lloyd sums go to global atomics)
  int threads = 0;         ///< block size, a multiple of 32
  int tile = 0;            ///< rows per tile
  int row_stride = 0;      ///< tile rounded up to odd: conflict-free feature-major rows
  int group = 0;           ///< centres per streamed group (a multiple of 4); 0: all centres resident
  bool shared_sums = false;  ///< Lloyd: per-cluster sums in shared memory
  TileLayout layout;
};

/// The Lloyd launch for the models from `first` on (ks[first..models)):
/// consecutive models while all their centres and sums fit in shared
/// memory; a model too large alone streams its centres in groups and, if
/// its sums do not fit either, adds them with global atomics.  plan.models
/// is 0 only when not even one row and four centres fit (d too large).
TilePlan plan_lloyd(const int* ks, int models, int first, int d, const DeviceLimits& lim);
/// The k-means++ potentials launch for the models from `first` on
/// (trials[b] candidates each), the same way.
TilePlan plan_kpp(const int* ks, const int* trials, int models, int first, int d, const DeviceLimits& lim);

/// The dispersion kernel: one thread per row, the row's centre read from
/// global memory; per-cluster sums (2 int64) in shared memory when they fit.
struct DispersionPlan {
  int threads = kBlockThreads;
  bool shared_sums = false;
  std::size_t bytes = 0;
};
DispersionPlan plan_dispersion(int k, const DeviceLimits& lim);

/// The silhouette sums kernel: grid (row blocks, clusters), a chunk of
/// kSilhouetteChunk rows of d floats in shared memory, the thread's row in
/// registers (dims: the register bucket, 0 when d is too large for the GPU
/// path and the CPU computes it in the same order).
struct SilhouettePlan {
  int threads = kBlockThreads;
  int dims = 0;
  std::size_t blocks_x = 0;
  int blocks_y = 0;
  std::size_t bytes = 0;
};
SilhouettePlan plan_silhouette(std::size_t n, int d, int k, const DeviceLimits& lim);

/// Blocks of a grid-stride tile kernel: at most `max_grid`, never more than
/// there are tiles (an idle block would still flush its zero sums).
int grid_for_tiles(std::size_t n, int tile, int max_grid);

}  // namespace archetype::cuda
