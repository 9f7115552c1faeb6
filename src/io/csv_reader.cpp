// CSV reader: the file is memory-mapped, the header parsed, and the data
// rows parsed in parallel chunks when that is safe.
//
// Design notes (the "why"):
// - Fields are string_views into the input buffer; only a quoted field that
//   contains a doubled quote ("") is decoded into a reusable scratch string,
//   so numeric cells never allocate.
// - Every row is scanned to its end even after a problem is found, so that a
//   ragged shape (the likelier root cause) is reported in preference to a
//   bad cell, and so that drop_invalid can resume at the next record.
// - Line numbers are physical: every LF, CRLF or lone CR counts, inside
//   quotes too, so they match what an editor shows.
// - Trailing line breaks are cut off before parsing: they are never rows,
//   and without them every line break in the data is followed by a row.
// - A line start is a record start only when no quoted field spans lines,
//   so the data rows are split into chunks only when they hold no '"' at
//   all (checked by the vectorised pass that counts line breaks); else one
//   chunk takes them all.  Without quotes every line break ends exactly one
//   data row, so a prefix sum of the chunks' line-break counts gives each
//   chunk its first line number and data row number: its messages and auto
//   ids are those of a sequential parse.
// - The output arrays are sized up front (rows <= line breaks + 1, and
//   <= bytes / fields per row + 1, see rows_that_fit) and each
//   chunk writes its rows at its own offset: no row is copied unless rows
//   were dropped, and no id string is allocated unless it is too long for
//   the small-string buffer.
// - Each chunk stops at its first fatal error.  The earliest chunk's error
//   is the one a sequential parse throws, since the chunks before it had
//   none; later chunks are not started, or were parsed for nothing.
#include <fast_float/fast_float.h>
#include <omp.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "archetype/csv.hpp"
#include "archetype/error.hpp"
#include "io/csv_chunks.hpp"
#include "io/csv_mapped_file.hpp"
#include "io/csv_parallel.hpp"
#include "io/memory_need.hpp"
#include "io/printable.hpp"

