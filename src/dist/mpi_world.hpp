// The job this process belongs to when an MPI launcher started it (mpirun,
// mpiexec, srun --mpi=pmix): the one place that initialises MPI.  Started
// any other way, nothing is initialised and nothing changes: the same
// binary is a plain single process.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "archetype/communicator.hpp"

namespace archetype {

/// What the launcher's environment says, before MPI is initialised.
struct LaunchEnv {
  bool launched = false;  ///< an MPI launcher started this process
  int size = 1;           ///< processes in the job (0 when the launcher does not say)
  int rank = 0;
  int local_rank = 0;     ///< among the processes of this node (GPU choice)
  /// Started by srun with several tasks but without an MPI plugin (no PMI):
  /// N independent copies would each do the whole job.  Why, in words.
  std::string unusable;
};

/// Reads OMPI_COMM_WORLD_{SIZE,RANK,LOCAL_RANK} (Open MPI's mpirun),
/// PMIX_RANK (PMIx launchers), PMI_{SIZE,RANK} (MPICH, Slurm's PMI2) and
/// SLURM_{NTASKS,PROCID,LOCALID}; `get` is getenv (tests pass their own).
LaunchEnv read_launch_env(const std::function<const char*(const char*)>& get);

/// True when this build can run under MPI (ARCHETYPE_MPI found MPI and
/// built libarchetype_mpi.so, the module that holds the MPI communicator).
bool mpi_built();

/// MPI_COMM_WORLD when launched by an MPI launcher with more than one
/// process (the module libarchetype_mpi.so is opened only then:
/// MPI_Init_thread, FUNNELED: collectives come from the main thread only;
/// MPI_Finalize when the communicator goes); nullptr when started alone (no
/// MPI, not even loaded) or by mpirun -np 1.  Throws InputError when started
/// by a launcher with several processes in a build without MPI (or without
/// its module), or by srun without an MPI plugin.
std::unique_ptr<Communicator> join_mpi_job(int& argc, char**& argv);

}  // namespace archetype
