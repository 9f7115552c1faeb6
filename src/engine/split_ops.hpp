// The engine's host code over rows that may be split across processes
// (RowSplit, communicator.hpp).  Each helper takes the split as a pointer:
// nullptr is one process holding every row, and the helper then does
// exactly what the code did before (no communication, no extra copy).
// Under a split each gives every rank the one-process answer, bit for bit:
// integer sums are all-reduced; float folds ("first wins" minima, blocked
// double sums) gather the per-rank pieces and fold them in rank order,
// which is row order.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "archetype/backend.hpp"
#include "archetype/communicator.hpp"
#include "archetype/fixed_point.hpp"
#include "archetype/matrix.hpp"

namespace archetype {

/// Rows of the whole job: the split's total, else X's rows.
inline std::size_t all_rows(const RowSplit* split, MatrixView X) { return split ? split->total : X.rows; }

/// The d values of each listed global row (any order, repeats allowed) into
/// out (m x d), on every rank: copied from X in one process; under a split
/// each owner contributes its rows (one allgatherv).
void fetch_rows(const RowSplit* split, MatrixView X, const std::int64_t* rows, std::size_t m, float* out);

/// Sums every PassSums field that is a sum over rows (sums, counts,
/// inertia_q; `changed` too when with_changed), in place, on every rank.
void allreduce_pass_sums(Communicator& comm, PassSums* sums, std::size_t models, bool with_changed);

/// FixedPoint::for_data over all ranks' rows (the bounds are maxima: exact;
/// with weights, sized for their total over all rows).
FixedPoint fixed_point_for_data(MatrixView X, const RowSplit* split, const WeightGrid* weights = nullptr);

/// Every rank's value, folded in rank order with `op` (op(acc, next)):
/// exactly the sequential fold over rows when op is one (std::min keeps
/// the first of equal values: -0.0 or +0.0 as the rows give them).
template <typename T, typename Op>
T fold_ranks(const RowSplit& split, const T& mine, Op op) {
  const std::vector<T> all = allgather_value<T>(*split.comm, mine);
  T acc{};
  bool any = false;
  for (std::size_t r = 0; r < all.size(); ++r) {
    if (split.counts[r] == 0) continue;  // a rank without rows has no value
    acc = any ? op(acc, all[r]) : all[r];
    any = true;
  }
  return acc;
}

/// The one-process blocked sum of S row terms over all ranks' rows:
///   total[s] = 0; for each block of `block` rows (global row order):
///              part = 0; for each row i of it: part += term_s(i); total[s] += part
/// terms(local_row, out) adds the S terms of one of this rank's rows to
/// out[0..S) (out[s] += term_s), so a block's partial sums are accumulated
/// in place, with no per-row buffer.
/// A block cut by a rank boundary is continued on the next rank from the
/// raw terms (at most block - 1 rows per rank are sent), so every addition
/// happens in the one-process order.  One allgatherv.
template <typename Terms>
std::vector<double> blocked_sums(const RowSplit& split, std::size_t block, std::size_t S, Terms&& terms) {
  const std::size_t N = split.counts.size();
  // Rank r's head: rows continuing a block begun on an earlier rank; then
  // the blocks that begin on it (the last may end on a later rank).
  const auto head = [&](std::size_t r) {
    const std::size_t off = split.starts[r] % block;
    return off == 0 ? std::size_t{0} : std::min(split.counts[r], block - off);
  };
  const auto begun = [&](std::size_t r) { return (split.counts[r] - head(r) + block - 1) / block; };
  const std::size_t me = static_cast<std::size_t>(split.comm->rank());
  std::vector<double> mine((head(me) + begun(me)) * S, 0.0);
  std::size_t at = 0;
  for (std::size_t i = 0; i < head(me); ++i, at += S) terms(i, mine.data() + at);  // 0 + term: the term
  for (std::size_t i = head(me); i < split.rows; i += block, at += S)
    for (std::size_t r = i; r < std::min(split.rows, i + block); ++r) terms(r, mine.data() + at);
  std::vector<std::size_t> bytes(N);
  std::size_t total_values = 0;
  for (std::size_t r = 0; r < N; ++r) {
    bytes[r] = (head(r) + begun(r)) * S * sizeof(double);
    total_values += (head(r) + begun(r)) * S;
  }
  std::vector<double> all(total_values);
  split.comm->allgatherv(mine.data(), bytes.data(), all.data());
  const std::size_t blocks = (split.total + block - 1) / block;
  std::vector<double> parts(blocks * S, 0.0);
  const double* p = all.data();
  for (std::size_t r = 0; r < N; ++r) {
    if (split.counts[r] == 0) continue;
    const std::size_t b0 = split.starts[r] / block;
    for (std::size_t i = 0; i < head(r); ++i, p += S)
      for (std::size_t s = 0; s < S; ++s) parts[b0 * S + s] += p[s];
    const std::size_t first = (split.starts[r] + head(r)) / block;
    for (std::size_t b = 0; b < begun(r); ++b, p += S)
      for (std::size_t s = 0; s < S; ++s) parts[(first + b) * S + s] = p[s];
  }
  std::vector<double> total(S, 0.0);
  for (std::size_t b = 0; b < blocks; ++b)
    for (std::size_t s = 0; s < S; ++s) total[s] += parts[b * S + s];
  return total;
}

/// blocked_sums in this file's convention: nullptr is one process holding
/// its `rows` rows (the same additions, no communication).
template <typename Terms>
std::vector<double> blocked_sums(const RowSplit* split, std::size_t rows, std::size_t block, std::size_t S,
                                 Terms&& terms) {
  if (split) return blocked_sums(*split, block, S, terms);
  std::vector<double> total(S, 0.0), part(S);
  for (std::size_t b = 0; b < rows; b += block) {
    std::fill(part.begin(), part.end(), 0.0);
    for (std::size_t r = b; r < std::min(rows, b + block); ++r) terms(r, part.data());
    for (std::size_t s = 0; s < S; ++s) total[s] += part[s];
  }
  return total;
}

/// The m rows farthest from their nearest centre over all ranks (global
/// indices, farthest first, ties to the lower row: farthest_rows' order),
/// and their quantized weights (1 without).  With weights (this rank's,
/// or null) rows of weight 0 are skipped; returns how many were found.
int farthest_rows_split(const RowSplit& split, MatrixView X, const float* centers, int k, int m,
                        std::int64_t* out_rows, std::int32_t* out_weights, const std::int32_t* weights = nullptr);

}  // namespace archetype
