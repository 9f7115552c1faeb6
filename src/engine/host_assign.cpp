#include "engine/host_assign.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "archetype/distance.hpp"
#include "engine/cpu_kernels.hpp"

namespace archetype {
namespace {

using Candidate = FarRow;

/// Keeps the m first candidates (in `farther` order) in a heap whose front
/// is the last of them.
void offer(std::vector<Candidate>& top, int m, const Candidate& c) {
  if (static_cast<int>(top.size()) < m) {
    top.push_back(c);
    std::push_heap(top.begin(), top.end(), farther);
  } else if (farther(c, top.front())) {
    std::pop_heap(top.begin(), top.end(), farther);
    top.back() = c;
    std::push_heap(top.begin(), top.end(), farther);
  }
}

}  // namespace

std::int32_t nearest_centre(const float* row, const float* centers, int k, std::size_t d, float* d2) {
  float best = std::numeric_limits<float>::infinity();
  std::int32_t label = 0;
  for (int c = 0; c < k; ++c) {
    const float s = squared_distance(row, centers + static_cast<std::size_t>(c) * d, d);
    if (s < best) {
      best = s;
      label = c;
    }
  }
  if (d2) *d2 = best;
  return label;
}

void assign_rows(MatrixView X, const std::vector<std::size_t>& rows, const float* centers, int k,
                 std::int32_t* out, int models) {
  const std::size_t m = rows.empty() ? X.rows : rows.size(), d = X.cols;
  const std::size_t kd = static_cast<std::size_t>(k) * d;
  const long long blocks = static_cast<long long>((m + cpu::kBlock - 1) / cpu::kBlock);
#pragma omp parallel if (m >= 32768)
  {
    cpu::GroupScratch s;
    s.size_for(d);
    std::vector<float> gathered(rows.empty() ? 0 : cpu::kBlock * d);
#pragma omp for schedule(static)
    for (long long b = 0; b < blocks; ++b) {
      const std::size_t r0 = static_cast<std::size_t>(b) * cpu::kBlock, len = std::min(cpu::kBlock, m - r0);
      const float* x = X.row(r0);
      if (!rows.empty()) {  // the listed rows, copied into one block
        for (std::size_t i = 0; i < len; ++i) std::copy(X.row(rows[r0 + i]), X.row(rows[r0 + i]) + d, gathered.data() + i * d);
        x = gathered.data();
      }
      if (d <= 2) {  // transposed in registers, group by group
        for (int q = 0; q < models; ++q)
          cpu::nearest_rows(x, d, len, centers + static_cast<std::size_t>(q) * kd, k,
                            out + static_cast<std::size_t>(q) * m + r0, s.best, s);
        continue;
      }
      cpu::transpose_block(x, d, len, s);  // once for every model
      for (int q = 0; q < models; ++q)
        cpu::nearest_block(s.xt.data(), d, len, centers + static_cast<std::size_t>(q) * kd, k,
                           out + static_cast<std::size_t>(q) * m + r0, s.best);
    }
  }
}

std::vector<FarRow> farthest_candidates(MatrixView X, const float* centers, int k, int m, std::int64_t row_offset,
                                        const std::int32_t* weights) {
  std::vector<Candidate> merged;
  if (m <= 0) return merged;
  const long long n = static_cast<long long>(X.rows);
  const std::size_t d = X.cols;
  const long long blocks = static_cast<long long>((X.rows + cpu::kBlock - 1) / cpu::kBlock);
  // Each row's distance to its nearest centre by the block kernels (the
  // same bits as nearest_centre: squared_distance, ties to the lowest index).
#pragma omp parallel if (n >= 32768)
  {
    std::vector<Candidate> top;
    top.reserve(static_cast<std::size_t>(m) + 1);
    cpu::GroupScratch s;
    s.xt.resize((cpu::kBlock + cpu::kGroup) * d);  // all that nearest_rows uses
#pragma omp for schedule(static) nowait
    for (long long b = 0; b < blocks; ++b) {
      const std::size_t r0 = static_cast<std::size_t>(b) * cpu::kBlock, len = std::min(cpu::kBlock, X.rows - r0);
      cpu::nearest_rows(X.row(r0), d, len, centers, k, s.lab, s.best, s);
      for (std::size_t i = 0; i < len; ++i) {
        const long long row = static_cast<long long>(r0 + i);
        if (weights && weights[row] == 0) continue;
        offer(top, m, {row + row_offset, s.best[i], weights ? weights[row] : 1});
      }
    }
#pragma omp critical
    merged.insert(merged.end(), top.begin(), top.end());
  }
  std::sort(merged.begin(), merged.end(), farther);
  if (merged.size() > static_cast<std::size_t>(m)) merged.resize(static_cast<std::size_t>(m));
  return merged;
}

int farthest_rows(MatrixView X, const float* centers, int k, int m, std::int64_t* out_rows,
                  std::int32_t* out_labels, const std::int32_t* weights) {
  const std::vector<Candidate> merged = farthest_candidates(X, centers, k, m, 0, weights);
  const int found = static_cast<int>(merged.size());
  for (int i = 0; i < found; ++i) {
    out_rows[i] = merged[static_cast<std::size_t>(i)].row;
    out_labels[i] = nearest_centre(X.row(static_cast<std::size_t>(out_rows[i])), centers, k, X.cols, nullptr);
  }
  return found;
}

void label_sums(MatrixView X, const std::int32_t* labels, int k, const FixedPoint& fp, PassSums& out,
                const std::int32_t* weights) {
  const std::size_t d = X.cols;
  const float fscale = fp.feature_scale();
  out.resize(static_cast<std::size_t>(k), d);
  for (std::size_t i = 0; i < X.rows; ++i) {
    const std::size_t c = static_cast<std::size_t>(labels[i]);
    const std::int64_t w = weights ? weights[i] : 1;
    out.counts[c] += w;
    const float* x = X.row(i);
    for (std::size_t j = 0; j < d; ++j) out.sums[c * d + j] += w * quantize_feature(x[j], fscale);
  }
}

void centre_distances(MatrixView X, const float* centers, int k, double* out) {
  const long long n = static_cast<long long>(X.rows);
  const std::size_t kk = static_cast<std::size_t>(k);
#pragma omp parallel for schedule(static) if (n >= 32768)
  for (long long i = 0; i < n; ++i) {
    const std::size_t r = static_cast<std::size_t>(i);
    for (std::size_t c = 0; c < kk; ++c)
      out[r * kk + c] = std::sqrt(static_cast<double>(squared_distance(X.row(r), centers + c * X.cols, X.cols)));
  }
}

}  // namespace archetype
