// Reading one process's share of an input file, for a job whose rows are
// split across processes (communicator.hpp): each rank reads only its own
// rows, and every rank gets the messages and counts of a whole read.
//
// .npy: rank r of N takes rows [n r / N, n (r + 1) / N).
// CSV: the data rows' bytes are cut into N near-equal ranges, each moved
// forward to the next record start.  Without a '"' in the data every line
// start is a record start, so each rank finds its own from its offset.
// With quotes a line break may sit inside a field: rank 0 then reads the
// records from the start (the tokenizer, quotes respected) up to the last
// offset and sends the starts to everyone (a pre-scan of the whole file
// on one process; the other ranks still read only their share).  Line
// numbers are counted per share and summed, so every message names the
// physical line of a whole read; the first failure in row order is the
// one reported (agree), and every rank throws it.
#pragma once

#include <cstddef>
#include <string>

#include "archetype/communicator.hpp"
#include "archetype/csv.hpp"
#include "archetype/matrix.hpp"

namespace archetype {

/// Where a share sits: its first kept row among all kept rows, and all kept rows.
struct ShareInfo {
  std::size_t row_offset = 0;
  std::size_t total_rows = 0;
};

/// read_csv for this rank's share: the kept rows of its byte range; the
/// table's dropped_rows and drop_reasons are those of the whole file, auto
/// ids count the data rows of the whole file.  Throws AgreedError.
Table read_csv_share(const std::string& path, const CsvOptions& options, Communicator& comm, ShareInfo& info);

/// read_npy for this rank's share of the rows.  Throws AgreedError.
Matrix read_npy_share(const std::string& path, Communicator& comm, ShareInfo& info);

}  // namespace archetype
