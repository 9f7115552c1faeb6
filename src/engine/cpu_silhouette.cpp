#include "engine/cpu_silhouette.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "archetype/distance.hpp"
#include "engine/cpu_clones.hpp"
#include "engine/lane_squares.hpp"

namespace archetype {
namespace {

// Rows evaluated together: the inner loops run over them, so they vectorise
// (each lane a different row i walking the same sorted rows j).
constexpr std::size_t kLanes = cpu::kLaneRows;

/// chunk_distance_sums for a few features (D, row-major sorted rows): the
/// lanes' features stay in registers, each sorted row is read once.
template <std::size_t D>
inline __attribute__((always_inline)) void small_d_sums(const float* __restrict xi, const float* __restrict xs,
                                                        std::size_t begin, std::size_t end, float* __restrict p) {
  float xf[D][kLanes];
  for (std::size_t f = 0; f < D; ++f)
    for (std::size_t r = 0; r < kLanes; ++r) xf[f][r] = xi[f * kLanes + r];
  for (std::size_t j = begin; j < end; ++j) {
    const float* __restrict row = xs + j * D;
    float s[kLanes] = {};
    for (std::size_t f = 0; f < D; ++f) {
      const float c = row[f];
#pragma omp simd
      for (std::size_t r = 0; r < kLanes; ++r) s[r] = add_square(xf[f][r] - c, s[r]);
    }
#pragma omp simd
    for (std::size_t r = 0; r < kLanes; ++r) p[r] = p[r] + std::sqrt(s[r]);
  }
}

/// Rows of one task of the symmetric path: a chunk (kSilhouetteChunk rows).
constexpr std::size_t kChunk = kSilhouetteChunk;

/// chunk_distance_sums for any d (row-major sorted rows): four sorted rows
/// at a time share each load of the lanes' features; their roots are still
/// added to p one row after the other, in j order.  L: the lane form
/// (lane_squares.hpp), fixed at compile time: with `Auto` the form's test
/// sits inside the loop over sorted rows and GCC allocated both forms'
/// registers worse than either alone (measured at 27,386 x 16, k = 5, one
/// thread on AVX2: One 687-700 ms, Auto 820-983, Two 504-600).
template <cpu::LaneForm L>
inline __attribute__((always_inline)) void wide_sums(const float* __restrict xi, const float* __restrict xs,
                                                     std::size_t d, std::size_t begin, std::size_t end,
                                                     float* __restrict pout) {
  float p[kLanes];
  for (std::size_t r = 0; r < kLanes; ++r) p[r] = pout[r];
  std::size_t j = begin;
  for (; j + 4 <= end; j += 4) {
    float s0[kLanes], s1[kLanes], s2[kLanes], s3[kLanes];
    {
      const float* row = xs + j * d;
      cpu::lane_squares4<0, L>(xi, d, row, row + d, row + 2 * d, row + 3 * d, s0, s1, s2, s3);
    }
#pragma omp simd
    for (std::size_t r = 0; r < kLanes; ++r) {
      float acc = p[r];
      acc = acc + std::sqrt(s0[r]);
      acc = acc + std::sqrt(s1[r]);
      acc = acc + std::sqrt(s2[r]);
      p[r] = acc + std::sqrt(s3[r]);
    }
  }
  for (; j < end; ++j) {
    float s[kLanes];
    cpu::lane_squares1<0, L>(xi, d, xs + j * d, s);
#pragma omp simd
    for (std::size_t r = 0; r < kLanes; ++r) p[r] = p[r] + std::sqrt(s[r]);
  }
  for (std::size_t r = 0; r < kLanes; ++r) pout[r] = p[r];
}

/// Adds, for kLanes rows held column-wise in xi (d x kLanes), the float sum
/// of their distances to sorted rows [begin, end) into pout.  xs holds the
/// sorted rows column-major (stride n) for d = 2, row-major otherwise (a
/// row's features then share cache lines).  Per lane this is exactly
/// squared_distance() then sqrtf, summed in j order.  Plain arrays rather than vector types, so that GCC
/// vectorises add_square into fused multiply-adds; target_clones builds
/// AVX-512, AVX2 and baseline copies, all with the same IEEE operations,
/// hence the same bits.
ARCHETYPE_CLONES
void chunk_distance_sums(const float* __restrict xi, const float* __restrict xs, std::size_t n, std::size_t d,
                         std::size_t begin, std::size_t end, float* __restrict pout) {
  float p[kLanes];
  for (std::size_t r = 0; r < kLanes; ++r) p[r] = pout[r];
  if (d == 2) {
    float x0[kLanes], x1[kLanes];
    for (std::size_t r = 0; r < kLanes; ++r) {
      x0[r] = xi[r];
      x1[r] = xi[kLanes + r];
    }
    const float* __restrict xs0 = xs;
    const float* __restrict xs1 = xs + n;
    for (std::size_t j = begin; j < end; ++j) {
      const float a = xs0[j], b = xs1[j];
      for (std::size_t r = 0; r < kLanes; ++r) {
        const float s = add_square(x1[r] - b, add_square(x0[r] - a, 0.0f));
        p[r] = p[r] + std::sqrt(s);
      }
    }
  } else if (d <= 8) {  // GCC keeps the lanes' features in registers only for a d known at compile time
    switch (d) {
      case 1: small_d_sums<1>(xi, xs, begin, end, p); break;
      case 3: small_d_sums<3>(xi, xs, begin, end, p); break;
      case 4: small_d_sums<4>(xi, xs, begin, end, p); break;
      case 5: small_d_sums<5>(xi, xs, begin, end, p); break;
      case 6: small_d_sums<6>(xi, xs, begin, end, p); break;
      case 7: small_d_sums<7>(xi, xs, begin, end, p); break;
      default: small_d_sums<8>(xi, xs, begin, end, p); break;
    }
  } else if (cpu::lanes_in_one_register()) {
    wide_sums<cpu::LaneForm::One>(xi, xs, d, begin, end, p);
  } else {
    wide_sums<cpu::LaneForm::Two>(xi, xs, d, begin, end, p);
  }
  for (std::size_t r = 0; r < kLanes; ++r) pout[r] = p[r];
}


/// For kLanes rows held column-wise in xi (d x kLanes) and sorted rows
/// [begin, end) (row-major xs): the distances stored j-major at
/// t[(j - begin) * kLanes + lane] (a distance row's 16 lanes contiguous, for
/// the column sums) and added to p in row order (exactly
/// chunk_distance_sums' values).  Three loops: the squares (the shared
/// lane kernel), the roots over the whole tile, the row sums; in one loop
/// GCC turns the roots that are also stored into scalar square roots,
/// which cost more than the distances at d = 32.
template <cpu::LaneForm L>
inline __attribute__((always_inline)) void tile_distances_as(const float* __restrict xi, const float* __restrict xs,
                                                            std::size_t d, std::size_t begin, std::size_t end,
                                                            float* __restrict pout, float* __restrict t) {
  const std::size_t len = end - begin;
  std::size_t j = 0;
  for (; j + 4 <= len; j += 4) {
    const float* row = xs + (begin + j) * d;
    float s0[kLanes], s1[kLanes], s2[kLanes], s3[kLanes];  // locals: kept in registers
    cpu::lane_squares4<0, L>(xi, d, row, row + d, row + 2 * d, row + 3 * d, s0, s1, s2, s3);
    float* tj = t + j * kLanes;
    std::copy(s0, s0 + kLanes, tj);
    std::copy(s1, s1 + kLanes, tj + kLanes);
    std::copy(s2, s2 + kLanes, tj + 2 * kLanes);
    std::copy(s3, s3 + kLanes, tj + 3 * kLanes);
  }
  for (; j < len; ++j) cpu::lane_squares1<0, L>(xi, d, xs + (begin + j) * d, t + j * kLanes);
#pragma omp simd
  for (std::size_t i = 0; i < len * kLanes; ++i) t[i] = std::sqrt(t[i]);
  float p[kLanes];
  for (std::size_t r = 0; r < kLanes; ++r) p[r] = pout[r];
  for (j = 0; j < len; ++j) {
    const float* tj = t + j * kLanes;
#pragma omp simd
    for (std::size_t r = 0; r < kLanes; ++r) p[r] = p[r] + tj[r];
  }
  for (std::size_t r = 0; r < kLanes; ++r) pout[r] = p[r];
}

/// tile_distances_as in the lane form of this CPU, chosen once per call.
ARCHETYPE_CLONES
void tile_distances(const float* __restrict xi, const float* __restrict xs, std::size_t d, std::size_t begin,
                    std::size_t end, float* __restrict pout, float* __restrict t) {
  if (cpu::lanes_in_one_register()) return tile_distances_as<cpu::LaneForm::One>(xi, xs, d, begin, end, pout, t);
  tile_distances_as<cpu::LaneForm::Two>(xi, xs, d, begin, end, pout, t);
}

/// Sixteen floats, for the transposition below (GCC vector extension: the
/// AVX-512 clone keeps one in a register, the others split it).
typedef float Lanes16 __attribute__((vector_size(64)));

/// One stage of a 16 x 16 transposition: rows i and i + h (bit h clear in i)
/// swap the elements whose row and column bit h differ.
#define ARCHETYPE_TRANSPOSE_STAGE(H, LO, HI)                        \
  for (std::size_t i = 0; i < kLanes; ++i) {                        \
    if (i & (H)) continue;                                          \
    const Lanes16 a = m[i], b = m[i + (H)];                         \
    m[i] = __builtin_shufflevector(a, b, LO);                       \
    m[i + (H)] = __builtin_shufflevector(a, b, HI);                 \
  }

// Stage h's index lists: lo[c] = c's bit h set ? b[c - h] : a[c], hi[c] =
// c's bit h set ? b[c] : a[c + h] (b's elements numbered from 16).
#define ARCHETYPE_T1_LO 0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30
#define ARCHETYPE_T1_HI 1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31
#define ARCHETYPE_T2_LO 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29
#define ARCHETYPE_T2_HI 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31
#define ARCHETYPE_T4_LO 0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27
#define ARCHETYPE_T4_HI 4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31
#define ARCHETYPE_T8_LO 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23
#define ARCHETYPE_T8_HI 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31

/// col[j] += t[j * kLanes + r] for r = 0 .. g - 1 in that order (row j's
/// distances to the tile's g rows, in row order), for j < len.  Sixteen j
/// at a time: their 16 x 16 roots transposed in registers (four stages of
/// shuffles), then each lane j adds its g values in order r, i.e. every
/// col[j] the same chain of float adds as one j at a time.
ARCHETYPE_CLONES
void column_sums(const float* __restrict t, std::size_t len, std::size_t g, float* __restrict col) {
  static_assert(kLanes == 16, "the transposition below is written for 16 lanes");
  std::size_t j0 = 0;
  if (!cpu::lanes_in_one_register()) {  // AVX2: transposed by quarters, then added by halves
    constexpr std::size_t H = kLanes / 2;
    for (; j0 + kLanes <= len; j0 += kLanes) {
      const float* rows[kLanes];
      for (std::size_t i = 0; i < kLanes; ++i) rows[i] = t + (j0 + i) * kLanes;
      alignas(64) float m[kLanes * kLanes];  // m[r * 16 + i]: lane r's root of row j0 + i
      cpu::transpose16_by_quarters(rows, m);
      cpu::HalfGroup lo, hi;
      std::memcpy(&lo, col + j0, sizeof lo);
      std::memcpy(&hi, col + j0 + H, sizeof hi);
      for (std::size_t r = 0; r < g; ++r) {
        cpu::HalfGroup a, b;
        std::memcpy(&a, m + r * kLanes, sizeof a);
        std::memcpy(&b, m + r * kLanes + H, sizeof b);
        lo = lo + a;
        hi = hi + b;
      }
      std::memcpy(col + j0, &lo, sizeof lo);
      std::memcpy(col + j0 + H, &hi, sizeof hi);
    }
  }
  for (; j0 + kLanes <= len; j0 += kLanes) {
    Lanes16 m[kLanes];
    for (std::size_t i = 0; i < kLanes; ++i) std::memcpy(&m[i], t + (j0 + i) * kLanes, sizeof(Lanes16));
    ARCHETYPE_TRANSPOSE_STAGE(1, ARCHETYPE_T1_LO, ARCHETYPE_T1_HI)
    ARCHETYPE_TRANSPOSE_STAGE(2, ARCHETYPE_T2_LO, ARCHETYPE_T2_HI)
    ARCHETYPE_TRANSPOSE_STAGE(4, ARCHETYPE_T4_LO, ARCHETYPE_T4_HI)
    ARCHETYPE_TRANSPOSE_STAGE(8, ARCHETYPE_T8_LO, ARCHETYPE_T8_HI)
    // m[r] now holds lane r's roots of the sixteen rows j0 .. j0 + 15.
    Lanes16 c;
    std::memcpy(&c, col + j0, sizeof(c));
    for (std::size_t r = 0; r < g; ++r) c = c + m[r];
    std::memcpy(col + j0, &c, sizeof(c));
  }
  for (std::size_t j = j0; j < len; ++j) {
    float c = col[j];
    for (std::size_t r = 0; r < g; ++r) c = c + t[j * kLanes + r];
    col[j] = c;
  }
}
#undef ARCHETYPE_TRANSPOSE_STAGE
#undef ARCHETYPE_T1_LO
#undef ARCHETYPE_T1_HI
#undef ARCHETYPE_T2_LO
#undef ARCHETYPE_T2_HI
#undef ARCHETYPE_T4_LO
#undef ARCHETYPE_T4_HI
#undef ARCHETYPE_T8_LO
#undef ARCHETYPE_T8_HI

/// Rows sorted by label (a stable counting sort): start[c] .. start[c + 1]
/// are cluster c's rows in increasing row order, xs their d features
/// (column-major for d = 2, row-major otherwise), and with `with_order`
/// order[p] the row at sorted position p.
struct LabelSorted {
  std::vector<std::size_t> start, order;
  std::vector<float> xs;
};

LabelSorted sort_by_label(MatrixView rows, std::size_t d, const std::int32_t* labels, std::size_t kk,
                          bool with_order) {
  const std::size_t n = rows.rows;
  LabelSorted out;
  out.start.assign(kk + 1, 0);
  for (std::size_t i = 0; i < n; ++i) out.start[static_cast<std::size_t>(labels[i]) + 1] += 1;
  for (std::size_t c = 0; c < kk; ++c) out.start[c + 1] += out.start[c];
  out.xs.resize(n * d);
  if (with_order) out.order.resize(n);
  std::vector<std::size_t> next(out.start.begin(), out.start.end() - 1);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t p = next[static_cast<std::size_t>(labels[i])]++;
    if (with_order) out.order[p] = i;
    for (std::size_t f = 0; f < d; ++f) out.xs[d == 2 ? f * n + p : p * d + f] = rows.at(i, f);
  }
  return out;
}

/// Whether the one-piece silhouette of n rows of d features in Q chunks
/// takes the symmetric path: each distance is computed once for both of
/// its rows (half the distance work), at the cost of one float per row and
/// chunk (kSymmetricBudget), a chunk's last block padded to 16 rows, the
/// tile's roots stored and the column sums (a 16 x 16 transposition per
/// 256 distances).  Measured (2 threads, AVX2, k = 5, the sampled sizes:
/// 27,386 rows at d = 16 ... 14,852 at d = 64), silhouette ms symmetric /
/// plain: d = 20 280 / 237-278, d = 24 251-262 / 231-242, d = 32 227-244 /
/// 226-256, d = 40 203-215 / 220, d = 48 188-214 / 215, d = 64 167-176 /
/// 214-230; hence from 32 features.  (Before both kernels had their lane
/// form fixed at compile time, the plain path was slower and the symmetric
/// one paid from 24.)  With the lanes in one AVX-512 register the 16 x 16
/// transposition is a few shuffles and the symmetric path pays sooner:
/// measured (2 threads, AVX-512 Xeon, k = 5, sampled sizes), symmetric /
/// plain: d = 8 (35,355 rows) 189-191 / 146-151 ms, d = 12 (30,618)
/// 167-175 / 171-179, d = 16 (27,386) 153-154 / 190-192, d = 24 (23,145)
/// 129-136 / 172; hence from 16 features there.  Both paths give the same
/// bits, so this only picks the faster.
constexpr std::size_t kSymmetricMinD = 32;
constexpr std::size_t kSymmetricMinDOneRegister = 16;
/// ... and from this many rows per cluster on average: small clusters make
/// tasks of a few rows, whose 16-row blocks are partly padding and whose
/// per-task set-up weighs against their distances.  Wide rows pay for it
/// sooner: measured (2 threads), symmetric against plain, 7,595 x 256 with
/// k = 500 (15 rows a cluster) 200 / 243 ms, 10,000 x 128 k = 500 164 /
/// 191 ms, 4,800 x 256 k = 100 57 / 80 ms, but 11,000 x 64 k = 500
/// 131 / 118 ms and 13,000 x 32 k = 500 99 / 86 ms.
constexpr std::size_t kSymmetricMinRowsPerCluster = 64;
constexpr std::size_t kSymmetricWideD = 96;
constexpr std::size_t kSymmetricWideMinRowsPerCluster = 8;
constexpr std::size_t kSymmetricBudget = std::size_t{256} << 20;

/// The exact silhouette of all n rows of Y (one piece), every distance
/// computed once.  Rows sorted by cluster (stable); the chunks of every
/// cluster numbered q = 0 .. Q - 1 in cluster order.  S[q * n + p] = the
/// float sum, in row order, of sorted row p's distances to chunk q's rows:
/// task (a, b), a <= b, computes the distances between chunks a and b once
/// and writes S[rows of a][b] (sums along b's rows, in order) and
/// S[rows of b][a] (sums along a's rows, in order); every slot is written
/// by one task, so any thread order gives the same bits.  Then each row's
/// per-cluster double totals add its chunk sums in chunk order: exactly
/// the canonical order (the distance is symmetric bit for bit: b - a is
/// -(a - b) exactly, and the square the same).
void symmetric_silhouette(MatrixView Y, const std::int32_t* labels, std::size_t kk, int threads, double* out) {
  const std::size_t n = Y.rows, d = Y.cols;  // d >= 16: sorted rows row-major
  const LabelSorted sorted = sort_by_label(Y, d, labels, kk, true);
  const std::vector<std::size_t>& start = sorted.start;
  const std::vector<std::size_t>& order = sorted.order;
  const std::vector<float>& xs = sorted.xs;
  std::vector<std::int64_t> counts(kk);
  for (std::size_t c = 0; c < kk; ++c) counts[c] = static_cast<std::int64_t>(start[c + 1] - start[c]);
  std::vector<std::size_t> chunk_begin, chunk_first(kk + 1, 0);
  for (std::size_t c = 0; c < kk; ++c) {
    chunk_first[c] = chunk_begin.size();
    for (std::size_t j = start[c]; j < start[c + 1]; j += kChunk) chunk_begin.push_back(j);
  }
  chunk_first[kk] = chunk_begin.size();
  const std::size_t Q = chunk_begin.size();
  auto chunk_end = [&](std::size_t q, std::size_t c) { return std::min(start[c + 1], chunk_begin[q] + kChunk); };
  std::vector<std::size_t> chunk_cluster(Q);
  for (std::size_t c = 0; c < kk; ++c)
    for (std::size_t q = chunk_first[c]; q < chunk_first[c + 1]; ++q) chunk_cluster[q] = c;
  std::vector<float> S(n * Q);
#pragma omp parallel num_threads(threads > 0 ? threads : omp_get_max_threads())
  {
    // xa: chunk a's rows, 16 at a time transposed (d x 16 each, the last
    // block padded with its last row), built once for all of a's tasks.
    std::vector<float> xa(kChunk * d), t(kChunk * kLanes);
    float col[kChunk], p[kLanes];
    // Tasks (a, b), a <= b: one chunk a (its Q - a tasks) at a time.
#pragma omp for schedule(dynamic, 1)
    for (long long al = 0; al < static_cast<long long>(Q); ++al) {
      const std::size_t a = static_cast<std::size_t>(al);
      const std::size_t a0 = chunk_begin[a], a1 = chunk_end(a, chunk_cluster[a]);
      for (std::size_t i0 = a0; i0 < a1; i0 += kLanes) {
        const std::size_t g = std::min(kLanes, a1 - i0);
        float* xi = xa.data() + (i0 - a0) * d;
        for (std::size_t r = 0; r < kLanes; ++r) {
          const float* row = xs.data() + (i0 + std::min(r, g - 1)) * d;
          for (std::size_t f = 0; f < d; ++f) xi[f * kLanes + r] = row[f];
        }
      }
      for (std::size_t b = a; b < Q; ++b) {
        const std::size_t b0 = chunk_begin[b], b1 = chunk_end(b, chunk_cluster[b]);
        std::fill(col, col + kChunk, 0.0f);
        for (std::size_t i0 = a0; i0 < a1; i0 += kLanes) {
          const std::size_t g = std::min(kLanes, a1 - i0);
          std::fill(p, p + kLanes, 0.0f);
          tile_distances(xa.data() + (i0 - a0) * d, xs.data(), d, b0, b1, p, t.data());
          for (std::size_t r = 0; r < g; ++r) S[b * n + i0 + r] = p[r];
          // Column sums (a != b): row j's distances to a's rows, in row order.
          if (a != b) column_sums(t.data(), b1 - b0, g, col);
        }
        if (a != b)
          std::copy(col, col + (b1 - b0), S.begin() + static_cast<std::ptrdiff_t>(a * n + b0));
      }
    }
    // Each row's per-cluster totals: its chunk sums in chunk order, for a
    // block of rows at a time (S is chunk-major: a chunk's sums are contiguous).
    constexpr std::size_t kRows = 256;
    std::vector<double> acc(kRows * kk);
#pragma omp for schedule(static)
    for (long long pl = 0; pl < static_cast<long long>(n); pl += static_cast<long long>(kRows)) {
      const std::size_t p0 = static_cast<std::size_t>(pl), m = std::min(kRows, n - p0);
      for (std::size_t c = 0; c < kk; ++c) {
        double sum[kRows] = {};
        for (std::size_t q = chunk_first[c]; q < chunk_first[c + 1]; ++q) {
          const float* sq = S.data() + q * n + p0;
          for (std::size_t r = 0; r < m; ++r) sum[r] += static_cast<double>(sq[r]);
        }
        for (std::size_t r = 0; r < m; ++r) acc[r * kk + c] = sum[r];
      }
      for (std::size_t r = 0; r < m; ++r) {
        const std::size_t i = order[p0 + r];
        out[i] = silhouette_value(acc.data() + r * kk, counts.data(), static_cast<int>(kk), labels[i]);
      }
    }
  }
}
}  // namespace