namespace archetype {
namespace {

constexpr std::size_t kMaxFoundChars = 40;   // quoted input text in messages
constexpr std::size_t kMaxNameChars = 80;    // column names in messages
constexpr std::size_t kMaxDropReasons = 5;
constexpr std::size_t kMaxListedColumns = 20;
constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// ---------------------------------------------------------------------------
// Message helpers
// ---------------------------------------------------------------------------

std::string location(const std::string& source, std::size_t line, std::size_t column) {
  return source + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
}

std::string count_of_fields(std::size_t n) { return std::to_string(n) + (n == 1 ? " field" : " fields"); }

std::string quoted_name(std::string_view name) { return "'" + printable(name, kMaxNameChars) + "'"; }

std::string column_list(const std::vector<std::string>& header) {
  std::string out;
  const std::size_t shown = std::min(header.size(), kMaxListedColumns);
  for (std::size_t i = 0; i < shown; ++i) {
    if (i != 0) out += ", ";
    out += quoted_name(header[i]);
  }
  if (shown < header.size()) out += ", ... " + std::to_string(header.size() - shown) + " more";
  return out;
}

// ---------------------------------------------------------------------------
// Numeric cells
// ---------------------------------------------------------------------------

enum class CellStatus { ok, empty, not_a_number, not_finite, out_of_range };

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::string_view trim_blanks(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

bool is_digit_or_dot(char c) { return (c >= '0' && c <= '9') || c == '.'; }

// Parses a whole cell as a float32.  Goes through double (as specified) so
// that the float range check sees the true magnitude.
CellStatus parse_number(std::string_view cell, float& out) {
  std::string_view text = trim_blanks(cell);
  if (text.empty()) return CellStatus::empty;
  // fast_float follows std::from_chars and refuses a leading '+', which
  // spreadsheets do write; accept exactly one before a digit or a dot.
  if (text.size() > 1 && text[0] == '+' && is_digit_or_dot(text[1])) text.remove_prefix(1);
  double value = 0.0;
  const char* last = text.data() + text.size();
  const auto result = fast_float::from_chars(text.data(), last, value);
  if (result.ptr != last) return CellStatus::not_a_number;
  if (result.ec == std::errc::result_out_of_range) return CellStatus::out_of_range;
  if (result.ec != std::errc()) return CellStatus::not_a_number;
  if (!std::isfinite(value)) {
    // "nan"/"inf" spelled out vs. a decimal literal that overflowed double.
    const std::size_t first = text[0] == '-' ? 1 : 0;
    return is_digit_or_dot(text[first]) ? CellStatus::out_of_range : CellStatus::not_finite;
  }
  // Halfway between FLT_MAX and the next power of two: anything smaller
  // rounds to a finite float.  A bound of FLT_MAX itself would reject
  // "3.4028235e+38", the shortest text that prints FLT_MAX.
  constexpr double kFloatOverflow = 0x1.ffffffp+127;
  if (std::fabs(value) >= kFloatOverflow) return CellStatus::out_of_range;
  out = static_cast<float>(value);
  return CellStatus::ok;
}

// Parses a weight cell: a finite double >= 0 (kept in double, so that
// integer weights stay exact).
CellStatus parse_weight(std::string_view cell, double& out) {
  std::string_view text = trim_blanks(cell);
  if (text.empty()) return CellStatus::empty;
  if (text.size() > 1 && text[0] == '+' && is_digit_or_dot(text[1])) text.remove_prefix(1);
  const char* last = text.data() + text.size();
  const auto result = fast_float::from_chars(text.data(), last, out);
  if (result.ptr != last) return CellStatus::not_a_number;
  if (result.ec == std::errc::result_out_of_range || (result.ec == std::errc() && !std::isfinite(out)))
    return CellStatus::not_finite;
  if (result.ec != std::errc()) return CellStatus::not_a_number;
  return out >= 0.0 ? CellStatus::ok : CellStatus::out_of_range;
}

std::string weight_problem(CellStatus status, std::string_view cell, const std::string& column) {
  const std::string in_column = " in the weight column " + quoted_name(column);
  const std::string found = ", found '" + printable(cell, kMaxFoundChars) + "'";
  switch (status) {
    case CellStatus::empty: return "expected a weight (a number >= 0)" + in_column + ", found an empty cell";
    case CellStatus::not_finite: return "expected a finite weight" + in_column + found;
    case CellStatus::out_of_range: return "expected a weight >= 0" + in_column + found;
    case CellStatus::not_a_number:
    case CellStatus::ok: break;
  }
  return "expected a weight (a number >= 0)" + in_column + found;
}

std::string cell_problem(CellStatus status, std::string_view cell, const std::string& column) {
  const std::string in_column = " in column " + quoted_name(column);
  const std::string found = ", found '" + printable(cell, kMaxFoundChars) + "'";
  switch (status) {
    case CellStatus::empty:
      return "expected a number" + in_column + ", found an empty cell";
    case CellStatus::not_finite:
      return "expected a finite number" + in_column + found;
    case CellStatus::out_of_range:
      return "expected a number within float32 range (magnitude <= 3.4028235e+38)" + in_column + found;
    case CellStatus::not_a_number:
    case CellStatus::ok:
      break;
  }
  return "expected a number" + in_column + found;
}

// ---------------------------------------------------------------------------
// Tokenizer
// ---------------------------------------------------------------------------

// Byte lookup tables for the two inner scanning loops: the bytes that end
// (or need a closer look at) an unquoted field, resp. a quoted field body.
using ByteSet = std::array<bool, 256>;

constexpr ByteSet make_byte_set(std::string_view bytes) {
  ByteSet set{};
  for (char c : bytes) set[static_cast<unsigned char>(c)] = true;
  return set;
}

ByteSet unquoted_stops(char delimiter) {
  ByteSet set = make_byte_set(std::string_view("\n\r\0", 3));
  set[static_cast<unsigned char>(delimiter)] = true;
  return set;
}
constexpr ByteSet kQuotedStop = make_byte_set(std::string_view("\"\n\r\0", 4));

bool stops_quoted(char c) { return kQuotedStop[static_cast<unsigned char>(c)]; }

// The offset (0..8) of the first byte of p[0..8) that stops an unquoted
// field, by SWAR: a byte equal to c becomes zero in word ^ broadcast(c),
// and (x - 0x01..) & ~x & 0x80.. flags the lowest zero byte exactly (higher
// flags may be false positives, which is harmless: only the lowest counts).
std::size_t first_unquoted_stop(const char* p, char delimiter) {
  constexpr std::uint64_t kOnes = 0x0101010101010101u, kHighs = 0x8080808080808080u;
  std::uint64_t word;
  std::memcpy(&word, p, sizeof word);
  if constexpr (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__) word = __builtin_bswap64(word);
  const auto zero_bytes = [](std::uint64_t x) { return (x - kOnes) & ~x & kHighs; };
  const std::uint64_t hits = zero_bytes(word ^ (kOnes * static_cast<unsigned char>(delimiter))) |
                             zero_bytes(word ^ (kOnes * '\n')) |
                             zero_bytes(word ^ (kOnes * '\r')) | zero_bytes(word);
  return hits == 0 ? 8 : static_cast<std::size_t>(__builtin_ctzll(hits)) / 8;
}

/// What ended a field: the delimiter (a comma unless detected or chosen
/// otherwise), a line break or the end of the text.
enum class FieldEnd { comma, line, file };

struct Field {
  std::string_view text;  ///< unquoted value; may point into the scratch buffer
  FieldEnd end = FieldEnd::file;
  std::string_view junk;  ///< text after a closing quote (RFC 4180 forbids it)
};

class Tokenizer {
 public:
  /// `first_line`: the physical line number of text[0].
  Tokenizer(std::string_view text, const std::string& source, std::size_t first_line, char delimiter = ',')
      : p_(text.data()),
        end_(text.data() + text.size()),
        line_(first_line),
        delimiter_(delimiter),
        unquoted_stop_(unquoted_stops(delimiter)),
        source_(source) {}

  bool at_end() const { return p_ == end_; }
  std::size_t line() const { return line_; }
  bool at_line_end() const { return p_ != end_ && (*p_ == '\n' || *p_ == '\r'); }

  /// The text not read yet.
  std::string_view rest() const { return std::string_view(p_, static_cast<std::size_t>(end_ - p_)); }

  void skip_line_break() {
    if (*p_ == '\r' && p_ + 1 != end_ && p_[1] == '\n') ++p_;
    ++p_;
    ++line_;
  }

  // Reads one field and the delimiter after it; `column` (1-based) is only
  // used in error messages.
  Field read_field(std::size_t column) {
    Field field;
    const char* start = p_;
    // Tolerate blanks before an opening quote (`1, "2"`), as hand-edited
    // files often have them.
    const char* q = start;
    while (q != end_ && is_pad(*q)) ++q;
    if (q != end_ && *q == '"') {
      p_ = q + 1;
      field.text = read_quoted_body(column);
      while (p_ != end_ && is_pad(*p_)) ++p_;
      const char* junk = p_;
      skip_unquoted();
      field.junk = std::string_view(junk, static_cast<std::size_t>(p_ - junk));
    } else {
      skip_unquoted();
      field.text = std::string_view(start, static_cast<std::size_t>(p_ - start));
    }
    field.end = read_delimiter(column);
    return field;
  }

  [[noreturn]] void fail(std::size_t line, std::size_t column, const std::string& what) const {
    throw InputError(location(source_, line, column) + what);
  }

 private:
  /// A blank around a quoted field, unless it is the delimiter (a tab).
  bool is_pad(char c) const { return is_blank(c) && c != delimiter_; }

  void skip_unquoted() {
    // Eight bytes at a time while a whole word is left: this loop is where
    // the parser spends most of its time.
    while (end_ - p_ >= 8) {
      const std::size_t stop = first_unquoted_stop(p_, delimiter_);
      p_ += stop;
      if (stop < 8) return;
    }
    while (p_ != end_ && !unquoted_stop_[static_cast<unsigned char>(*p_)]) ++p_;
  }

  // Reads up to and including the closing quote.  Doubled quotes are
  // decoded into scratch_, valid until the next call.
  std::string_view read_quoted_body(std::size_t column) {
    const std::size_t open_line = line_;
    const char* segment = p_;
    bool decoded = false;
    for (;;) {
      while (p_ != end_ && !stops_quoted(*p_)) ++p_;
      if (p_ == end_) fail(open_line, column, "unterminated quoted field");
      if (*p_ == '"') {
        if (p_ + 1 != end_ && p_[1] == '"') {
          if (!decoded) scratch_.clear();
          decoded = true;
          scratch_.append(segment, p_ + 1);
          p_ += 2;
          segment = p_;
          continue;
        }
        std::string_view body(segment, static_cast<std::size_t>(p_ - segment));
        ++p_;
        if (!decoded) return body;
        scratch_.append(body);
        return scratch_;
      }
      if (*p_ == '\0') fail_nul(column);
      skip_line_break();  // part of the value, but still a physical line
    }
  }

  FieldEnd read_delimiter(std::size_t column) {
    if (p_ == end_) return FieldEnd::file;
    if (*p_ == delimiter_) {
      ++p_;
      return FieldEnd::comma;
    }
    if (*p_ == '\0') fail_nul(column);
    skip_line_break();  // '\n' or '\r': skip_unquoted stops at nothing else
    return FieldEnd::line;
  }

  [[noreturn]] void fail_nul(std::size_t column) const {
    fail(line_, column, "expected text, found a NUL byte (is this a binary or UTF-16 file?)");
  }

  const char* p_;
  const char* end_;
  std::size_t line_;
  char delimiter_;
  ByteSet unquoted_stop_;
  std::string scratch_;
  const std::string& source_;
};

// A binary file (an image, an executable, a .npy matrix, UTF-16 text)
// nearly always has a NUL byte within its first few kilobytes (git's test
// for binary files).  Reporting that NUL before anything else says "not a
// text file" instead of whatever the parser would trip over first (a
// stray byte taken for a column name or a number).  Only the prefix is
// looked at, so this costs nothing; a NUL further on is still rejected
// where the parser meets it.
constexpr std::size_t kBinarySniffBytes = 8000;

void reject_binary_prefix(std::string_view text, const std::string& source) {
  if (text.substr(0, kBinarySniffBytes).find('\0') == std::string_view::npos) return;
  // Tokenize up to the NUL: read_field reports it with its line and field.
  Tokenizer tokens(text, source, 1);
  while (!tokens.at_end()) {
    std::size_t column = 1;
    while (tokens.read_field(column++).end == FieldEnd::comma) {
    }
  }
}

// ---------------------------------------------------------------------------
// Sniffing: the delimiter, and which columns hold text
// ---------------------------------------------------------------------------

/// The delimiter of the header line: the most frequent of comma, semicolon
/// and tab outside quotes (ties in that order); a comma when none occurs.
char detect_delimiter(std::string_view text) {
  std::size_t comma = 0, semicolon = 0, tab = 0;
  bool quoted = false;
  for (char c : text) {
    if (c == '"') quoted = !quoted;
    if (quoted) continue;
    if (c == '\n' || c == '\r') break;
    comma += c == ',';
    semicolon += c == ';';
    tab += c == '\t';
  }
  if (semicolon > comma && semicolon >= tab) return ';';
  if (tab > comma && tab > semicolon) return '\t';
  return ',';
}

/// Rows read to tell text columns from numeric ones.
constexpr std::size_t kSniffRows = 1000;

/// What the first data rows say about each column.
struct ColumnSniff {
  /// Most non-empty cells are not numbers ("nan", "inf" count as numbers):
  /// a numeric column with a typo stays numeric, and the typo is reported
  /// with its line and column.
  std::vector<bool> text;
  std::vector<bool> distinct;  ///< every cell read is non-empty and different from the others

  /// Nothing known: every column numeric, none an id by its values.
  static ColumnSniff none(std::size_t columns) {
    return {std::vector<bool>(columns, false), std::vector<bool>(columns, false)};
  }
};

/// Reads up to kSniffRows data rows; stops quietly at anything malformed
/// (the real parse reports it with its line and column).
ColumnSniff sniff_columns(std::string_view rows, std::size_t columns, const std::string& source, std::size_t first_line,
                          char delimiter) {
  ColumnSniff sniff{std::vector<bool>(columns, false), std::vector<bool>(columns, true)};
  std::vector<std::unordered_set<std::string>> seen(columns);
  std::vector<std::size_t> words(columns, 0), filled(columns, 0);
  Tokenizer tokens(rows, source, first_line, delimiter);
  try {
    for (std::size_t row = 0; row < kSniffRows && !tokens.at_end(); ++row) {
      if (tokens.at_line_end()) break;
      std::size_t column = 0;
      Field field;
      do {
        field = tokens.read_field(column + 1);
        if (column < columns) {
          float ignored = 0.0f;
          const CellStatus status = parse_number(field.text, ignored);
          words[column] += status == CellStatus::not_a_number;
          filled[column] += status != CellStatus::empty;
          if (status == CellStatus::empty || !seen[column].emplace(field.text).second) sniff.distinct[column] = false;
        }
        ++column;
      } while (field.end == FieldEnd::comma);
      if (column != columns) break;
    }
  } catch (const InputError&) {
  }
  for (std::size_t j = 0; j < columns; ++j) sniff.text[j] = 2 * words[j] > filled[j];
  return sniff;
}

// ---------------------------------------------------------------------------
// Column selection
// ---------------------------------------------------------------------------

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::optional<std::size_t> parse_index(const std::string& text) {
  // 18 digits cannot overflow size_t; anything longer is out of range anyway.
  if (text.empty() || text.size() > 18) return std::nullopt;
  std::size_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::size_t>(c - '0');
  }
  return value;
}

// The selected columns' header names end up in summary.json and
// model.json, and `predict` finds the columns again by name: so each
// selected column (feature or id) must have a name, and one that no other
// header field has.  Unselected columns may be named anything.
class ColumnResolver {
 public:
  ColumnResolver(const std::vector<std::string>& header, const std::string& source, const std::string& origin)
      : header_(header), source_(source), origin_(origin) {
    for (std::size_t i = 0; i < header_.size(); ++i) {
      const auto [it, first] = fields_of_name_.try_emplace(header_[i], i, kAbsent);
      if (!first && it->second.second == kAbsent) it->second.second = i;
    }
  }

