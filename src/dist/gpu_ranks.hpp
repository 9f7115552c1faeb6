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
/// collective.  Throws DeviceError when NCCL cannot start; without NCCL in
/// the build, InputError.
std::unique_ptr<Communicator> make_nccl_communicator(std::unique_ptr<Communicator> world, int device);

/// Whether a job on this backend sums over NCCL: NCCL built, the backend
/// is "cuda" or "auto", ARCHETYPE_NCCL is not "0", and every rank's device
/// is usable (`usable`, this rank's; a collective, so all ranks agree).
bool job_uses_nccl(Communicator& world, const std::string& backend, bool usable, const char* env_nccl);

}  // namespace archetype
