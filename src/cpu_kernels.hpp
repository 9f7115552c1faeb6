// Block kernels of the CPU backend: nearest centres, k-means++ distances and
// exact per-cluster sums for up to kBlock rows at a time.
//
// Vectorised across rows, never along the features: a group of kGroup rows
// is transposed to feature-major order, each SIMD lane holds one row and
// walks its features in order, so every distance is squared_distance()
// (archetype/distance.hpp) bit for bit, for any d.  Several centres share
// each load of the group (register blocking).  The hot functions are built
// for AVX-512, AVX2+FMA and baseline x86-64 and picked at load time; all
// perform the same IEEE operations (add_square is a correctly rounded fma),
// so they return the same bits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace archetype::cpu {

constexpr std::size_t kBlock = 256;  ///< rows per block (int32 block sums need <= 256 rows)
constexpr std::size_t kGroup = 16;   ///< rows per SIMD group (one AVX-512 register of floats)

/// Per-thread scratch of the block kernels, sized once for d features.
struct GroupScratch {
  std::vector<float> xt;  ///< one transposed group of rows, then one of centres (2 x kGroup x d)
  std::vector<std::int32_t> q;  ///< quantized features of a block, feature-major (d x kBlock)
  std::int32_t lab[kBlock];
  float best[kBlock];
  void size_for(std::size_t d) {
    xt.assign(2 * kGroup * d, 0.0f);
    q.assign(kBlock * d, 0);
  }
};

/// Nearest of k centres (k x d, row-major) for the m <= kBlock rows at x:
/// labels into lab, squared distances into best.  Ties keep the lowest
/// centre index (strict <, centres in increasing order).
void nearest_block(const float* x, std::size_t d, std::size_t m, const float* centers, int k,
                   std::int32_t* lab, float* best, GroupScratch& s);

/// closest[r] = min(closest[r], squared distance of row r to each of the k
/// centres); with `init` the previous values are ignored (+inf).  A minimum
/// is exact, so folding centres in several calls gives the same value.
void closest_block(const float* x, std::size_t d, std::size_t m, const float* centers, int k, bool init,
                   float* closest, GroupScratch& s);

/// pot[t] += sum over the m rows of q(min(closest[r], d2(row r, candidate t)))
/// for each of the `trials` candidates (trials x d floats).
void candidate_potentials(const float* x, std::size_t d, std::size_t m, const float* cands, int trials,
                          const float* closest, float dscale, std::int64_t* pot, GroupScratch& s);

/// d2[r] = squared distance of row r to centre lab[r] (lab[r] >= 0).
void assigned_distances(const float* x, std::size_t d, std::size_t m, const float* centers,
                        const std::int32_t* lab, float* d2, GroupScratch& s);

/// sum over the m values of rint(v[r] * scale) (fixed_point.hpp).
std::int64_t quantized_sum(const float* v, std::size_t m, float scale);

/// acc = [kk counts | kk x d sums]: for each of the m rows with lab[r] >= 0,
/// adds `sign` (+1 or -1) to its cluster's count and sign * q(feature) to
/// its sums.  Integer sums: the order does not matter.
void add_cluster_sums(const float* x, std::size_t d, std::size_t m, const std::int32_t* lab, float fscale,
                      std::size_t kk, int sign, std::int64_t* acc, GroupScratch& s);

}  // namespace archetype::cpu
