// One rank per GPU: which device a rank of a split job drives, and whether
// the job sums its integers over NCCL.  Plain host logic (unit-tested
// without a GPU); the NCCL communicator itself is nccl_communicator.cpp.
#pragma once

#include <memory>
#include <string>

#include "archetype/communicator.hpp"

namespace archetype {

/// The device of the rank with this node-local index among `devices`
/// (mpirun: OMPI_COMM_WORLD_LOCAL_RANK): round robin, so one rank per GPU
/// when there are as many ranks per node as GPUs.  0 without devices.
int device_for_local_rank(int local_rank, int devices);

/// True when this binary has the NCCL communicator (CUDA, MPI and nccl.h at build time).
bool nccl_built();
/// True when libnccl.so.2 loads here (it is opened at run time: the binary
/// starts without it, and a machine without NCCL sums over MPI).
bool nccl_loadable();

/// A communicator whose allreduce_sum (the exact int64 sums of every pass)
/// runs on NCCL (ncclAllReduce, ncclInt64, ncclSum: exact, so NCCL's
/// order does not matter) on `device`, every other call on `world` (which
/// also bootstraps NCCL: rank 0's ncclUniqueId is broadcast over it).  A
/// collective.  Takes `world` only when NCCL is up; throws DeviceError
/// when NCCL cannot start, leaving `world` to the caller (to abort the job
/// with: other ranks may wait in NCCL's start-up); without NCCL in the
/// build, InputError.
std::unique_ptr<Communicator> make_nccl_communicator(std::unique_ptr<Communicator>& world, int device);

/// What one rank brings to the NCCL decision.
struct NcclVote {
  /// NCCL allowed here: the backend is "cuda" or "auto" and ARCHETYPE_NCCL
  /// is not "0" (mpirun forwards no unprefixed variable to other nodes
  /// without -x, so ranks may differ: they vote).
  bool wanted = false;
  /// This rank's GPU is usable, libnccl.so.2 loads, and the GPU says who
  /// it is (a UUID).
  bool usable = false;
  /// The GPU's identity (CudaStatus::uuid): ranks with the same share it.
  std::string device_id;
  /// Where it is, for the notice (CudaStatus::pci_bus_id).
  std::string device_place;
};

/// The job's choice, the same on every rank.
struct NcclDecision {
  bool use = false;
  /// Why NCCL is not used although every rank wants and can (two ranks on
  /// one GPU: NCCL refuses a communicator whose ranks share a device): a
  /// notice for rank 0; empty otherwise.
  std::string why_not;
};

/// Whether a split job sums its integers over NCCL: every rank wants it
/// and can, and no two ranks drive the same GPU (the same UUID).  A collective
/// (allgather) in every build with NCCL, whatever the rank's own vote, so
/// that every rank enters it; without NCCL in the build, no collective.
NcclDecision decide_nccl(Communicator& world, const NcclVote& vote);

}  // namespace archetype
