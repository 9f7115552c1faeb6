#include "engine/cpu_silhouette.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "archetype/distance.hpp"
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
/// added to p one row after the other, in j order.  kKeepRoots (the
/// symmetric path's tiles): each root also stored at
/// t[lane * kChunk + j - begin], for the column sums.  The two forms are
/// separate instantiations: storing the roots makes GCC leave them scalar,
/// which the plain sums must not pay.
template <bool kKeepRoots>
inline __attribute__((always_inline)) void wide_sums(const float* __restrict xi, const float* __restrict xs,
                                                     std::size_t d, std::size_t begin, std::size_t end,
                                                     float* __restrict pout, float* __restrict t = nullptr) {
  float p[kLanes];
  for (std::size_t r = 0; r < kLanes; ++r) p[r] = pout[r];
  std::size_t j = begin;
  for (; j + 4 <= end; j += 4) {
    float s0[kLanes], s1[kLanes], s2[kLanes], s3[kLanes];
    {
      const float* row = xs + j * d;
      cpu::lane_squares4<0>(xi, d, row, row + d, row + 2 * d, row + 3 * d, s0, s1, s2, s3);
    }
    if constexpr (kKeepRoots) {
      float v0[kLanes], v1[kLanes], v2[kLanes], v3[kLanes];
#pragma omp simd
      for (std::size_t r = 0; r < kLanes; ++r) {
        v0[r] = std::sqrt(s0[r]);
        v1[r] = std::sqrt(s1[r]);
        v2[r] = std::sqrt(s2[r]);
        v3[r] = std::sqrt(s3[r]);
        float acc = p[r];
        acc = acc + v0[r];
        acc = acc + v1[r];
        acc = acc + v2[r];
        p[r] = acc + v3[r];
      }
      float* __restrict tj = t + (j - begin);
      for (std::size_t r = 0; r < kLanes; ++r) {
        float* __restrict tr = tj + r * kChunk;
        tr[0] = v0[r];
        tr[1] = v1[r];
        tr[2] = v2[r];
        tr[3] = v3[r];
      }
    } else {
#pragma omp simd
      for (std::size_t r = 0; r < kLanes; ++r) {
        float acc = p[r];
        acc = acc + std::sqrt(s0[r]);
        acc = acc + std::sqrt(s1[r]);
        acc = acc + std::sqrt(s2[r]);
        p[r] = acc + std::sqrt(s3[r]);
      }
    }
  }
  for (; j < end; ++j) {
    float s[kLanes];
    cpu::lane_squares1<0>(xi, d, xs + j * d, s);
    if constexpr (kKeepRoots) {
      float v[kLanes];
#pragma omp simd
      for (std::size_t r = 0; r < kLanes; ++r) {
        v[r] = std::sqrt(s[r]);
        p[r] = p[r] + v[r];
      }
      for (std::size_t r = 0; r < kLanes; ++r) t[r * kChunk + (j - begin)] = v[r];
    } else {
#pragma omp simd
      for (std::size_t r = 0; r < kLanes; ++r) p[r] = p[r] + std::sqrt(s[r]);
    }
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
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
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
  } else {
    wide_sums<false>(xi, xs, d, begin, end, p);
  }
  for (std::size_t r = 0; r < kLanes; ++r) pout[r] = p[r];
}


/// For kLanes rows held column-wise in xi (d x kLanes) and sorted rows
/// [begin, end) (row-major xs): the roots added to p in row order (exactly
/// chunk_distance_sums' values) and stored at t[lane * kChunk + j - begin]
/// for the column sums.
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
void tile_distances(const float* __restrict xi, const float* __restrict xs, std::size_t d, std::size_t begin,
                    std::size_t end, float* __restrict pout, float* __restrict t) {
  wide_sums<true>(xi, xs, d, begin, end, pout, t);
}

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
/// chunk (kSymmetricBudget), a chunk's last block padded to 16 rows, and
/// sixteen scalar stores per distance row for the column sums.  Measured
/// (one thread, 10,000-25,000 evaluated rows): 1.2-1.6x faster at d = 128
/// and 256, even at d = 64, slower at d = 32; hence from 96 features.
constexpr std::size_t kSymmetricMinD = 96;
/// ... and from this many rows per cluster on average: small clusters make
/// tasks of a few rows, whose 16-row blocks are mostly padding and whose
/// per-task set-up costs as much as their distances (measured: 10,000 rows,
/// d = 256, k = 500, one thread: 857 ms symmetric, 515-635 ms without).
constexpr std::size_t kSymmetricMinRowsPerCluster = 64;
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
  const std::size_t n = Y.rows, d = Y.cols;  // d >= kSymmetricMinD: sorted rows row-major
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
    std::vector<float> xi(d * kLanes), t(kChunk * kLanes);
    float col[kChunk], p[kLanes];
    // Tasks (a, b), a <= b: one chunk a (its Q - a tasks) at a time.
#pragma omp for schedule(dynamic, 1)
    for (long long al = 0; al < static_cast<long long>(Q); ++al)
    for (std::size_t b = static_cast<std::size_t>(al); b < Q; ++b) {
      const std::size_t a = static_cast<std::size_t>(al);
      const std::size_t a0 = chunk_begin[a], a1 = chunk_end(a, chunk_cluster[a]);
      const std::size_t b0 = chunk_begin[b], b1 = chunk_end(b, chunk_cluster[b]);
      std::fill(col, col + kChunk, 0.0f);
      for (std::size_t i0 = a0; i0 < a1; i0 += kLanes) {
        const std::size_t g = std::min(kLanes, a1 - i0);
        for (std::size_t r = 0; r < kLanes; ++r) {
          const float* row = xs.data() + (i0 + std::min(r, g - 1)) * d;  // pad with the last row
          for (std::size_t f = 0; f < d; ++f) xi[f * kLanes + r] = row[f];
        }
        std::fill(p, p + kLanes, 0.0f);
        tile_distances(xi.data(), xs.data(), d, b0, b1, p, t.data());
        for (std::size_t r = 0; r < g; ++r) S[b * n + i0 + r] = p[r];
        if (a == b) continue;
        // Column sums: row j's distances to a's rows, in row order.
        for (std::size_t r = 0; r < g; ++r) {
          const float* tr = t.data() + r * kChunk;
#pragma omp simd
          for (std::size_t j = 0; j < kChunk; ++j) col[j] = col[j] + tr[j];
        }
      }
      if (a != b)
        std::copy(col, col + (b1 - b0), S.begin() + static_cast<std::ptrdiff_t>(a * n + b0));
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
  if (d >= kSymmetricMinD && n > kChunk && n >= kSymmetricMinRowsPerCluster * kk &&
      n * (n / kChunk + kk) * sizeof(float) <= kSymmetricBudget) {
    symmetric_silhouette(Y, labels, kk, threads, out);
    return;
  }
  SilhouetteAccumulator one(Y, labels, k, threads, Y.rows);
  one.add(Y, labels);
  one.finish(out);
}

}  // namespace archetype
