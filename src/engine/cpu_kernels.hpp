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
constexpr std::size_t kMaxBoundGroups = 64;  ///< the most groups of centres a model's Lloyd bounds have

/// Per-thread scratch of the block kernels, sized once for d features.
struct GroupScratch {
  /// One block of rows transposed group by group: group g (rows 16g..16g+15)
  /// at xt[16 g d + 16 j + i] = feature j of row 16g + i; lanes past the
  /// block's end repeat its last row.  Also assigned_distances' scratch.
  std::vector<float> xt;
  std::vector<std::int32_t> q;  ///< quantized features of a block, feature-major (d x kBlock)
  /// The same, row-major (kBlock x d), for the scatter of centroid sums:
  /// valid for the block at qr_block (quantized_rows), null: none.
  std::vector<std::int32_t> qr;
  const float* qr_block = nullptr;
  /// The current block transposed (xt's layout), when the pass has it, or
  /// null: quantized_rows and the moved rows of the Lloyd pass read their
  /// values there, still in cache from the distances, rather than from the
  /// rows in memory (measured at d = 16: the moved rows' cache misses were
  /// a tenth of the pass).  Set with qr_block at each block.
  const float* xt_block = nullptr;
  /// A weighted block, feature-major ((d + 1) x kBlock): row 0 the
  /// quantized weights w, row 1 + j the products w x q(feature j).
  std::vector<std::int64_t> wq;
  /// The bounded Lloyd pass's scratch: assigned_distances' (4 x kGroup x d)
  /// floats; the rows to scan of each group of centres (kMaxBoundGroups x
  /// kBlock).
  std::vector<float> aux;
  std::vector<std::int32_t> group_rows;
  std::vector<std::uint8_t> need;  ///< kMaxBoundGroups x kBlock flags, group-major: which rows scan each group
  std::int32_t idx[kBlock];
  float second[kBlock];
  std::int32_t lab[kBlock];
  float best[kBlock];
  void size_for(std::size_t d) {
    xt.assign((kBlock + kGroup) * d, 0.0f);
    aux.assign(4 * kGroup * d, 0.0f);
    group_rows.assign(kMaxBoundGroups * kBlock, 0);
    need.assign(kMaxBoundGroups * kBlock, 0);
    q.assign(kBlock * d, 0);
    qr.assign(kBlock * d, 0);
    qr_block = nullptr;
    xt_block = nullptr;
    wq.assign(kBlock * (d + 1), 0);
  }
};

/// The m <= kBlock rows at x quantized row-major (quantize_feature of
/// x[r * d + j] at [r * d + j]) in s.qr, computed once per block: one
/// sequential read of the rows and one vector loop serve every moved row of
/// every model, instead of quantizing each moved row from memory again per
/// model.  Callers set s.qr_block = nullptr before a new block, and
/// s.xt_block to the block transposed when they have it (read instead of x).
const std::int32_t* quantized_rows(const float* x, std::size_t d, std::size_t m, float fscale, GroupScratch& s);

/// Transposes the m <= kBlock rows at x (row-major) into s.xt, in the
/// layout the kernels below read (`xt`): one transposition serves every
/// model of a batch.
void transpose_block(const float* x, std::size_t d, std::size_t m, GroupScratch& s);

/// The same layout for all n rows at once (out: ceil(n / 16) * 16 * d
/// floats; rows [r, r + m) of a block start at out + r * d for r a
/// multiple of 16), on `threads` threads.
void transpose_rows(const float* x, std::size_t d, std::size_t n, float* out, int threads);

/// Nearest of k centres (k x d, row-major) for the transposed block xt's m
/// rows: labels into lab, squared distances into best.  Ties keep the
/// lowest centre index (strict <, centres in increasing order).
void nearest_block(const float* xt, std::size_t d, std::size_t m, const float* centers, int k,
                   std::int32_t* lab, float* best);

/// nearest_block for the m rows at x (row-major), for one set of centres:
/// at d <= 2 each group is transposed in registers, otherwise through s.
void nearest_rows(const float* x, std::size_t d, std::size_t m, const float* centers, int k, std::int32_t* lab,
                  float* best, GroupScratch& s);

/// closest[r] = min(closest[r], squared distance of row r of the transposed
/// block to each of the k centres); with `init` the previous values are
/// ignored (+inf).  A minimum is exact, so folding centres in several calls
/// gives the same value.
void closest_block(const float* xt, std::size_t d, std::size_t m, const float* centers, int k, bool init,
                   float* closest);

/// Where candidate_potentials also keeps the candidates' distances, for a
/// later fold of the chosen one (fold_distances) instead of computing them
/// again: candidate t < trials writes d2(row r, candidate t) of the block's
/// rows to dists[t * stride + r], whole groups of lanes (stride: the rows
/// rounded up to a whole group, so the last block's padding lanes land in
/// the padding).  trials = 0: none kept.
struct CandidateDistances {
  float* dists = nullptr;  ///< at the block's first row
  std::size_t stride = 0;
  int trials = 0;
};