  // A header name first, then a 0-based index.
  // Blanks around a wanted name are forgiven ("a, b" on the command line).
  std::size_t resolve(const std::string& wanted_text) const {
    if (const auto it = fields_of_name_.find(wanted_text); it != fields_of_name_.end()) {
      // A name that is also an index of another column: say which reading
      // was taken (the name), since both are plausible.
      if (const auto index = parse_index(wanted_text); index && *index < header_.size() && *index != it->second.first)
        notes_.push_back("--columns " + quoted_name(wanted_text) + ": read as the column named so (field " +
                         std::to_string(it->second.first + 1) + "), not as 0-based index " + wanted_text + " (" +
                         quoted_name(header_[*index]) + ")");
      return usable(it->second.first);
    }
    const std::string wanted(trim_blanks(wanted_text));
    if (const auto it = fields_of_name_.find(wanted); it != fields_of_name_.end()) return usable(it->second.first);
    if (const auto index = parse_index(wanted); index && *index < header_.size()) return usable(*index);
    const std::string from = origin_.empty() ? "" : " (" + origin_ + ")";
    fail(1, "column " + quoted_name(wanted) + from + " not found in the header (columns: " + column_list(header_) + ")");
  }

  /// What the resolution chose where the columns asked for were ambiguous.
  const std::vector<std::string>& notes() const { return notes_; }

