// The Backend of one process of a job whose rows are split across
// processes (RowSplit, communicator.hpp): a decorator over any backend
// (CPU, CUDA) bound to this process's rows, which all-reduces every pass's
// exact integer partial sums.  Integer addition is associative, so the
// totals are the one-process totals bit for bit, whatever the network's
// order; the host code above (Lloyd loop, convergence, relocation,
// k-means++ bookkeeping) then runs identically on every rank.
//
// Sums over rows, and how each is combined:
//   lloyd_pass, lloyd_batch   k x d sums, k counts, inertia (and the
//                             stored-labels pass's `changed`): summed
//   kpp_potentials            1 + trials potentials per model: summed
//   kpp_sample                each target's rank from the all-gathered
//                             per-rank potentials, then that rank's own
//                             prefix (its backend's kpp_sample on the local
//                             target); the row (global index) is summed in
//                             from its owner, zeros elsewhere
//   dispersion                k sums of d2 and of sqrt(d2): summed
//   silhouette                every rank's evaluated rows are broadcast in
//                             pieces, rank after rank (global row order);
//                             each rank adds each piece to its own rows'
//                             scores in the canonical chunk order
//                             (SilhouetteAccumulator, cpu_silhouette.hpp):
//                             this rank's rows' state and one piece in
//                             memory, each rank receiving every row once
// Labels stay where their rows are (copy/take/gather_labels are local).
// Sample weights: the inner backend is bound with this process's rows'
// quantized weights (WeightGrid), so counts, sums, inertia and potentials
// are already weighted integer sums and add up as they are; kpp_sample's
// per-rank potentials are the weighted ones.
#pragma once

#include <cstddef>
#include <memory>

#include "archetype/backend.hpp"
#include "archetype/communicator.hpp"

namespace archetype {

/// `inner` does the passes over this process's rows (split.rows of them;
/// a process may hold none, then inner is never called).
/// silhouette_piece_rows: rows per broadcast piece of the exact silhouette;
/// 0 (the engine's choice) is about 8 MiB of features, at least 1,024 rows.
/// Tests pass a few rows, so that chunks straddle pieces.
std::unique_ptr<Backend> make_distributed_backend(std::unique_ptr<Backend> inner, const RowSplit& split,
                                                  std::size_t silhouette_piece_rows = 0);

}  // namespace archetype
