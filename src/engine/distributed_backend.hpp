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
//   silhouette                every evaluated row is all-gathered in global
//                             row order; each rank scores its own rows
//                             against all in the canonical chunk order
//                             (cpu_silhouette.hpp)
// Labels stay where their rows are (copy/take/gather_labels are local).
// Sample weights: the inner backend is bound with this process's rows'
// quantized weights (WeightGrid), so counts, sums, inertia and potentials
// are already weighted integer sums and add up as they are; kpp_sample's
// per-rank potentials are the weighted ones.
#pragma once

#include <memory>

#include "archetype/backend.hpp"
#include "archetype/communicator.hpp"

namespace archetype {

/// `inner` does the passes over this process's rows (split.rows of them;
/// a process may hold none, then inner is never called).
std::unique_ptr<Backend> make_distributed_backend(std::unique_ptr<Backend> inner, const RowSplit& split);

}  // namespace archetype