  /// A header field of exactly this (non-empty) name exists.
  bool has(const std::string& name) const { return !name.empty() && fields_of_name_.count(name) != 0; }

  std::optional<std::size_t> auto_detect_id() const {
    static constexpr std::string_view kIdNames[] = {"id", "user id", "user_id", "creator id", "creator_id"};
    for (std::size_t i = 0; i < header_.size(); ++i) {
      for (std::string_view name : kIdNames) {
        if (equals_ignoring_case(header_[i], name)) return usable(i);
      }
    }
    return std::nullopt;
  }

  /// `index`, once its name is known to be non-blank and unique.
  std::size_t usable(std::size_t index) const {
    const std::string& name = header_[index];
    if (trim_blanks(name).empty()) fail(index + 1, "expected a column name, found an empty header field");
    if (name.size() > kMaxColumnNameBytes)
      fail(index + 1, "expected a column name of at most " + std::to_string(kMaxColumnNameBytes) +
                          " bytes, found one of " + std::to_string(name.size()) + " bytes (" + quoted_name(name) + ")");
    const auto [first, second] = fields_of_name_.at(name);
    if (second != kAbsent) {
      fail(second + 1, "expected unique column names, found " + quoted_name(name) + " in fields " +
                           std::to_string(first + 1) + " and " + std::to_string(second + 1));
    }
    return index;
  }

  [[noreturn]] void fail(std::size_t column, const std::string& what) const {
    throw InputError(location(source_, 1, column) + what);
  }

 private:
  static constexpr std::size_t kAbsent = static_cast<std::size_t>(-1);