/// current += sum over the transposed block's m rows of w[r] q(closest[r])
/// (the potential of the centres so far), and pot[t] += the same sum of
/// w[r] q(min(closest[r], d2(row r, candidate t))) for each of the `trials`
/// candidates (trials x d floats); w null: every row 1.  `keep`: the first
/// keep.trials candidates' distances, as above.
void candidate_potentials(const float* xt, std::size_t d, std::size_t m, const float* cands, int trials,
                          const float* closest, float dscale, const std::int32_t* w, std::int64_t& current,
                          std::int64_t* pot, const CandidateDistances& keep = {});

/// closest_block and candidate_potentials for the m rows at x (row-major),
/// as nearest_rows: at d <= 2 each group is transposed in registers (a
/// pass that transposed every block first spent more time in that copy than
/// in these kernels), otherwise through s.  The same bits as the block forms.
void closest_rows(const float* x, std::size_t d, std::size_t m, const float* centers, int k, bool init,
                  float* closest, GroupScratch& s);
void candidate_potentials_rows(const float* x, std::size_t d, std::size_t m, const float* cands, int trials,
                               const float* closest, float dscale, const std::int32_t* w, std::int64_t& current,
                               std::int64_t* pot, GroupScratch& s, const CandidateDistances& keep = {});

/// closest[r] = min(closest[r], d2[r]) for m rows, the minimum as
/// closest_block takes it: with d2 a centre's distances as
/// candidate_potentials kept them (the same bits as closest_block computes),
/// the same result as closest_block(..., that centre, init = false).
void fold_distances(const float* d2, std::size_t m, float* closest);

/// d2[r] = squared distance of row r of the transposed block xt to centre
/// lab[r] (lab[r] >= 0); scratch holds 4 x kGroup x d floats.
void assigned_distances(const float* xt, std::size_t d, std::size_t m, const float* centers,
                        const std::int32_t* lab, float* d2, float* scratch);

/// nearest_block that also gives each row's second smallest squared
/// distance (over the other centres; +inf when k = 1), for the Lloyd
/// bounds.  Same labels and best distances as nearest_block.
void nearest2_block(const float* xt, std::size_t d, std::size_t m, const float* centers, int k,
                    std::int32_t* lab, float* best, float* second);

/// For the `count` rows x[idx[q] * d ..] (row-major) and one group of 16
/// centres held transposed (ct[j * 16 + i] = feature j of the group's
/// centre i; a missing centre is +inf in every feature): the smallest
/// squared distance best[q], its lane lane[q] (the lowest lane among equal
/// values) and the second smallest second[q] (equal to best[q] on a tie).
/// With thr (indexed like x's rows: thr[idx[q]]), lane[q] and second[q]
/// are only computed where best[q] <= thr[idx[q]] (elsewhere 0 and +inf:
/// the group cannot win the row, and the search for the lane costs as much
/// as a short distance loop).  Each distance has the bits of
/// squared_distance(), as in the kernels above, with the centres in the
/// SIMD lanes instead of the rows: the Lloyd bounds scan a few groups of
/// centres for scattered rows without gathering them.
void rows_to_group(const float* x, std::size_t d, const std::int32_t* idx, std::size_t count, const float* ct,
                   const float* thr, std::int32_t* lane, float* best, float* second);

/// sum over the m values of w[r] rint(v[r] * scale) (fixed_point.hpp); w
/// null: every weight 1.
std::int64_t quantized_sum(const float* v, std::size_t m, float scale, const std::int32_t* w = nullptr);

/// s.q = the m rows at x quantized (rint(x * fscale)), feature-major.
void quantize_block(const float* x, std::size_t d, std::size_t m, float fscale, GroupScratch& s);

/// s.wq = the m rows at x weighted: their quantized weights w (m values)
/// and the products w x q(feature), feature-major.
void weigh_block(const float* x, const std::int32_t* w, std::size_t d, std::size_t m, float fscale, GroupScratch& s);

/// Whether add_cluster_sums recounts a block of kk clusters of d features
/// from scratch cheaply (small k and d: the masked regime; weighted, one
/// masked pass per cluster over s.wq; unweighted, see sums_by_columns)
/// rather than scattering rows one by one into int64 sums.
bool sums_by_mask(std::size_t kk, std::size_t d);

/// Whether add_cluster_sums reads the block unweighted from s.q
/// (quantize_block, feature-major): the masked regime at d <= 2.  From
/// three features it adds the rows' partial sums from quantized_rows.
bool sums_by_columns(std::size_t kk, std::size_t d);

/// acc = [kk counts | kk x d sums]: for each of the m rows with lab[r] >= 0,
/// adds `sign` (+1 or -1) x its weight w[r] (1 when w is null) to its
/// cluster's count and sign x w[r] x q(feature) to its sums.  Integer sums:
/// the order does not matter.  `quantized`: s.q already holds
/// quantize_block of these rows (read when sums_by_columns), or with weights
/// s.wq weigh_block's (a batch quantizes once).
void add_cluster_sums(const float* x, std::size_t d, std::size_t m, const std::int32_t* lab, const std::int32_t* w,
                      float fscale, std::size_t kk, int sign, std::int64_t* acc, GroupScratch& s,
                      bool quantized = false);

}  // namespace archetype::cpu
