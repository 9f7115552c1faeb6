#include "engine/cpu_silhouette.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "archetype/distance.hpp"

namespace archetype {
namespace {

// Rows evaluated together: the inner loops run over them, so they vectorise
// (each lane a different row i walking the same sorted rows j).
constexpr std::size_t kLanes = 16;

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

/// chunk_distance_sums for any d (row-major sorted rows): four sorted rows
/// at a time share each load of the lanes' features; their roots are still
/// added to p one row after the other, in j order.
inline __attribute__((always_inline)) void wide_sums(const float* __restrict xi, const float* __restrict xs,
                                                     std::size_t d, std::size_t begin, std::size_t end,
                                                     float* __restrict pout) {
  float p[kLanes];
  for (std::size_t r = 0; r < kLanes; ++r) p[r] = pout[r];
  std::size_t j = begin;
  for (; j + 4 <= end; j += 4) {
    float s0[kLanes] = {}, s1[kLanes] = {}, s2[kLanes] = {}, s3[kLanes] = {};
    const float* __restrict row = xs + j * d;
    for (std::size_t f = 0; f < d; ++f) {
      const float c0 = row[f], c1 = row[d + f], c2 = row[2 * d + f], c3 = row[3 * d + f];
      const float* __restrict xf = xi + f * kLanes;
#pragma omp simd
      for (std::size_t r = 0; r < kLanes; ++r) {
        const float v = xf[r];
        s0[r] = add_square(v - c0, s0[r]);
        s1[r] = add_square(v - c1, s1[r]);
        s2[r] = add_square(v - c2, s2[r]);
        s3[r] = add_square(v - c3, s3[r]);
      }
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
    float s[kLanes] = {};
    const float* __restrict row = xs + j * d;
    for (std::size_t f = 0; f < d; ++f) {
      const float c = row[f];
      const float* __restrict xf = xi + f * kLanes;
#pragma omp simd
      for (std::size_t r = 0; r < kLanes; ++r) s[r] = add_square(xf[r] - c, s[r]);
    }
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
    wide_sums(xi, xs, d, begin, end, p);
  }
  for (std::size_t r = 0; r < kLanes; ++r) pout[r] = p[r];
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
  std::vector<std::size_t> start(kk + 1, 0);
  for (std::size_t i = 0; i < n; ++i) start[static_cast<std::size_t>(piece_labels[i]) + 1] += 1;
  for (std::size_t c = 0; c < kk; ++c) {
    counts_[c] += static_cast<std::int64_t>(start[c + 1]);
    start[c + 1] += start[c];
  }
  std::vector<float> xs(n * d);  // sorted rows: column-major for d = 2, row-major otherwise
  {
    std::vector<std::size_t> next(start.begin(), start.end() - 1);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t p = next[static_cast<std::size_t>(piece_labels[i])]++;
      for (std::size_t f = 0; f < d; ++f) xs[d == 2 ? f * n + p : p * d + f] = piece.at(i, f);
    }
  }
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
        std::fill(open.begin(), open.end(), 0.0f);
      } else {
        std::copy(sums_.begin() + i0 * kk, sums_.begin() + (i0 + m) * kk, acc.begin());
        std::copy(open_.begin() + i0 * kk, open_.begin() + (i0 + m) * kk, open.begin());
      }
      for (std::size_t c = 0; c < kk; ++c) {
        // Position among c's rows of the piece's j-th row of c: the open
        // chunk (continued from the previous piece) closes at a multiple of 128.
        const std::size_t at = static_cast<std::size_t>(before[c]), size = start[c + 1] - start[c];
        for (std::size_t r = 0; r < kLanes; ++r) p[r] = open[r * kk + c];
        for (std::size_t j = 0; j < size;) {
          const std::size_t end = std::min(size, j + kSilhouetteChunk - (at + j) % kSilhouetteChunk);
          chunk_distance_sums(xi.data(), xs.data(), n, d, start[c] + j, start[c] + end, p);
          if ((at + end) % kSilhouetteChunk == 0) {
            for (std::size_t r = 0; r < kLanes; ++r) acc[r * kk + c] += static_cast<double>(p[r]);
            std::fill(p, p + kLanes, 0.0f);
          }
          j = end;
        }
        for (std::size_t r = 0; r < kLanes; ++r) open[r * kk + c] = p[r];
      }
      if (!last) {
        std::copy(acc.begin(), acc.begin() + static_cast<std::ptrdiff_t>(m * kk), sums_.begin() + i0 * kk);
        std::copy(open.begin(), open.begin() + static_cast<std::ptrdiff_t>(m * kk), open_.begin() + i0 * kk);
        continue;
      }
      for (std::size_t r = 0; r < m; ++r) {
        for (std::size_t c = 0; c < kk; ++c)  // each cluster's last chunk, if short of 128 rows
          if (counts_[c] % static_cast<std::int64_t>(kSilhouetteChunk) != 0)
            acc[r * kk + c] += static_cast<double>(open[r * kk + c]);
        values_[i0 + r] = silhouette_value(acc.data() + r * kk, counts_.data(), static_cast<int>(kk),
                                           scored_labels_[i0 + r]);
      }
    }
  }
}

void SilhouetteAccumulator::finish(double* out) const {
  if (seen_ != total_) throw std::logic_error("SilhouetteAccumulator: finished before every row was added");
  std::copy(values_.begin(), values_.end(), out);
}

void cpu_silhouette(MatrixView Y, const std::int32_t* labels, int k, int threads, double* out) {
  SilhouetteAccumulator one(Y, labels, k, threads, Y.rows);
  one.add(Y, labels);
  one.finish(out);
}

}  // namespace archetype
