// Step 1 of the study: the input table (CSV or .npy) read and validated,
// with the reference dataset's defaults when no file is given.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "archetype/communicator.hpp"
#include "archetype/csv.hpp"
#include "archetype/notice.hpp"
#include "archetype/study_result.hpp"
#include "io/install_paths.hpp"  // data_dir()

namespace archetype {

struct InputRequest {
  std::string path;                        ///< CSV or .npy; empty = the embedded reference dataset
  CsvOptions csv;                          ///< columns, id column, drop_invalid
  std::vector<std::string> feature_names;  ///< display names; empty = defaults
};

struct LoadedInput {
  Table table;
  std::string path;                ///< the file read
  std::vector<std::string> names;  ///< display names, one per feature column
  /// Set when the table holds this process's share of a job split across
  /// processes: where its rows sit among all rows (table.features and
  /// table.ids are the share's; dropped_rows and drop_reasons the file's).
  std::optional<RowSplit> split;
  /// The weight column's summary (--weight-column), over all rows.
  std::optional<WeightSummary> weights;
};

/// Reads and validates the table (InputError names file, line and column);
/// a dropped-rows notice goes through `notice`.  With a communicator of
/// more than one rank, reads this rank's share only (io/split_input.hpp)
/// and throws AgreedError.
LoadedInput load_input(const InputRequest& request, const NoticeFn& notice, Communicator* comm = nullptr);

/// The input section of the study result.
InputSummary input_summary(const LoadedInput& input);


}  // namespace archetype
