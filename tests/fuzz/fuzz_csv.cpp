// libFuzzer target: the CSV reader (parse_csv, the in-memory entry point
// that read_csv uses after mapping the file).
//
// Input layout: byte 0 holds option flags, then optional lines for the
// options that take text, then the CSV text itself:
//   bit 0  drop_invalid
//   bit 1  the next line (up to '\n') is --columns, split at ','
//   bit 2  the next line is --id-column
//   bit 3  also parse in tiny chunks (bits 4-7 + 2 chunks) and check that
//          the outcome is the same (the parallel reader's promise)
// Besides the contract (parse or InputError), a parsed table is checked
// for consistency: sizes agree, every value is finite.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "archetype/csv.hpp"
#include "io/csv_parallel.hpp"
#include "fuzz_contract.hpp"

namespace {

using archetype::CsvOptions;
using archetype::InputError;
using archetype::Table;
using archetype::fuzz::finding;

std::string_view take_line(std::string_view& s) {
  const std::size_t end = s.find('\n');
  const std::string_view line = s.substr(0, end);
  s.remove_prefix(end == std::string_view::npos ? s.size() : end + 1);
  return line;
}

std::vector<std::string> split_commas(std::string_view s) {
  std::vector<std::string> out;
  for (std::size_t start = 0;;) {
    const std::size_t comma = s.find(',', start);
    out.emplace_back(s.substr(start, comma - start));
    if (comma == std::string_view::npos) return out;
    start = comma + 1;
  }
}

void check_table(const Table& t) {
  const auto& m = t.features;
  if (m.rows == 0 || m.cols == 0) finding("a parsed table without rows or columns");
  if (m.values.size() != m.rows * m.cols) finding("features.values.size() != rows * cols");
  if (t.ids.size() != m.rows) finding("ids.size() != rows");
  if (t.column_names.size() != m.cols || t.column_indices.size() != m.cols) finding("column names/indices != cols");
  for (float v : m.values)
    if (!std::isfinite(v)) finding("a non-finite value in a parsed table");
}

/// The parse's outcome, comparable: the table's contents or the error message.
struct Outcome {
  bool ok = false;
  std::string error;
  Table table;
};

template <typename Parse>
Outcome outcome_of(Parse&& parse) {
  Outcome o;
  o.ok = archetype::fuzz::parses_or_input_error([&] {
    try {
      o.table = parse();
    } catch (const InputError& e) {
      o.error = e.what();
      throw;
    }
  });
  return o;
}

bool same(const Outcome& a, const Outcome& b) {
  if (a.ok != b.ok) return false;
  if (!a.ok) return a.error == b.error;
  const Table &x = a.table, &y = b.table;
  return x.features.rows == y.features.rows && x.features.cols == y.features.cols &&
         x.features.values == y.features.values && x.ids == y.ids && x.column_names == y.column_names &&
         x.column_indices == y.column_indices && x.id_name == y.id_name && x.dropped_rows == y.dropped_rows &&
         x.drop_reasons == y.drop_reasons;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  archetype::fuzz::single_threaded();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t flags = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  CsvOptions options;
  options.drop_invalid = (flags & 1) != 0;
  if (flags & 2) options.columns = split_commas(take_line(rest));
  if (flags & 4) options.id_column = std::string(take_line(rest));

  const Outcome whole = outcome_of([&] { return archetype::parse_csv(rest, "fuzz.csv", options); });
  if (whole.ok) check_table(whole.table);
  if (flags & 8) {
    const archetype::csv_detail::Chunking tiny{static_cast<std::size_t>(2 + (flags >> 4)), 1};
    const Outcome chunked =
        outcome_of([&] { return archetype::csv_detail::parse_csv_chunked(rest, "fuzz.csv", options, tiny); });
    if (!same(whole, chunked)) finding("chunked parse differs from the whole parse: " + whole.error + " | " + chunked.error);
  }
  return 0;
}
