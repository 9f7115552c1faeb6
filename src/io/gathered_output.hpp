// One output file written from the rows of every process of a split job:
// rank 0 stages it, writing its own pieces, then each other rank's pieces
// in rank order (point to point, about 1 MB at a time), so the file has
// the bytes one process would write and never exists whole in memory.
#pragma once

#include <string>

#include "archetype/communicator.hpp"
#include "io/output_files.hpp"

namespace archetype {

/// Every rank calls it (files: rank 0's OutputFiles, nullptr elsewhere);
/// produce(write) hands this rank's pieces, in order, to write.  If
/// staging fails on rank 0 (a full disk), rank 0 still takes every piece
/// the others send, then throws; the other ranks return normally (wrap
/// the call in agree() so that every rank learns of the failure).
void stage_gathered(Communicator& comm, OutputFiles* files, const std::string& name, const ProduceFn& produce);

}  // namespace archetype