  const std::vector<std::string>& header_;
  const std::string& source_;
  const std::string& origin_;
  /// name -> its first two fields (0-based; the second kAbsent if unique)
  std::unordered_map<std::string_view, std::pair<std::size_t, std::size_t>> fields_of_name_;
  mutable std::vector<std::string> notes_;
};

struct Selection {
  std::vector<std::string> notes;     ///< ambiguous names taken as names
  std::optional<std::size_t> id_column;
  std::optional<std::size_t> weight_column;
  bool id_inferred = false;           ///< a distinct text column taken as the id
  std::vector<std::size_t> features;  ///< header positions, in output order
  std::vector<std::size_t> skipped;   ///< text columns left out (no --columns)
};

/// Without --columns: every numeric column but the id (as pandas'
/// select_dtypes); without an id column named or found by its name, the
/// first text column whose values are all distinct is the id.
Selection select_columns(const std::vector<std::string>& header, const CsvOptions& options, const std::string& source,
                         const ColumnSniff& sniff) {
  const ColumnResolver resolver(header, source, options.columns_origin);
  Selection selection;
  selection.id_column = !options.id_column.empty() ? std::optional(resolver.resolve(options.id_column))
                        : resolver.has(options.id_column_hint)
                            ? std::optional(resolver.resolve(options.id_column_hint))
                            : resolver.auto_detect_id();
  if (!options.weight_column.empty()) {
    selection.weight_column = resolver.resolve(options.weight_column);
    if (selection.weight_column == selection.id_column)
      resolver.fail(*selection.weight_column + 1, "column " + quoted_name(header[*selection.weight_column]) +
                                                      " cannot be both the id and the weight column");
  }
  if (options.columns.empty()) {
    // Text everywhere is no table of text columns but bad numbers: read
    // every column as numeric, so the first bad cell is named with its line.
    bool any_number = false, any_text = false;
    for (std::size_t i = 0; i < header.size(); ++i) {
      any_number |= !sniff.text[i] && i != selection.id_column && i != selection.weight_column;
      any_text |= sniff.text[i];
    }
    if (any_text && !any_number) return select_columns(header, options, source, ColumnSniff::none(header.size()));
    if (!selection.id_column && options.id_column.empty()) {
      for (std::size_t i = 0; i < header.size() && !selection.id_column; ++i)
        if (sniff.text[i] && sniff.distinct[i] && !trim_blanks(header[i]).empty() && i != selection.weight_column) {
          selection.id_column = resolver.usable(i);
          selection.id_inferred = true;
        }
    }
    for (std::size_t i = 0; i < header.size(); ++i) {
      if (i == selection.id_column || i == selection.weight_column) continue;
      if (sniff.text[i]) {
        selection.skipped.push_back(i);
        continue;
      }
      selection.features.push_back(resolver.usable(i));
    }
    if (selection.features.empty()) {
      resolver.fail(1, "expected at least one feature column besides the id column " +
                           quoted_name(header[*selection.id_column]));
    }
    return selection;
  }
  std::vector<bool> taken(header.size(), false);
  for (const std::string& wanted : options.columns) {
    const std::size_t index = resolver.resolve(wanted);
    if (index == selection.weight_column)
      resolver.fail(index + 1, "column " + quoted_name(header[index]) +
                                   " is the weight column (--weight-column); it cannot also be a feature");
    if (taken[index]) {
      resolver.fail(1, "column " + quoted_name(header[index]) + " (field " + std::to_string(index + 1) +
                           ") is selected twice");
    }
    taken[index] = true;
    selection.features.push_back(index);
  }
  selection.notes = resolver.notes();
  return selection;
}

// ---------------------------------------------------------------------------
// Header
// ---------------------------------------------------------------------------

std::string junk_problem(std::string_view junk) {
  return "expected a comma or a line end after the closing quote, found '" + printable(junk, kMaxFoundChars) + "'";
}

struct Header {
  std::vector<std::string> names;
  std::size_t first_data_line = 2;  ///< the line a first data row would start on
};

Header read_header(Tokenizer& tokens) {
  // The text has no trailing line breaks, so "\n\r\n" is empty here.
  if (tokens.at_end()) tokens.fail(1, 1, "the file is empty, expected a header row");
  if (tokens.at_line_end()) tokens.fail(1, 1, "expected a header row, found an empty line");
  Header header;
  Field field;
  do {
    const std::size_t column = header.names.size() + 1;
    field = tokens.read_field(column);
    if (!field.junk.empty()) tokens.fail(1, column, junk_problem(field.junk));
    header.names.emplace_back(field.text);
  } while (field.end == FieldEnd::comma);
  header.first_data_line = tokens.line() + (field.end == FieldEnd::file ? 1 : 0);
  return header;
}

// ---------------------------------------------------------------------------
// Data rows of one chunk
// ---------------------------------------------------------------------------

constexpr std::size_t kNone = static_cast<std::size_t>(-1);

/// What every chunk needs to know about the columns.
struct RowLayout {
  std::vector<std::string> header;
  std::size_t id_column = kNone;
  std::size_t weight_column = kNone;
  std::vector<std::size_t> slot_of_column;  ///< header position -> feature slot or kNone
  std::size_t features = 0;                 ///< selected feature columns
  char delimiter = ',';
};

/// A run of whole data rows and where its output goes.
struct Chunk {
  std::string_view text;
  std::size_t first_line = 0;  ///< physical line of text[0]
  std::size_t first_row = 0;   ///< data row number of its first row (auto ids)
  std::size_t out_row = 0;     ///< index of its first output row
  std::size_t max_rows = 0;    ///< output rows set aside for it
};

struct ChunkResult {
  std::size_t rows_seen = 0;  ///< data rows, dropped ones included
  std::size_t kept = 0;
  std::size_t dropped = 0;
  std::vector<std::string> drop_reasons;  ///< the chunk's first kMaxDropReasons
  std::exception_ptr error;               ///< what ended the chunk early
};

/// The output arrays, sized before any chunk is parsed.
struct RowSink {
  float* values;
  std::string* ids;
  double* weights;  ///< null without a weight column
};

void write_row_number(std::string& id, std::size_t row) {
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof digits, row);
  id.assign(digits, result.ptr);
}

// Parses one chunk into its rows of the output arrays: kept row i goes to
// output row chunk.out_row + i.  Cells and ids are written in place while
// the row is read; a rejected row's partial output is overwritten by the
// next row or cut off at the end.
class RowReader {
 public:
  RowReader(const Chunk& chunk, const RowLayout& layout, const CsvOptions& options, const std::string& source,
            const RowSink& sink)
      : chunk_(chunk),
        layout_(layout),
        options_(options),
        source_(source),
        tokens_(chunk.text, source, chunk.first_line, layout.delimiter),
        values_(sink.values + chunk.out_row * layout.features),
        ids_(sink.ids + chunk.out_row),
        weights_(sink.weights ? sink.weights + chunk.out_row : nullptr) {}

  // Never throws (it runs inside a parallel region): whatever stops the
  // chunk (the first bad row unless drop_invalid, a NUL byte, an
  // unterminated quote) is kept in the result.
  ChunkResult run() {
    try {
      read_rows();
    } catch (...) {
      result_.error = std::current_exception();
    }
    return std::move(result_);
  }

 private:
  void read_rows() {
    while (!tokens_.at_end()) {
      // The bound holds by construction; this guards the output arrays.
      if (result_.kept == chunk_.max_rows) throw std::logic_error("CSV chunk holds more rows than line breaks");
      if (tokens_.at_line_end()) {
        const std::size_t line = tokens_.line();
        tokens_.skip_line_break();
        reject_row(location(source_, line, 1) + "expected " + count_of_fields(layout_.header.size()) +
                   " as in the header, found an empty row");
      } else {
        read_record();
      }
      ++result_.rows_seen;
    }
  }

  void read_record() {
    const std::size_t line = tokens_.line();
    const std::size_t columns = layout_.header.size();
    problem_.clear();
    std::size_t fields = 0;
    Field field;
    do {
      field = tokens_.read_field(fields + 1);
      if (fields < columns) take_cell(field, fields, line);
      ++fields;
    } while (field.end == FieldEnd::comma);
    if (fields != columns) {
      // The shape is the likelier root cause: it overrides any cell problem.
      problem_ = location(source_, line, std::min(fields, columns) + 1) + "expected " + count_of_fields(columns) +
                 " as in the header, found " + std::to_string(fields);
    }
    if (problem_.empty()) {
      accept_row();
    } else {
      reject_row(problem_);
    }
  }

