// Nearest-centre assignment on the host, with the backends' float
// operations (archetype/distance.hpp) and tie rule (lowest centre index),
// so its labels are the labels any backend's pass gives.  Used where a pass
// would be wasteful: a few rows (the stability comparison) or a rare event
// (empty-cluster relocation).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "archetype/backend.hpp"
#include "archetype/fixed_point.hpp"
#include "archetype/matrix.hpp"

namespace archetype {

/// Label of one row (k x d float centres); its squared distance to d2.
std::int32_t nearest_centre(const float* row, const float* centers, int k, std::size_t d, float* d2);

/// Labels of the given rows (all rows when `rows` is empty) into out, for
/// `models` sets of k centres (models x k x d floats): model q's labels at
/// out + q x (the rows).  Each block of rows is read and transposed once
/// for all the models (the stability labels of n_init restarts).
void assign_rows(MatrixView X, const std::vector<std::size_t>& rows, const float* centers, int k,
                 std::int32_t* out, int models = 1);

/// The m rows farthest from their nearest centre, farthest first, ties to
/// the lower row index (scikit-learn's empty-cluster relocation order), and
/// their labels.  With weights (quantized, or null) rows of weight 0 are
/// never chosen: a row that weighs nothing cannot fill a cluster.  Does not
/// depend on the thread count.  Returns how many it found: m, or fewer
/// when fewer rows qualify.
int farthest_rows(MatrixView X, const float* centers, int k, int m, std::int64_t* out_rows,
                  std::int32_t* out_labels, const std::int32_t* weights = nullptr);

/// A row, its squared distance to its nearest centre and its quantized
/// weight (1 without weights: what relocation moves).
struct FarRow {  // no padding: gathered across processes as bytes
  std::int64_t row;
  float d2;
  std::int32_t w;
};
/// farthest_rows' order: farther first, then the lower row: a total order,
/// so the m first of any union of row sets are those of all the rows.
inline bool farther(const FarRow& a, const FarRow& b) { return a.d2 > b.d2 || (a.d2 == b.d2 && a.row < b.row); }
/// The (up to) m first rows of X in that order, numbered from row_offset
/// (rows of weight 0 skipped, as farthest_rows does).
std::vector<FarRow> farthest_candidates(MatrixView X, const float* centers, int k, int m, std::int64_t row_offset,
                                        const std::int32_t* weights = nullptr);

/// Exact sums of given labels (n values in [0, k)): weights and weighted
/// quantized feature sums on the grid fp (weights: quantized, or null for
/// every row 1), the numbers a Lloyd pass returns for the same labels
/// (integer sums: any order gives the same bits).
void label_sums(MatrixView X, const std::int32_t* labels, int k, const FixedPoint& fp, PassSums& out,
                const std::int32_t* weights = nullptr);

/// out[i * k + c] = sqrt(squared_distance(row i, centre c)) in double, the
/// squared distance in float with the backends' operations (k x d float
/// centres): n x k values.
void centre_distances(MatrixView X, const float* centers, int k, double* out);

}  // namespace archetype
