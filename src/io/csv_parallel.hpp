// How read_csv / parse_csv split the data rows across threads.  Internal:
// the public functions use the defaults; tests use smaller chunks to put
// chunk boundaries next to every kind of row.
#pragma once

#include <cstddef>
#include <string>
#include <memory>
#include <string_view>
#include <vector>

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

// ---- shares of one file, for a job split across processes (csv_split.cpp) ----

/// The messages of the whole-file checks, shared with the split reader.
std::string no_rows_message(const std::string& source, std::size_t first_data_line);
std::string all_dropped_message(const std::string& source, std::size_t data_rows, const std::string& first_reason);

/// One share's rows, parsed.
struct CsvSection {
  Table table;                ///< its kept rows (auto ids numbered from the share's first data row, 0)
  std::size_t rows_seen = 0;  ///< data rows read, dropped ones included
  std::string error;          ///< its first error (then nothing else is set); empty: none
};

/// A CSV text with its header read and its columns chosen as read_csv
/// chooses them (the same on every process: the header and the first
/// rows decide), whose data rows are then parsed share by share.
class CsvSplitView {
 public:
  /// InputError for anything wrong before the data rows (the same as read_csv's).
  CsvSplitView(std::string_view text, const std::string& source, const CsvOptions& options);
  ~CsvSplitView();
  CsvSplitView(const CsvSplitView&) = delete;
  CsvSplitView& operator=(const CsvSplitView&) = delete;

  /// The data rows' text (after the header, trailing line breaks cut).
  std::string_view data() const;
  /// The physical line data()[0] is on.
  std::size_t first_data_line() const;
  /// Record starts (quoted line breaks are no start) at or after each
  /// ascending offset; data().size() past a malformed record.
  std::vector<std::size_t> record_starts(const std::vector<std::size_t>& offsets) const;
  /// data()[begin, end), a run of whole records whose first line is
  /// `first_line`.  Call once.
  CsvSection parse(std::size_t begin, std::size_t end, std::size_t first_line);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace archetype::csv_detail