  // Parses a selected cell into the output row, stores the id; records
  // only the first problem of the row.
  void take_cell(const Field& field, std::size_t column, std::size_t line) {
    if (!problem_.empty()) return;
    if (!field.junk.empty()) {
      problem_ = location(source_, line, column + 1) + junk_problem(field.junk);
      return;
    }
    if (column == layout_.id_column) ids_[result_.kept].assign(field.text);
    if (column == layout_.weight_column) {
      const CellStatus status = parse_weight(field.text, weights_[result_.kept]);
      if (status != CellStatus::ok)
        problem_ = location(source_, line, column + 1) + weight_problem(status, field.text, layout_.header[column]);
      return;
    }
    const std::size_t slot = layout_.slot_of_column[column];
    if (slot == kNone) return;
    const CellStatus status = parse_number(field.text, values_[result_.kept * layout_.features + slot]);
    if (status != CellStatus::ok) {
      problem_ = location(source_, line, column + 1) + cell_problem(status, field.text, layout_.header[column]);
    }
  }

  void accept_row() {
    if (layout_.id_column == kNone) write_row_number(ids_[result_.kept], chunk_.first_row + result_.rows_seen);
    ++result_.kept;
  }

  void reject_row(const std::string& message) {
    if (!options_.drop_invalid) throw InputError(message);
    ++result_.dropped;
    if (result_.drop_reasons.size() < kMaxDropReasons) result_.drop_reasons.push_back(message);
  }

  const Chunk& chunk_;
  const RowLayout& layout_;
  const CsvOptions& options_;
  const std::string& source_;
  Tokenizer tokens_;
  float* values_;
  std::string* ids_;
  double* weights_;
  std::string problem_;  ///< first problem of the current row
  ChunkResult result_;
};

// ---------------------------------------------------------------------------
// Chunk planning
// ---------------------------------------------------------------------------

std::size_t thread_budget() { return static_cast<std::size_t>(std::max(1, omp_get_max_threads())); }

int threads_for(std::size_t tasks) { return static_cast<int>(std::min(tasks, thread_budget())); }

// A few chunks per thread, handed out dynamically, so that a thread whose
// core is shared with other work does not hold everyone up.
constexpr std::size_t kChunksPerThread = 4;

std::vector<TextScan> scan_pieces(const std::vector<std::string_view>& pieces) {
  std::vector<TextScan> scans(pieces.size());
  const auto count = static_cast<std::ptrdiff_t>(pieces.size());
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads_for(pieces.size())) if (count > 1)
  for (std::ptrdiff_t k = 0; k < count; ++k) {
    scans[static_cast<std::size_t>(k)] = scan_text(pieces[static_cast<std::size_t>(k)]);
  }
  return scans;
}

// Output rows to set aside for a chunk of `bytes` bytes of rows with
// `columns` fields: a kept row holds columns - 1 commas and, unless it is
// the last, a line break, so at most (bytes + 1) / columns rows are kept,
// plus one slot for a row being read after them.  Counting line breaks
// alone is not enough: a wide header over many empty lines (30,000 names,
// 30,000 line feeds: 230 KB) would size the output for 9 * 10^8 values.
std::size_t rows_that_fit(std::size_t bytes, std::size_t columns) { return (bytes + 1) / columns + 1; }

// Splits the data rows (the text after the header) into chunks; see the
// design notes for why quotes force a single chunk.
std::vector<Chunk> plan_chunks(std::string_view data, std::size_t first_line, std::size_t columns,
                               const csv_detail::Chunking& chunking) {
  const std::size_t threads = thread_budget();
  const std::size_t wanted =
      chunking.max_chunks != 0 ? chunking.max_chunks : threads == 1 ? 1 : kChunksPerThread * threads;
  const std::size_t affordable = data.size() / std::max<std::size_t>(chunking.min_chunk_bytes, 1);
  std::vector<std::string_view> pieces = split_at_line_starts(data, std::clamp<std::size_t>(affordable, 1, wanted));
  std::vector<TextScan> scans = scan_pieces(pieces);
  const bool quoted = std::any_of(scans.begin(), scans.end(), [](const TextScan& s) { return s.has_quote; });
  if (quoted && pieces.size() > 1) {
    TextScan whole{0, true};
    for (const TextScan& scan : scans) whole.line_breaks += scan.line_breaks;  // pieces never split a CRLF
    pieces = {data};
    scans = {whole};
  }
  std::vector<Chunk> chunks(pieces.size());
  std::size_t breaks_before = 0;
  for (std::size_t k = 0; k < pieces.size(); ++k) {
    Chunk& chunk = chunks[k];
    chunk.text = pieces[k];
    chunk.first_line = first_line + breaks_before;
    chunk.first_row = breaks_before;  // exact when there are several chunks (no quotes)
    chunk.out_row = k == 0 ? 0 : chunks[k - 1].out_row + chunks[k - 1].max_rows;
    // Every piece but the last ends with a line break; the last one, cut
    // before the trailing line breaks, ends with a row that has none.
    const bool last = k + 1 == pieces.size();
    chunk.max_rows = std::min(scans[k].line_breaks + (last && !pieces[k].empty() ? 1 : 0),
                              rows_that_fit(pieces[k].size(), columns));
    breaks_before += scans[k].line_breaks;
  }
  return chunks;
}

// ---------------------------------------------------------------------------
// The parser proper
// ---------------------------------------------------------------------------

class CsvParser {
 public:
  CsvParser(std::string_view text, const std::string& source, const CsvOptions& options,
            const csv_detail::Chunking& chunking)
      : text_(text), source_(source), options_(options), chunking_(chunking) {}

  Table parse() {
    prepare();
    const std::vector<Chunk> chunks = plan_chunks(data_, first_data_line_, layout_.header.size(), chunking_);
    size_output(chunks);
    std::vector<ChunkResult> results = read_chunks(chunks);
    return finish(chunks, results, first_data_line_);
  }

