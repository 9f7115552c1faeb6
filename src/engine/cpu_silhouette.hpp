// Exact silhouette on the CPU in the canonical order (docs/ARCHITECTURE.md):
// for every row i and cluster c, the rows of c in increasing row order are
// cut into chunks of kSilhouetteChunk (by their index among c's rows); each
// chunk's distances are summed in float (sqrtf of squared_distance), and
// the chunk sums are added to a double in chunk order.  The CUDA kernel
// follows the same order.
//
// SilhouetteAccumulator streams the evaluated rows: they arrive in pieces,
// in global row order, so that a process of a distributed job can score its
// own rows against every rank's without holding them all (a piece at a
// time, docs/DISTRIBUTED.md).  A chunk may straddle pieces: its float
// partial sum carries over, so the values are those of one pass over all
// rows, bit for bit, however the rows are cut.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "archetype/matrix.hpp"

namespace archetype {

/// Scores rows `scored` (labels `scored_labels`, 0 .. k - 1) against all
/// `total_rows` evaluated rows, which add() receives in pieces in increasing
/// row order (the scored rows among them).  Both arrays must outlive the
/// accumulator.
///
/// Memory, besides the scored rows: one piece's rows sorted by label
/// (piece rows x d floats) during add(), per thread one block of 16 scored
/// rows' state (16 x k doubles and floats), and s(i) (8 bytes a scored
/// row).  When the rows come in more than one piece, each scored row's
/// state is kept between pieces: per cluster a double total of the closed
/// chunks and the float partial of the open one, 12 k bytes a scored row.
/// A single piece (the one-process call) keeps none: its blocks go from
/// zero to s(i) in one go, as the loop before the accumulator did.
class SilhouetteAccumulator {
 public:
  /// threads: OpenMP threads per add() (0: the default).
  SilhouetteAccumulator(MatrixView scored, const std::int32_t* scored_labels, int k, int threads,
                        std::size_t total_rows);

  /// The next rows of the evaluated set in row order (any number, even 0).
  void add(MatrixView piece, const std::int32_t* piece_labels);

  /// out[i] = s(i) for every scored row; after all total_rows rows were added.
  void finish(double* out) const;

 private:
  MatrixView scored_;
  const std::int32_t* scored_labels_;
  std::size_t k_, total_, seen_ = 0;
  int threads_;
  std::vector<std::int64_t> counts_;  ///< rows of each cluster added so far
  std::vector<double> sums_;          ///< between pieces: per scored row, k double totals
  std::vector<float> open_;           ///< between pieces: per scored row, k open-chunk partials
  std::vector<double> values_;        ///< s(i), written by the last piece
};

/// out[i] = s(i) for every row of Y (one piece: the accumulator over all of
/// Y); O(n^2 d) time, O(n d) memory.
void cpu_silhouette(MatrixView Y, const std::int32_t* labels, int k, int threads, double* out);

}  // namespace archetype