SilhouetteAccumulator::SilhouetteAccumulator(MatrixView scored, const std::int32_t* scored_labels, int k, int threads,
                                             std::size_t total_rows)
    : scored_(scored),
      scored_labels_(scored_labels),
      k_(static_cast<std::size_t>(k)),
      total_(total_rows),
      threads_(threads),
      counts_(k_, 0) {}

void SilhouetteAccumulator::add(MatrixView piece, const std::int32_t* piece_labels) {
  const std::size_t n = piece.rows, kk = k_;
  const std::size_t d = n > 0 ? piece.cols : scored_.cols;  // no scored rows: any width (a rank without rows)
  if (n > total_ - seen_ || (n > 0 && scored_.rows > 0 && piece.cols != scored_.cols))
    throw std::logic_error("SilhouetteAccumulator: a piece beyond the evaluated rows");
  const bool first = seen_ == 0, last = seen_ + n == total_;
  if (first && !last) {  // more pieces follow: the scored rows' state is kept between them
    sums_.assign(scored_.rows * kk, 0.0);
    open_.assign(scored_.rows * kk, 0.0f);
  }
  // Stable counting sort by label: segment c holds the piece's rows of
  // cluster c in increasing row order; `before` is the index among all of
  // c's rows of the first of them (where the chunks of 128 fall).
  const std::vector<std::int64_t> before = counts_;
  const LabelSorted sorted = sort_by_label(piece, d, piece_labels, kk, false);
  const std::vector<std::size_t>& start = sorted.start;
  const std::vector<float>& xs = sorted.xs;
  for (std::size_t c = 0; c < kk; ++c) counts_[c] += static_cast<std::int64_t>(start[c + 1] - start[c]);
  seen_ += n;
  const std::size_t rows = scored_.rows;
  if (last) values_.assign(rows, 0.0);
  if (rows == 0) return;
  const std::size_t blocks = (rows + kLanes - 1) / kLanes;
  // A small piece (a few rows of a stream) is not worth waking a team for;
  // the values do not depend on the thread count.
  const bool team = blocks > 1 && rows * n * std::max<std::size_t>(d, 1) >= (std::size_t{1} << 18);
#pragma omp parallel num_threads(threads_ > 0 ? threads_ : omp_get_max_threads()) if (team)
  {
    // One block of kLanes scored rows at a time: its totals and open-chunk
    // partials, r * k + c (the layout of sums_ and open_ from row i0 on).
    std::vector<float> xi(d * kLanes);
    std::vector<double> acc(kLanes * kk);
    std::vector<float> open(kLanes * kk);
    float p[kLanes];
#pragma omp for schedule(dynamic, 4)
    for (std::size_t b = 0; b < blocks; ++b) {
      const std::size_t i0 = b * kLanes;
      const std::size_t m = std::min(kLanes, rows - i0);
      for (std::size_t r = 0; r < kLanes; ++r) {
        const std::size_t i = i0 + std::min(r, m - 1);  // pad with the last row
        for (std::size_t f = 0; f < d; ++f) xi[f * kLanes + r] = scored_.at(i, f);
      }
      if (first) {
        std::fill(acc.begin(), acc.end(), 0.0);
      } else {
        std::copy(sums_.begin() + i0 * kk, sums_.begin() + (i0 + m) * kk, acc.begin());
        std::copy(open_.begin() + i0 * kk, open_.begin() + (i0 + m) * kk, open.begin());
      }
      for (std::size_t c = 0; c < kk; ++c) {
        // Position among c's rows of the piece's j-th row of c: the open
        // chunk (continued from the previous piece) closes at a multiple of 128.
        const std::size_t at = static_cast<std::size_t>(before[c]), size = start[c + 1] - start[c];
        for (std::size_t r = 0; r < kLanes; ++r) p[r] = first ? 0.0f : open[r * kk + c];
        for (std::size_t j = 0; j < size;) {
          const std::size_t end = std::min(size, j + kSilhouetteChunk - (at + j) % kSilhouetteChunk);
          chunk_distance_sums(xi.data(), xs.data(), n, d, start[c] + j, start[c] + end, p);
          if ((at + end) % kSilhouetteChunk == 0) {
            for (std::size_t r = 0; r < kLanes; ++r) acc[r * kk + c] += static_cast<double>(p[r]);
            std::fill(p, p + kLanes, 0.0f);
          }
          j = end;
        }
        if (!last) {
          for (std::size_t r = 0; r < kLanes; ++r) open[r * kk + c] = p[r];
        } else if (counts_[c] % static_cast<std::int64_t>(kSilhouetteChunk) != 0) {
          // The cluster's last chunk, short of 128 rows (one piece: nothing
          // carries, so `open` is never touched).
          for (std::size_t r = 0; r < kLanes; ++r) acc[r * kk + c] += static_cast<double>(p[r]);
        }
      }
      if (!last) {
        std::copy(acc.begin(), acc.begin() + static_cast<std::ptrdiff_t>(m * kk), sums_.begin() + i0 * kk);
        std::copy(open.begin(), open.begin() + static_cast<std::ptrdiff_t>(m * kk), open_.begin() + i0 * kk);
        continue;
      }
      for (std::size_t r = 0; r < m; ++r)
        values_[i0 + r] = silhouette_value(acc.data() + r * kk, counts_.data(), static_cast<int>(kk),
                                           scored_labels_[i0 + r]);
    }
  }
}

void SilhouetteAccumulator::finish(double* out) const {
  if (seen_ != total_) throw std::logic_error("SilhouetteAccumulator: finished before every row was added");
  std::copy(values_.begin(), values_.end(), out);
}

void cpu_silhouette(MatrixView Y, const std::int32_t* labels, int k, int threads, double* out) {
  const std::size_t n = Y.rows, d = Y.cols, kk = static_cast<std::size_t>(k);
  const std::size_t min_rows = d >= kSymmetricWideD ? kSymmetricWideMinRowsPerCluster : kSymmetricMinRowsPerCluster;
  const std::size_t min_d = cpu::lanes_in_one_register() ? kSymmetricMinDOneRegister : kSymmetricMinD;
  if (d >= min_d && n > kChunk && n >= min_rows * kk &&
      n * (n / kChunk + kk) * sizeof(float) <= kSymmetricBudget) {
    symmetric_silhouette(Y, labels, kk, threads, out);
    return;
  }
  SilhouetteAccumulator one(Y, labels, k, threads, Y.rows);
  one.add(Y, labels);
  one.finish(out);
}

}  // namespace archetype