  /// Everything before the data rows: a binary file refused, the
  /// delimiter, the header, the columns (sniffed from the first rows).
  void prepare() {
    reject_binary_prefix(text_, source_);
    layout_.delimiter = options_.delimiter ? options_.delimiter : detect_delimiter(text_);
    table_.delimiter = layout_.delimiter;
    Tokenizer tokens(text_, source_, 1, layout_.delimiter);
    Header header = read_header(tokens);
    first_data_line_ = header.first_data_line;
    ColumnSniff sniff = ColumnSniff::none(header.names.size());
    if (options_.columns.empty())
      sniff = sniff_columns(tokens.rest(), header.names.size(), source_, first_data_line_, layout_.delimiter);
    configure(std::move(header.names), sniff);
    data_ = tokens.rest();
  }
  std::string_view data() const { return data_; }
  std::size_t first_data_line() const { return first_data_line_; }
  char delimiter() const { return layout_.delimiter; }

  /// One share of the data rows (prepare() first): its rows as a whole
  /// parse would give them, without the checks on the whole file (no rows,
  /// every row dropped), and its first error as text instead of thrown.
  csv_detail::CsvSection parse_section(std::string_view section, std::size_t first_line) {
    const std::vector<Chunk> chunks = plan_chunks(section, first_line, layout_.header.size(), chunking_);
    size_output(chunks);
    std::vector<ChunkResult> results = read_chunks(chunks);
    csv_detail::CsvSection out;
    for (ChunkResult& result : results) {
      if (result.error) {
        try {
          std::rethrow_exception(result.error);
        } catch (const InputError& e) {
          out.error = e.what();
          return out;
        }
      }
      out.rows_seen += result.rows_seen;
    }
    gather_rows(chunks, results);
    for (ChunkResult& result : results) {
      table_.dropped_rows += result.dropped;
      for (std::string& reason : result.drop_reasons)
        if (table_.drop_reasons.size() < kMaxDropReasons) table_.drop_reasons.push_back(std::move(reason));
    }
    shrink_if_wasteful(table_.features.values);
    shrink_if_wasteful(table_.ids);
    shrink_if_wasteful(table_.weights);
    out.table = std::move(table_);
    return out;
  }

  /// The offset of the first record start at or after each of `offsets`
  /// (ascending) in the data rows: the tokenizer's records, so a line break
  /// inside quotes is no start.  At a malformed record the scan stops: the
  /// offsets beyond it get data().size() (the share holding it reports it).
  std::vector<std::size_t> record_starts(const std::vector<std::size_t>& offsets) const {
    std::vector<std::size_t> out(offsets.size(), data_.size());
    Tokenizer tokens(data_, source_, first_data_line_, layout_.delimiter);
    std::size_t j = 0;
    try {
      while (!tokens.at_end() && j < offsets.size()) {
        const std::size_t here = data_.size() - tokens.rest().size();
        while (j < offsets.size() && offsets[j] <= here) out[j++] = here;
        if (tokens.at_line_end()) {
          tokens.skip_line_break();
          continue;
        }
        std::size_t column = 1;
        while (tokens.read_field(column++).end == FieldEnd::comma) {
        }
      }
    } catch (const InputError&) {
    }
    return out;
  }

 private:
  void configure(std::vector<std::string> header, const ColumnSniff& sniff) {
    const Selection selection = select_columns(header, options_, source_, sniff);
    table_.id_inferred = selection.id_inferred;
    table_.notes = selection.notes;
    for (std::size_t index : selection.skipped) table_.skipped_columns.push_back(header[index]);
    layout_.id_column = selection.id_column.value_or(kNone);
    layout_.weight_column = selection.weight_column.value_or(kNone);
    layout_.slot_of_column.assign(header.size(), kNone);
    for (std::size_t slot = 0; slot < selection.features.size(); ++slot) {
      layout_.slot_of_column[selection.features[slot]] = slot;
    }
    layout_.features = selection.features.size();
    table_.column_indices = selection.features;
    for (std::size_t index : selection.features) table_.column_names.push_back(header[index]);
    if (selection.id_column) table_.id_name = header[*selection.id_column];
    if (selection.weight_column) table_.weight_name = header[*selection.weight_column];
    table_.features.cols = layout_.features;
    layout_.header = std::move(header);
  }

  void size_output(const std::vector<Chunk>& chunks) {
    // At most this many rows (one per line): what the output arrays take,
    // for the message if they do not fit.
    const std::size_t rows = chunks.back().out_row + chunks.back().max_rows;
    memory::note_workload(rows, layout_.features,
                          memory::study_bytes(rows, layout_.features, 0, true, text_.size()) -
                              rows * 16);  // no labels yet
    table_.features.values.resize(rows * table_.features.cols);
    table_.ids.resize(rows);
    if (layout_.weight_column != kNone) table_.weights.resize(rows);
  }

