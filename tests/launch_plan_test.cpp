// The CUDA kernels' launch plans, checked on the host: no GPU runs in CI,
// and a launch asking for more shared memory than the device allows fails
// only at run time (the reference sweep once did).  For every kernel and
// every shape up to d = 1,024 and k = 4,096, and every sub-batch the fused
// sweep can make, the plan must be accepted on sm_75, sm_80 and sm_90, fit
// the device's limits, and its bytes must be the layout the kernel indexes.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "archetype/backend.hpp"
#include "archetype/distance.hpp"
#include "launch_plan.hpp"

namespace archetype::cuda {
namespace {

const int kDims[] = {1, 2, 3, 4, 7, 8, 16, 31, 32, 64, 128, 255, 256, 300, 512, 1000, 1024};
const int kKs[] = {1, 2, 5, 20, 32, 100, 500, 1000, 4096};

struct Device {
  const char* name;
  DeviceLimits lim;
};
std::vector<Device> devices() { return {{"sm_75", sm75_limits()}, {"sm_80", sm80_limits()}, {"sm_90", sm90_limits()}}; }

std::size_t end_of(std::size_t offset, std::size_t bytes) { return bytes == 0 ? 0 : offset + bytes; }

/// The layout holds what the kernel indexes: aligned, disjoint regions of
/// at least the sizes the kernel uses, ending at `bytes`.
void check_layout(const TilePlan& p, int d, bool lloyd, const std::string& what) {
  const TileLayout& L = p.layout;
  const std::size_t centre_floats =
      p.group > 0 ? static_cast<std::size_t>(d) * p.group : 0;  // resident: checked by the caller's sum
  struct Region {
    std::size_t off, need;
  };
  const Region regions[] = {
      {L.sums, static_cast<std::size_t>(p.values) * 8},
      {L.inertia, lloyd ? static_cast<std::size_t>(p.models) * 8 : 0},
      {L.centres, centre_floats * 4},
      {L.rows, static_cast<std::size_t>(d) * p.row_stride * 4},
      {L.best, static_cast<std::size_t>(p.tile) * 4},
      {L.labels, lloyd ? static_cast<std::size_t>(p.tile) * 4 : 0},
  };
  const std::size_t next[] = {L.inertia, L.centres, L.rows, L.best, L.labels, L.bytes};
  for (std::size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(regions[i].off % 16, 0u) << what << " region " << i;
    EXPECT_LE(end_of(regions[i].off, regions[i].need), next[i]) << what << " region " << i << " overlaps the next";
  }
  EXPECT_EQ(L.labels + (lloyd ? (static_cast<std::size_t>(p.tile) * 4 + 15) / 16 * 16 : 0), L.bytes) << what;
}

void check_common(const TilePlan& p, int d, const DeviceLimits& lim, const std::string& what) {
  ASSERT_GT(p.models, 0) << what << ": refused";
  EXPECT_GT(p.tile, 0) << what;
  EXPECT_LE(p.tile, kMaxTileRows) << what;
  EXPECT_EQ(p.row_stride % 2, 1) << what;
  EXPECT_GE(p.row_stride, p.tile) << what;
  EXPECT_GT(p.threads, 0) << what;
  EXPECT_EQ(p.threads % 32, 0) << what;
  EXPECT_LE(p.threads, std::min(kBlockThreads, lim.max_threads)) << what;
  EXPECT_LE(p.layout.bytes, lim.shared_optin) << what;
  EXPECT_EQ(p.group % kCentreBlock, 0) << what;
  EXPECT_TRUE(p.group == 0 || p.group >= kCentreBlock) << what;
  (void)d;
}

/// Walks the launches of a Lloyd batch as launch_lloyd_batch does.
void check_lloyd_batch(const std::vector<int>& ks, int d, const DeviceLimits& lim, const std::string& what) {
  const int models = static_cast<int>(ks.size());
  for (int b0 = 0; b0 < models;) {
    const TilePlan p = plan_lloyd(ks.data(), models, b0, d, lim);
    const std::string w = what + " launch at model " + std::to_string(b0);
    check_common(p, d, lim, w);
    if (p.models <= 0) return;
    EXPECT_EQ(p.first, b0) << w;
    EXPECT_LE(b0 + p.models, models) << w;
    check_layout(p, d, true, w);
    int total_k = 0;
    std::size_t sums = 0, resident = 0;
    for (int b = b0; b < b0 + p.models; ++b) {
      total_k += ks[static_cast<std::size_t>(b)];
      sums += static_cast<std::size_t>(ks[static_cast<std::size_t>(b)]) * (d + 1);
      resident += static_cast<std::size_t>(d) * pad_centres(ks[static_cast<std::size_t>(b)]);
    }
    EXPECT_EQ(p.total_k, total_k) << w;
    if (p.shared_sums) {
      EXPECT_EQ(static_cast<std::size_t>(p.values), sums) << w;
    } else {
      EXPECT_EQ(p.values, 0) << w;
      EXPECT_EQ(p.models, 1) << w;
    }
    if (p.group == 0) {
      EXPECT_LE(p.layout.centres + resident * 4, p.layout.rows) << w << ": resident centres overflow";
    } else {
      EXPECT_EQ(p.models, 1) << w;
      EXPECT_LT(p.group, pad_centres(total_k)) << w;
    }
    b0 += p.models;
  }
}

void check_kpp_batch(const std::vector<int>& ks, const std::vector<int>& trials, int d, const DeviceLimits& lim,
                     const std::string& what) {
  const int models = static_cast<int>(ks.size());
  for (int b0 = 0; b0 < models;) {
    const TilePlan p = plan_kpp(ks.data(), trials.data(), models, b0, d, lim);
    const std::string w = what + " launch at model " + std::to_string(b0);
    check_common(p, d, lim, w);
    if (p.models <= 0) return;
    EXPECT_EQ(p.first, b0) << w;
    check_layout(p, d, false, w);
    std::size_t values = 0, resident = 0;
    for (int b = b0; b < b0 + p.models; ++b) {
      values += 1 + static_cast<std::size_t>(trials[static_cast<std::size_t>(b)]);
      resident += static_cast<std::size_t>(d) *
                  (pad_centres(ks[static_cast<std::size_t>(b)]) + pad_centres(trials[static_cast<std::size_t>(b)]));
    }
    EXPECT_EQ(static_cast<std::size_t>(p.values), values) << w;
    if (p.group == 0) {
      EXPECT_LE(p.layout.centres + resident * 4, p.layout.rows) << w << ": resident centres overflow";
    } else {
      EXPECT_EQ(p.models, 1) << w;
    }
    b0 += p.models;
  }
}

TEST(LaunchPlan, EverySingleModelShapeIsAcceptedAndFits) {
  for (const Device& dev : devices())
    for (int d : kDims)
      for (int k : kKs) {
        const std::string what = std::string(dev.name) + " d=" + std::to_string(d) + " k=" + std::to_string(k);
        check_lloyd_batch({k}, d, dev.lim, "lloyd " + what);
        for (int t : {0, 1, 5, kMaxTrials}) check_kpp_batch({k}, {t}, d, dev.lim, "kpp t=" + std::to_string(t) + " " + what);
        const DispersionPlan dp = plan_dispersion(k, dev.lim);
        EXPECT_LE(dp.bytes, dev.lim.shared_optin) << "dispersion " << what;
        EXPECT_EQ(dp.bytes == 0, !dp.shared_sums) << "dispersion " << what;
        if (dp.shared_sums) {
          EXPECT_GE(dp.bytes, static_cast<std::size_t>(k) * 16) << "dispersion " << what;
        }
        for (std::size_t n : {std::size_t{1}, std::size_t{20000}, std::size_t{50001}}) {
          const SilhouettePlan sp = plan_silhouette(n, d, k, dev.lim);
          if (d <= kSilhouetteMaxDims) {
            EXPECT_GE(sp.dims, d) << "silhouette " << what;
            EXPECT_EQ(sp.bytes, static_cast<std::size_t>(d) * kSilhouetteChunk * 4) << "silhouette " << what;
            EXPECT_LE(sp.bytes, dev.lim.shared_default) << "silhouette " << what;
            EXPECT_EQ(sp.blocks_y, k) << "silhouette " << what;
            EXPECT_GE(sp.blocks_x * static_cast<std::size_t>(sp.threads), n) << "silhouette " << what;
          } else {
            EXPECT_EQ(sp.dims, 0) << "silhouette " << what << ": the CPU computes it";
          }
        }
      }
}

/// The reference sweep (k = 2..10 x 10 restarts, 90 models) and the
/// sub-batches the fused loop makes as models converge and leave: every
/// contiguous window, the batch that once crashed (6 models, 50 centres),
/// and seeded random subsets.
std::vector<std::vector<int>> sweep_batches() {
  std::vector<int> all;
  for (int k = 2; k <= 10; ++k)
    for (int r = 0; r < 10; ++r) all.push_back(k);
  std::vector<std::vector<int>> out;
  for (std::size_t i = 0; i < all.size(); ++i)
    for (std::size_t j = i + 1; j <= all.size(); ++j) out.emplace_back(all.begin() + i, all.begin() + j);
  out.push_back({10, 10, 10, 10, 5, 5});  // 6 models, 50 centres
  std::mt19937_64 rng(2026);
  for (int s = 0; s < 2000; ++s) {
    std::vector<int> sub;
    for (int k : all)
      if (rng() % 3 == 0) sub.push_back(k);
    if (!sub.empty()) out.push_back(sub);
  }
  return out;
}

TEST(LaunchPlan, EverySweepSubBatchFits) {
  const std::vector<std::vector<int>> batches = sweep_batches();
  for (const Device& dev : devices())
    for (int d : {1, 2, 3, 7, 8, 64, 300, 1024})
      for (const std::vector<int>& ks : batches) {
        const std::string what = std::string(dev.name) + " d=" + std::to_string(d) + " models=" + std::to_string(ks.size());
        check_lloyd_batch(ks, d, dev.lim, "lloyd " + what);
        std::vector<int> trials(ks.size());
        for (std::size_t b = 0; b < ks.size(); ++b) trials[b] = 2 + static_cast<int>(b % 3);  // 2 + log(k)
        check_kpp_batch(ks, trials, d, dev.lim, "kpp " + what);
        if (::testing::Test::HasFailure()) return;  // one shape's failures are enough to read
      }
}

TEST(LaunchPlan, OptInIsNeededExactlyAboveTheDefault) {
  // The crash of the reference sweep: a batch asking for 49,160 bytes
  // without the opt-in.  Plans above 48 KiB are launched only after
  // cudaFuncSetAttribute (launch_with_shared in kmeans_kernels.cu); on
  // sm_75 the soft budget is the whole 64 KiB.
  const std::vector<int> ks = {10, 10, 10, 10, 5, 5};
  const TilePlan p = plan_lloyd(ks.data(), 6, 0, 2, sm90_limits());
  EXPECT_EQ(p.models, 6);
  EXPECT_LE(p.layout.bytes, sm90_limits().shared_optin);
}

TEST(LaunchPlan, GridNeverExceedsTheTiles) {
  EXPECT_EQ(grid_for_tiles(1, 1024, 528), 1);
  EXPECT_EQ(grid_for_tiles(1025, 1024, 528), 2);
  EXPECT_EQ(grid_for_tiles(100000000, 1024, 528), 528);
  EXPECT_EQ(grid_for_tiles(0, 1024, 528), 1);
}

}  // namespace
}  // namespace archetype::cuda
