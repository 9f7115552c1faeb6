#include "study/input_table.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>

#include "archetype/error.hpp"
#include "archetype/npy.hpp"
#include "io/install_paths.hpp"
#include "io/split_input.hpp"
#include "io/memory_need.hpp"
#include "io/printable.hpp"
#include "io/text_encoding.hpp"

namespace archetype {
namespace {

const char* kDefaultDataset = "instagram_visits_clustering.csv";

/// Display names of the reference dataset's columns (the study's vocabulary).
std::string default_display_name(const std::string& column) {
  static const std::map<std::string, std::string> names = {
      {"Instagram visit score", "Engagement Index"},
      {"Spending_rank(0 to 100)", "Monetization Maturity"},
  };
  const auto it = names.find(column);
  return it == names.end() ? column : it->second;
}

bool has_suffix(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// A .npy column index given as text ("2"), or none.
std::optional<std::size_t> npy_column(const std::string& c, std::size_t cols) {
  std::size_t used = 0;
  unsigned long j = 0;
  try {
    j = std::stoul(c, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != c.size() || j >= cols) return std::nullopt;
  return j;
}

Table npy_table_of(const std::string& path, const CsvOptions& options, Matrix m, std::size_t row_offset);

/// A .npy matrix as a Table: columns are named by their 0-based index
/// ("0", "1", ...), so --columns selects them the same way; ids are the
/// 0-based row numbers.  NumPy files carry no id column.  The weight
/// column (an index) is read apart, checked >= 0, never a feature.
Table read_npy_table(const std::string& path, const CsvOptions& options, Communicator* comm, ShareInfo* share) {
  if (!options.id_column.empty()) throw InputError(path + ": a .npy file has no id column (--id-column)");
  Matrix m = comm ? read_npy_share(path, *comm, *share) : read_npy(path);
  // A matrix without rows is valid NumPy but nothing to cluster (read_npy
  // itself refuses shapes without columns).
  if (m.rows == 0 && !comm)
    throw InputError(path + ": header field 'shape': expected at least one row, found (0, " + std::to_string(m.cols) +
                     ")");
  // Under a split every process checks its own rows: the first bad weight
  // of all rows, named by its row among them, is every process's error.
  Table t;
  agree(comm, [&] { t = npy_table_of(path, options, std::move(m), comm ? share->row_offset : 0); });
  return t;
}

/// read_npy_table's columns from the matrix read (rows from row_offset + 1).
Table npy_table_of(const std::string& path, const CsvOptions& options, Matrix m, std::size_t row_offset) {
  const auto not_found = [&](const std::string& c) {
    return InputError(path + ": column '" + c + "' not found (a .npy file has columns 0.." + std::to_string(m.cols - 1) + ")");
  };
  std::optional<std::size_t> weight;
  Table t;
  if (!options.weight_column.empty()) {
    weight = npy_column(options.weight_column, m.cols);
    if (!weight) throw not_found(options.weight_column);
    t.weight_name = std::to_string(*weight);
    t.weights.resize(m.rows);
    for (std::size_t i = 0; i < m.rows; ++i) {
      const float v = m.at(i, *weight);  // finite: read_npy checked
      if (!(v >= 0.0f)) {
        char found[32];
        std::snprintf(found, sizeof found, "%.9g", static_cast<double>(v));
        throw InputError(path + ": row " + std::to_string(row_offset + i + 1) + ", column " + std::to_string(*weight + 1) +
                         ": expected a weight >= 0 in the weight column, found " + found);
      }
      t.weights[i] = v;
    }
  }
  std::vector<std::size_t> cols;
  if (options.columns.empty()) {
    for (std::size_t j = 0; j < m.cols; ++j)
      if (j != weight) cols.push_back(j);
    if (cols.empty()) throw InputError(path + ": expected at least one feature column besides the weight column");
  } else {
    for (const std::string& c : options.columns) {
      const std::optional<std::size_t> j = npy_column(c, m.cols);
      if (!j) throw not_found(c);
      if (j == weight)
        throw InputError(path + ": column '" + c + "' is the weight column (--weight-column); it cannot also be a feature");
      cols.push_back(*j);
    }
  }
  bool all_in_order = cols.size() == m.cols;
  for (std::size_t j = 0; j < cols.size() && all_in_order; ++j) all_in_order = cols[j] == j;
  if (all_in_order) {
    t.features = std::move(m);  // no copy of a large matrix
  } else {
    t.features = Matrix(m.rows, cols.size());
    for (std::size_t i = 0; i < m.rows; ++i)
      for (std::size_t j = 0; j < cols.size(); ++j) t.features.at(i, j) = m.at(i, cols[j]);
  }
  for (std::size_t j : cols) {
    t.column_names.push_back(std::to_string(j));
    t.column_indices.push_back(j);
  }
  // ids stay empty: they are the row numbers (see drop_row_number_ids).
  return t;
}

/// Without an id column and with no dropped row, the ids are just the row
/// numbers 0..n-1: free them (32 bytes a row) and let the writers number
/// the rows.  An empty Table::ids means exactly that inside the pipeline.
void drop_row_number_ids(Table& t) {
  if (!t.id_name.empty() || t.dropped_rows != 0) return;
  std::vector<std::string>().swap(t.ids);
}

}  // namespace

LoadedInput load_input(const InputRequest& o, const NoticeFn& notice, Communicator* comm) {
  if (comm && comm->size() == 1) comm = nullptr;
  LoadedInput data;
  CsvOptions csv = o.csv;
  data.path = o.path.empty() ? (std::filesystem::path(data_dir()) / kDefaultDataset).string() : o.path;
  if (o.path.empty() && csv.columns.empty()) {
    csv.columns = {"Instagram visit score", "Spending_rank(0 to 100)"};
    if (csv.id_column.empty()) csv.id_column = "User ID";
  }
  const bool is_npy = has_suffix(data.path, ".npy");
  ShareInfo share;  // a share of a job split across processes (comm): each rank reads its own rows
  data.table = is_npy ? read_npy_table(data.path, csv, comm, &share)
               : comm ? read_csv_share(data.path, csv, *comm, share)
                      : read_csv(data.path, csv);
  if (comm) data.split = RowSplit::of(*comm, data.table.features.rows);
  if (data.path == "-") data.path = "stdin";  // a CSV on stdin (`archetype fit - < table.csv`)
  drop_row_number_ids(data.table);
  const std::size_t d = data.table.column_names.size();
  if (!o.feature_names.empty() && o.feature_names.size() != d)
    throw InputError("--feature-names gives " + std::to_string(o.feature_names.size()) + " names for " +
                     std::to_string(d) + " feature columns");
  for (std::size_t j = 0; j < o.feature_names.size(); ++j)
    if (o.feature_names[j].size() > kMaxColumnNameBytes)
      throw InputError("--feature-names: name " + std::to_string(j + 1) + " has " +
                       std::to_string(o.feature_names[j].size()) + " bytes, expected at most " +
                       std::to_string(kMaxColumnNameBytes));
  for (std::size_t j = 0; j < d; ++j)
    data.names.push_back(!o.feature_names.empty() ? o.feature_names[j]
                         : is_npy ? "Feature " + data.table.column_names[j]  // .npy columns are bare indices
                                  : default_display_name(data.table.column_names[j]));
  // JSON outputs must be valid UTF-8: names and ids in another encoding
  // (cp1252/Latin-1 exports) are read as Latin-1, with one notice.
  bool recoded = false;
  const auto fix = [&](std::string& text) {
    bool changed = false;
    text = utf8_or_latin1(text, &changed);
    recoded |= changed;
  };
  for (std::string& name : data.table.column_names) fix(name);
  for (std::string& name : data.table.skipped_columns) fix(name);
  for (std::string& name : data.names) fix(name);
  fix(data.table.id_name);
  fix(data.table.weight_name);
  for (std::string& id : data.table.ids) fix(id);
  fix(data.path);
  if (comm) recoded = allreduce_or(*comm, recoded);  // ids are read per rank
  if (recoded) notice("some column names, ids or the file name are not UTF-8: read as Latin-1 (cp1252)");
  const Table& t = data.table;
  // What the rest of the run needs, for the message if memory runs out.
  memory::note_workload(t.features.rows, t.features.cols,
                        memory::study_bytes(t.features.rows, t.features.cols, 0, !t.ids.empty(), 0));
  if (!t.skipped_columns.empty()) {
    std::string names;
    for (std::size_t i = 0; i < t.skipped_columns.size() && i < 10; ++i)
      names += (i ? ", '" : "'") + printable(t.skipped_columns[i], 80) + "'";  // unused: any length
    if (t.skipped_columns.size() > 10) names += " and " + std::to_string(t.skipped_columns.size() - 10) + " more";
    notice("skipped " + std::to_string(t.skipped_columns.size()) + " text column(s): " + names +
           " (--columns chooses the features)");
  }
  for (const std::string& note : t.notes) notice(note);
  if (t.id_inferred) notice("using text column '" + t.id_name + "' as the id (its values are distinct)");
  if (t.delimiter != ',') notice(std::string("read as ") + (t.delimiter == ';' ? "semicolon" : "tab") + "-separated values");
  if (!data.table.weight_name.empty()) {
    // Row order, over every process's rows: the same total every run, and
    // for any number of processes.
    const std::vector<double> sums = fold_in_row_order(comm, {0.0, 0.0}, [&](std::vector<double>& acc) {
      for (double v : data.table.weights) {
        acc[0] += v;
        acc[1] += v == 0.0;  // a count below 2^53: exact
      }
    });
    WeightSummary summary;
    summary.column = data.table.weight_name;
    summary.total = sums[0];
    summary.zero_rows = static_cast<std::size_t>(sums[1]);
    if (!(summary.total > 0.0)) {
      const std::string why = data.path + ": every weight in the weight column '" + data.table.weight_name +
                              "' is 0 (expected a positive total)";
      if (comm) throw AgreedError(why);
      throw InputError(why);
    }
    data.weights = summary;
  }
  if (data.table.dropped_rows > 0) {
    notice("dropped " + std::to_string(data.table.dropped_rows) + " invalid row(s) (--drop-invalid); first: " +
           data.table.drop_reasons.front());
  }
  return data;
}

InputSummary input_summary(const LoadedInput& data) {
  InputSummary in;
  in.path = data.path;
  in.rows = data.split ? data.split->total : data.table.features.rows;
  in.columns = data.table.column_names;
  in.feature_names = data.names;
  in.id_column = data.table.id_name;
  in.dropped_rows = data.table.dropped_rows;
  in.sample_weight = data.weights;
  return in;
}

}  // namespace archetype