  // A chunk after one that failed is not started: only the earliest error
  // is reported, so a bad file fails fast.  Its result stays empty.
  std::vector<ChunkResult> read_chunks(const std::vector<Chunk>& chunks) {
    std::vector<ChunkResult> results(chunks.size());
    const RowSink sink{table_.features.values.data(), table_.ids.data(),
                       layout_.weight_column != kNone ? table_.weights.data() : nullptr};
    std::atomic<std::size_t> first_failed{chunks.size()};
    const auto count = static_cast<std::ptrdiff_t>(chunks.size());
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads_for(chunks.size())) if (count > 1)
    for (std::ptrdiff_t k = 0; k < count; ++k) {
      const auto i = static_cast<std::size_t>(k);
      if (i > first_failed.load()) continue;
      results[i] = RowReader(chunks[i], layout_, options_, source_, sink).run();
      if (results[i].error) lower_to(first_failed, i);
    }
    return results;
  }

  static void lower_to(std::atomic<std::size_t>& value, std::size_t bound) {
    std::size_t seen = value.load();
    while (bound < seen && !value.compare_exchange_weak(seen, bound)) {
    }
  }

  Table finish(const std::vector<Chunk>& chunks, std::vector<ChunkResult>& results, std::size_t first_data_line) {
    std::size_t data_rows = 0;
    for (const ChunkResult& result : results) {
      if (result.error) std::rethrow_exception(result.error);
      data_rows += result.rows_seen;
    }
    if (data_rows == 0) throw InputError(csv_detail::no_rows_message(source_, first_data_line));
    gather_rows(chunks, results);
    for (ChunkResult& result : results) {
      table_.dropped_rows += result.dropped;
      for (std::string& reason : result.drop_reasons) {
        if (table_.drop_reasons.size() < kMaxDropReasons) table_.drop_reasons.push_back(std::move(reason));
      }
    }
    if (table_.features.rows == 0)
      throw InputError(csv_detail::all_dropped_message(source_, data_rows, table_.drop_reasons.front()));
    // The output was sized for one row per line; only a large excess (many
    // dropped rows, quoted line breaks) is worth a copy.
    shrink_if_wasteful(table_.features.values);
    shrink_if_wasteful(table_.ids);
    shrink_if_wasteful(table_.weights);
    return std::move(table_);
  }

  // Closes the gaps that dropped rows (and unused spare rows) left between
  // the chunks' outputs, then cuts the arrays to the rows kept.
  void gather_rows(const std::vector<Chunk>& chunks, const std::vector<ChunkResult>& results) {
    const std::size_t cols = table_.features.cols;
    auto& values = table_.features.values;
    auto& ids = table_.ids;
    std::size_t rows = 0;
    for (std::size_t k = 0; k < chunks.size(); ++k) {
      const std::size_t from = chunks[k].out_row, kept = results[k].kept;
      if (from != rows) {  // moving down: the ranges may overlap, the destination comes first
        std::copy(values.begin() + static_cast<std::ptrdiff_t>(from * cols),
                  values.begin() + static_cast<std::ptrdiff_t>((from + kept) * cols),
                  values.begin() + static_cast<std::ptrdiff_t>(rows * cols));
        std::move(ids.begin() + static_cast<std::ptrdiff_t>(from), ids.begin() + static_cast<std::ptrdiff_t>(from + kept),
                  ids.begin() + static_cast<std::ptrdiff_t>(rows));
        if (!table_.weights.empty())
          std::copy(table_.weights.begin() + static_cast<std::ptrdiff_t>(from),
                    table_.weights.begin() + static_cast<std::ptrdiff_t>(from + kept),
                    table_.weights.begin() + static_cast<std::ptrdiff_t>(rows));
      }
      rows += kept;
    }
    table_.features.rows = rows;
    values.resize(rows * cols);
    ids.resize(rows);
    if (!table_.weights.empty()) table_.weights.resize(rows);
  }

  template <typename Vector>
  static void shrink_if_wasteful(Vector& v) {
    if (v.capacity() - v.size() > v.size() / 4) v.shrink_to_fit();
  }

  std::string_view text_;
  const std::string& source_;
  const CsvOptions& options_;
  const csv_detail::Chunking& chunking_;
  RowLayout layout_;
  Table table_;
  std::string_view data_;  ///< the data rows (after prepare)
  std::size_t first_data_line_ = 2;
};

}  // namespace

namespace csv_detail {

std::string no_rows_message(const std::string& source, std::size_t first_data_line) {
  return location(source, first_data_line, 1) + "no data rows after the header";
}

std::string all_dropped_message(const std::string& source, std::size_t data_rows, const std::string& first_reason) {
  return source + ": no valid data rows (all " + std::to_string(data_rows) + " were dropped; first reason: " +
         first_reason + ")";
}

struct CsvSplitView::Impl {
  Impl(std::string_view text, const std::string& src, const CsvOptions& opts)
      : source(src), options(opts), parser(text, source, options, chunking) {}
  std::string source;
  CsvOptions options;
  Chunking chunking;
  CsvParser parser;
};

CsvSplitView::CsvSplitView(std::string_view text, const std::string& source, const CsvOptions& options) {
  while (text.substr(0, kUtf8Bom.size()) == kUtf8Bom) text.remove_prefix(kUtf8Bom.size());  // as parse_csv_chunked
  impl_ = std::make_unique<Impl>(trim_trailing_line_breaks(text), source, options);
  impl_->parser.prepare();
}
CsvSplitView::~CsvSplitView() = default;
std::string_view CsvSplitView::data() const { return impl_->parser.data(); }
std::size_t CsvSplitView::first_data_line() const { return impl_->parser.first_data_line(); }
std::vector<std::size_t> CsvSplitView::record_starts(const std::vector<std::size_t>& offsets) const {
  return impl_->parser.record_starts(offsets);
}
CsvSection CsvSplitView::parse(std::size_t begin, std::size_t end, std::size_t first_line) {
  return impl_->parser.parse_section(data().substr(begin, end - begin), first_line);
}

Table parse_csv_chunked(std::string_view text, const std::string& source_name, const CsvOptions& options,
                        const Chunking& chunking) {
  // A byte order mark, or several: a file saved twice by a tool that adds
  // one each time would otherwise start its first column name with
  // U+FEFF, and "id" would no longer be found as the id column.
  while (text.substr(0, kUtf8Bom.size()) == kUtf8Bom) text.remove_prefix(kUtf8Bom.size());
  return CsvParser(trim_trailing_line_breaks(text), source_name, options, chunking).parse();
}

}  // namespace csv_detail

Table parse_csv(std::string_view text, const std::string& source_name, const CsvOptions& options) {
  return csv_detail::parse_csv_chunked(text, source_name, options, csv_detail::Chunking{});
}

Table read_csv(const std::string& path, const CsvOptions& options) {
  const MappedFile file(path);
  try {
    Table table = parse_csv(file.text(), file.name(), options);  // "-" is stdin
    file.check_unchanged();
    return table;
  } catch (const InputError&) {
    // A file cut short while it was read parses as NUL bytes or a cut row:
    // say what really happened.
    file.check_unchanged();
    throw;
  }
}

}  // namespace archetype
