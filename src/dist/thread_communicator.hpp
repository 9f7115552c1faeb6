// Communicators without MPI: one process alone, and a group of threads
// that play the ranks of a job inside one process.  The thread group lets
// the tests run every distributed code path (the engine's decorator, the
// split readers, the collective error rule) in any build, under the
// sanitizers too, and compare it bit for bit with one process.
#pragma once

#include <functional>
#include <memory>

#include "archetype/communicator.hpp"

namespace archetype {

/// Size 1: every collective is a copy; abort() exits the process.
std::unique_ptr<Communicator> make_single_process_communicator();

/// Runs body(comm) on `ranks` threads, each with its own Communicator of a
/// group of that size, and waits for all.  If any body throws, the others
/// are released from the collective they wait in (it throws in them), and
/// the first exception (lowest rank among those that threw first) is
/// rethrown here; abort(status) throws ThreadAbort in the calling thread.
void run_thread_ranks(int ranks, const std::function<void(Communicator&)>& body);

/// What Communicator::abort throws in a thread group.
struct ThreadAbort : std::runtime_error {
  int status;
  ThreadAbort(int rank, int s);
};

}  // namespace archetype
