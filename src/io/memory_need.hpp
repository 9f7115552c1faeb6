// Out of memory as an input-class error: "not enough memory for N rows x d
// features (needs about X MB)" (exit 2, nothing left behind) instead of
// "internal error: std::bad_alloc".
//
// Design (and why): an allocation can fail anywhere (the CSV's output
// arrays, the engine's scratch, a JSON document), often far from where the
// size of the problem is known, and sometimes where no exception can travel
// (inside an OpenMP region, or in a destructor during unwinding: both end
// in std::terminate).  So the readers and the pipeline note the workload as
// soon as they know it, and whoever reports the failure (the CLI's catch,
// or its terminate handler) reads the note.  The note is formatted when it
// is made, into a fixed buffer: reporting allocates nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace archetype::memory {

/// Records what the run is working on: `rows` x `features` needing about
/// `bytes` in all.  A later note replaces an earlier one.
void note_workload(std::size_t rows, std::size_t features, std::uint64_t bytes);

/// "not enough memory for 400,000 rows x 2 features (needs about 30 MB)",
/// or "not enough memory" before any note.  No allocation: a pointer to a
/// buffer that lives for the whole process.
const char* out_of_memory_message();

/// The memory a study of `rows` x `features` float32 values needs, roughly:
/// the matrix, standardized in place; a transposed copy from 3 features on
/// (the engine's); `copies` more (--keep-columns); per row an id (when
/// `ids`), labels and nearest-centre distances; and `input_bytes` of a
/// mapped or buffered input file.
std::uint64_t study_bytes(std::size_t rows, std::size_t features, int copies, bool ids, std::uint64_t input_bytes);

}  // namespace archetype::memory
