// CSV input: RFC 4180 quoting, CRLF or LF line ends, an optional UTF-8 BOM,
// one header row, numeric feature columns parsed with fast_float.
//
// Every error is an InputError whose message starts with
// "FILE:LINE:COLUMN: " (LINE is the 1-based physical line in the file, the
// header being line 1; COLUMN is the 1-based field number) and says what was
// expected and what was found.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "archetype/matrix.hpp"

namespace archetype {

/// The longest name a used column (a feature or the id) may have, in bytes:
/// names go into every output and the terminal, so a hostile 50 MB header
/// field is refused (with its line and field) instead of being copied into
/// each of them.  Unused columns may have longer names.
inline constexpr std::size_t kMaxColumnNameBytes = 1024;

struct CsvOptions {
  /// Feature columns, each a header name or a 0-based column index written
  /// in decimal ("2"); blanks around a name are ignored.  A name that exists
  /// in the header wins over an index.  Empty: every numeric column except
  /// the id column (a column where most of the first 1,000 non-empty cells
  /// are not numbers is text and skipped, as pandas' select_dtypes; see
  /// Table::skipped_columns; a typo in a numeric column is still an error).
  std::vector<std::string> columns;
  /// Id column name or 0-based index.  Empty: auto-detect a column whose
  /// header is (case-insensitively) "id", "user id", "user_id",
  /// "creator id" or "creator_id"; without `columns`, else the first text
  /// column whose first 1,000 values are all distinct and non-empty (a
  /// handle); if none, ids are the 0-based data row numbers.  A name given
  /// here that is absent is an error.
  std::string id_column;
  /// With `id_column` empty: the id column when the header has this name
  /// (no error when it has not), before any other detection; `predict` uses
  /// the training table's id column this way.
  std::string id_column_hint;
  /// Field delimiter; 0: detected from the header line (the most frequent of
  /// ',', ';' and tab outside quotes, a comma when none occurs).
  char delimiter = 0;
  /// Skip rows with a ragged shape, an empty, non-numeric, NaN, infinite or
  /// out-of-float-range feature cell instead of failing; they are counted in
  /// Table::dropped_rows and the first few reasons kept in
  /// Table::drop_reasons.
  bool drop_invalid = false;
  /// Where `columns` came from, when not from the user (e.g. "a feature of
  /// model m.json"): named in the message when one of them is missing.
  std::string columns_origin;
  /// The sample_weight column, a header name or a 0-based index (as in
  /// `columns`); empty: none.  Read into Table::weights as doubles (not
  /// float32: integer weights stay exact), never a feature: without
  /// `columns` it is left out of the features like the id column, and
  /// naming it in `columns` or as the id is an error.  Every cell must be a
  /// finite number >= 0 (an error naming file, line and column, or a
  /// dropped row with drop_invalid).
  std::string weight_column;
};

struct Table {
  Matrix features;                        ///< data rows x chosen columns
  std::vector<std::string> column_names;  ///< header names of the chosen columns
  std::vector<std::size_t> column_indices;  ///< their 0-based positions in the header
  std::string id_name;                    ///< header of the id column ("" when none)
  std::vector<std::string> ids;           ///< one per kept row
  std::size_t dropped_rows = 0;           ///< rows skipped by drop_invalid
  std::vector<std::string> drop_reasons;  ///< up to 5 "FILE:LINE:COL: reason" lines
  char delimiter = ',';                   ///< the delimiter read (detected or given)
  std::vector<std::string> skipped_columns;  ///< text columns left out (no `columns` given)
  bool id_inferred = false;               ///< the id column is a distinct text column, not one named as an id
  std::vector<std::string> notes;         ///< how ambiguous `columns` were read (names that are also indices)
  std::string weight_name;                ///< header of the weight column ("" when none)
  std::vector<double> weights;            ///< one per kept row when there is a weight column
};

/// Reads and validates a whole CSV file ("-": stdin, named "stdin" in
/// messages; a pipe, FIFO or device is checked as it streams in, see
/// io/csv_mapped_file.hpp).  Throws InputError on bad input
/// (including a missing or unreadable file, a directory, an empty file, a
/// header without data rows, a binary file, a selected column whose header
/// name is blank or not unique).
Table read_csv(const std::string& path, const CsvOptions& options);

/// Same as read_csv on text already in memory; `source_name` is used in
/// error messages in place of the file name.
Table parse_csv(std::string_view text, const std::string& source_name, const CsvOptions& options);

}  // namespace archetype
