// How read_csv / parse_csv split the data rows across threads.  Internal:
// the public functions use the defaults; tests use smaller chunks to put
// chunk boundaries next to every kind of row.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "archetype/csv.hpp"

namespace archetype::csv_detail {

struct Chunking {
  /// Most chunks to parse in parallel; 0: a few per OpenMP thread, or one
  /// when there is a single thread.  They run on at most
  /// omp_get_max_threads() threads.
  std::size_t max_chunks = 0;
  /// Smallest chunk worth a thread: below it, thread start-up and the
  /// extra pass that counts line breaks cost more than they save.
  std::size_t min_chunk_bytes = std::size_t{1} << 18;
};

/// parse_csv with explicit chunking.  The result (table or error message)
/// never depends on `chunking`.
Table parse_csv_chunked(std::string_view text, const std::string& source_name, const CsvOptions& options,
                        const Chunking& chunking);

}  // namespace archetype::csv_detail
