// Launch plans of the CUDA kernels (see launch_plan.hpp).  Every byte count
// is computed by make_layout, the one function that places the arrays the
// kernels index, so a plan's bytes are its layout's bytes by construction.
#include "launch_plan.hpp"

#include <algorithm>

namespace archetype::cuda {
namespace {

std::size_t align16(std::size_t bytes) { return (bytes + 15) / 16 * 16; }

/// Places [sums][inertia][centres][rows][best][labels], 16-byte aligned.
TileLayout make_layout(std::size_t sum_values, std::size_t inertia_values, std::size_t centre_floats, int d,
                       int tile, int row_stride, bool labels) {
  TileLayout L;
  std::size_t off = 0;
  L.sums = off;
  off += align16(sum_values * 8);
  L.inertia = off;
  off += align16(inertia_values * 8);
  L.centres = off;
  off += align16(centre_floats * 4);
  L.rows = off;
  off += align16(static_cast<std::size_t>(d) * static_cast<std::size_t>(row_stride) * 4);
  L.best = off;
  off += align16(static_cast<std::size_t>(tile) * 4);
  L.labels = off;
  off += labels ? align16(static_cast<std::size_t>(tile) * 4) : 0;
  L.bytes = off;
  return L;
}

/// Odd row stride: lanes reading feature j of consecutive rows, and threads
/// storing consecutive features of one row, hit distinct banks.
int stride_for(int tile) { return tile | 1; }

/// Shared memory a plan may use: up to 100 KiB (two blocks per SM on
/// sm_90) when the device allows it, else everything it allows.
std::size_t soft_budget(const DeviceLimits& lim) {
  return std::max(lim.shared_default, std::min<std::size_t>(lim.shared_optin, 100 * 1024));
}

/// Rows per tile: a multiple of 32 (up to kMaxTileRows) whose rows take at
/// most `budget` bytes; fewer than 32 only for very wide rows; 0 if not even
/// one row fits.
int choose_tile(int d, bool labels, std::size_t budget) {
  auto bytes = [&](int t) { return make_layout(0, 0, 0, d, t, stride_for(t), labels).bytes; };
  for (int t = kMaxTileRows; t >= 32; t -= 32)
    if (bytes(t) <= budget) return t;
  for (int t = 31; t >= 1; --t)
    if (bytes(t) <= budget) return t;
  return 0;
}

int threads_for(int tile) { return std::min(kBlockThreads, (tile + 31) / 32 * 32); }

/// Centres per streamed group that fit in `room` bytes (a multiple of 4,
/// at most the padded k); 0 if fewer than 4 fit.
int group_for(std::size_t room, int d, int k) {
  const std::size_t per_centre = static_cast<std::size_t>(d) * 4;
  int g = static_cast<int>(std::min<std::size_t>(room / per_centre, 1 << 20)) / kCentreBlock * kCentreBlock;
  g = std::min(g, pad_centres(k));
  return g >= kCentreBlock ? g : 0;
}

TilePlan base_plan(int first, int tile) {
  TilePlan p;
  p.first = first;
  p.tile = tile;
  p.row_stride = stride_for(tile);
  p.threads = threads_for(tile);
  return p;
}

}  // namespace

DeviceLimits sm75_limits() { return {48 * 1024, 64 * 1024, 1024}; }
DeviceLimits sm80_limits() { return {48 * 1024, 163 * 1024, 1024}; }
DeviceLimits sm90_limits() { return {48 * 1024, 227 * 1024, 1024}; }

TilePlan plan_lloyd(const int* ks, int models, int first, int d, const DeviceLimits& lim) {
  for (const std::size_t budget : {soft_budget(lim), lim.shared_optin}) {
    const int tile = choose_tile(d, true, budget / 2);
    if (tile == 0) continue;
    const int stride = stride_for(tile);
    // 1. Consecutive models with all centres resident and sums in shared memory.
    TilePlan p = base_plan(first, tile);
    std::size_t sums = 0, centres = 0;
    for (int b = first; b < models; ++b) {
      const int k = ks[b];
      const std::size_t s = sums + static_cast<std::size_t>(k) * (d + 1);
      const std::size_t c = centres + static_cast<std::size_t>(d) * pad_centres(k);
      const TileLayout L = make_layout(s, b + 1 - first, c, d, tile, stride, true);
      if (L.bytes > budget) break;
      sums = s;
      centres = c;
      p.models = b + 1 - first;
      p.total_k += k;
      p.layout = L;
    }
    if (p.models > 0) {
      p.values = static_cast<int>(sums);
      p.shared_sums = true;
      return p;
    }
    // 2. One model: its centres in groups; its sums in shared memory if they
    //    fit beside a group of at least 4 centres, else global atomics.
    const int k = ks[first];
    for (const bool shared : {true, false}) {
      const std::size_t s = shared ? static_cast<std::size_t>(k) * (d + 1) : 0;
      const TileLayout base = make_layout(s, 1, 0, d, tile, stride, true);
      if (base.bytes > budget) continue;
      const int g = group_for(budget - base.bytes, d, k);
      if (g == 0) continue;
      p.models = 1;
      p.total_k = k;
      p.values = static_cast<int>(s);
      p.shared_sums = shared;
      p.group = g >= pad_centres(k) ? 0 : g;  // all fit: resident
      p.layout = make_layout(s, 1, static_cast<std::size_t>(d) * g, d, tile, stride, true);
      return p;
    }
  }
  return TilePlan{};
}

TilePlan plan_kpp(const int* ks, const int* trials, int models, int first, int d, const DeviceLimits& lim) {
  for (const std::size_t budget : {soft_budget(lim), lim.shared_optin}) {
    const int tile = choose_tile(d, false, budget / 2);
    if (tile == 0) continue;
    const int stride = stride_for(tile);
    // 1. Consecutive models with centres and candidates resident.
    TilePlan p = base_plan(first, tile);
    std::size_t values = 0, centres = 0;
    for (int b = first; b < models; ++b) {
      const std::size_t v = values + 1 + static_cast<std::size_t>(trials[b]);
      const std::size_t c =
          centres + static_cast<std::size_t>(d) * (pad_centres(ks[b]) + pad_centres(trials[b]));
      const TileLayout L = make_layout(v, 0, c, d, tile, stride, false);
      if (L.bytes > budget) break;
      values = v;
      centres = c;
      p.models = b + 1 - first;
      p.total_k += ks[b];
      p.total_c += trials[b];
      p.layout = L;
    }
    if (p.models > 0) {
      p.values = static_cast<int>(values);
      return p;
    }
    // 2. One model: centres, then candidates, streamed in groups.
    const std::size_t v = 1 + static_cast<std::size_t>(trials[first]);
    const TileLayout base = make_layout(v, 0, 0, d, tile, stride, false);
    if (base.bytes > budget) continue;
    const int g = group_for(budget - base.bytes, d, std::max(ks[first], trials[first]));
    if (g == 0) continue;
    p.models = 1;
    p.total_k = ks[first];
    p.total_c = trials[first];
    p.values = static_cast<int>(v);
    p.group = g;  // step 1 failed: the model does not fit resident
    p.layout = make_layout(v, 0, static_cast<std::size_t>(d) * g, d, tile, stride, false);
    return p;
  }
  return TilePlan{};
}

DispersionPlan plan_dispersion(int k, const DeviceLimits& lim) {
  DispersionPlan p;
  const std::size_t bytes = align16(static_cast<std::size_t>(k) * 2 * 8);
  p.shared_sums = bytes <= soft_budget(lim);
  p.bytes = p.shared_sums ? bytes : 0;
  return p;
}

SilhouettePlan plan_silhouette(std::size_t n, int d, int k, const DeviceLimits& lim) {
  SilhouettePlan p;
  p.bytes = static_cast<std::size_t>(d) * kSilhouetteChunk * sizeof(float);
  if (d > kSilhouetteMaxDims || k > 65535 || p.bytes > lim.shared_default) return SilhouettePlan{kBlockThreads, 0, 0, 0, 0};
  p.dims = 1;
  while (p.dims < d) p.dims *= 2;
  p.blocks_x = (n + kBlockThreads - 1) / kBlockThreads;
  p.blocks_y = k;
  return p;
}

int grid_for_tiles(std::size_t n, int tile, int max_grid) {
  const std::size_t tiles = (n + static_cast<std::size_t>(tile) - 1) / static_cast<std::size_t>(tile);
  return static_cast<int>(std::max<std::size_t>(1, std::min<std::size_t>(tiles, static_cast<std::size_t>(max_grid))));
}

}  // namespace archetype::cuda
