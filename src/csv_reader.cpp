// CSV reader: the whole file is read into memory and parsed in one pass.
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
#include <fast_float/fast_float.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "archetype/csv.hpp"
#include "archetype/error.hpp"

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

// Length of the well-formed UTF-8 multi-byte sequence at s[i], 0 if none.
// Used so that accented column names stay readable while stray bytes of a
// binary file are escaped.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char lead = byte(i);
  std::size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;  // allowed range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;   // overlong
    if (lead == 0xED) high = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;   // overlong
    if (lead == 0xF4) high = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + length > s.size() || byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return length;
}

// Text safe to print in a message: at most max_chars characters (then
// "..."), bytes that are neither printable ASCII nor valid UTF-8 as \xNN.
std::string printable(std::string_view text, std::size_t max_chars) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  std::size_t i = 0;
  for (std::size_t chars = 0; i < text.size() && chars < max_chars; ++chars) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
      ++i;
    } else if (const std::size_t n = utf8_sequence_length(text, i); n != 0) {
      out.append(text.substr(i, n));
      i += n;
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
      ++i;
    }
  }
  if (i < text.size()) out += "...";
  return out;
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

constexpr ByteSet kUnquotedStop = make_byte_set(std::string_view(",\n\r\0", 4));
constexpr ByteSet kQuotedStop = make_byte_set(std::string_view("\"\n\r\0", 4));

bool stops_unquoted(char c) { return kUnquotedStop[static_cast<unsigned char>(c)]; }
bool stops_quoted(char c) { return kQuotedStop[static_cast<unsigned char>(c)]; }

enum class FieldEnd { comma, line, file };

struct Field {
  std::string_view text;  ///< unquoted value; may point into the scratch buffer
  FieldEnd end = FieldEnd::file;
  std::string_view junk;  ///< text after a closing quote (RFC 4180 forbids it)
};

class Tokenizer {
 public:
  Tokenizer(std::string_view text, const std::string& source)
      : p_(text.data()), end_(text.data() + text.size()), blank_run_end_(p_), source_(source) {}

  bool at_end() const { return p_ == end_; }
  std::size_t line() const { return line_; }
  bool at_line_end() const { return p_ != end_ && (*p_ == '\n' || *p_ == '\r'); }

  // True when only line breaks remain: trailing empty lines are ignored.
  // Remembers how far it looked so that a run of blank lines in the middle
  // of the file is not rescanned once per line.
  bool only_line_breaks_left() {
    if (blank_run_end_ <= p_) {
      blank_run_end_ = p_;
      while (blank_run_end_ != end_ && (*blank_run_end_ == '\n' || *blank_run_end_ == '\r')) ++blank_run_end_;
    }
    return blank_run_end_ == end_;
  }

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
    while (q != end_ && is_blank(*q)) ++q;
    if (q != end_ && *q == '"') {
      p_ = q + 1;
      field.text = read_quoted_body(column);
      while (p_ != end_ && is_blank(*p_)) ++p_;
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
  void skip_unquoted() {
    while (p_ != end_ && !stops_unquoted(*p_)) ++p_;
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
    switch (*p_) {
      case ',':
        ++p_;
        return FieldEnd::comma;
      case '\0':
        fail_nul(column);
      default:  // '\n' or '\r': skip_unquoted stops at nothing else
        skip_line_break();
        return FieldEnd::line;
    }
  }

  [[noreturn]] void fail_nul(std::size_t column) const {
    fail(line_, column, "expected text, found a NUL byte (is this a binary or UTF-16 file?)");
  }

  const char* p_;
  const char* end_;
  const char* blank_run_end_;
  std::size_t line_ = 1;
  std::string scratch_;
  const std::string& source_;
};

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

class ColumnResolver {
 public:
  ColumnResolver(const std::vector<std::string>& header, const std::string& source)
      : header_(header), source_(source) {}

  // A header name first, then a 0-based index.
  std::size_t resolve(const std::string& wanted) const {
    std::optional<std::size_t> found;
    for (std::size_t i = 0; i < header_.size(); ++i) {
      if (header_[i] != wanted) continue;
      if (found) fail(i + 1, "column " + quoted_name(wanted) + " appears twice in the header");
      found = i;
    }
    if (found) return *found;
    if (const auto index = parse_index(wanted); index && *index < header_.size()) return *index;
    fail(1, "column " + quoted_name(wanted) + " not found in the header (columns: " + column_list(header_) + ")");
  }

  std::optional<std::size_t> auto_detect_id() const {
    static constexpr std::string_view kIdNames[] = {"id", "user id", "user_id", "creator id", "creator_id"};
    for (std::size_t i = 0; i < header_.size(); ++i) {
      for (std::string_view name : kIdNames) {
        if (equals_ignoring_case(header_[i], name)) return i;
      }
    }
    return std::nullopt;
  }

  [[noreturn]] void fail(std::size_t column, const std::string& what) const {
    throw InputError(location(source_, 1, column) + what);
  }

 private:
  const std::vector<std::string>& header_;
  const std::string& source_;
};

struct Selection {
  std::optional<std::size_t> id_column;
  std::vector<std::size_t> features;  ///< header positions, in output order
};

Selection select_columns(const std::vector<std::string>& header, const CsvOptions& options,
                         const std::string& source) {
  const ColumnResolver resolver(header, source);
  Selection selection;
  selection.id_column = options.id_column.empty() ? resolver.auto_detect_id()
                                                  : std::optional(resolver.resolve(options.id_column));
  if (options.columns.empty()) {
    for (std::size_t i = 0; i < header.size(); ++i) {
      if (i != selection.id_column) selection.features.push_back(i);
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
    if (taken[index]) {
      resolver.fail(1, "column " + quoted_name(header[index]) + " (field " + std::to_string(index + 1) +
                           ") is selected twice");
    }
    taken[index] = true;
    selection.features.push_back(index);
  }
  return selection;
}

// ---------------------------------------------------------------------------
// The parser proper
// ---------------------------------------------------------------------------

class CsvParser {
 public:
  CsvParser(std::string_view text, const std::string& source, const CsvOptions& options)
      : text_(text), source_(source), options_(options), tokens_(text, source) {}

  Table parse() {
    read_header();
    configure();
    read_rows();
    return finish();
  }

 private:
  void read_header() {
    if (tokens_.at_end() || tokens_.only_line_breaks_left()) {
      tokens_.fail(1, 1, "the file is empty, expected a header row");
    }
    if (tokens_.at_line_end()) tokens_.fail(1, 1, "expected a header row, found an empty line");
    Field field;
    do {
      const std::size_t column = header_.size() + 1;
      field = tokens_.read_field(column);
      if (!field.junk.empty()) tokens_.fail(1, column, junk_problem(field.junk));
      header_.emplace_back(field.text);
    } while (field.end == FieldEnd::comma);
    // The line a first data row would start on.
    first_data_line_ = tokens_.line() + (field.end == FieldEnd::file ? 1 : 0);
  }

  void configure() {
    const Selection selection = select_columns(header_, options_, source_);
    id_column_ = selection.id_column;
    slot_of_column_.assign(header_.size(), kNoSlot);
    for (std::size_t slot = 0; slot < selection.features.size(); ++slot) {
      slot_of_column_[selection.features[slot]] = slot;
    }
    table_.column_indices = selection.features;
    for (std::size_t index : selection.features) table_.column_names.push_back(header_[index]);
    if (id_column_) table_.id_name = header_[*id_column_];
    table_.features.cols = selection.features.size();
    row_.assign(table_.features.cols, 0.0f);
    reserve_output();
  }

  // The number of line breaks bounds the number of rows; counting them is a
  // vectorised pass, much cheaper than regrowing the vectors.
  void reserve_output() {
    const auto lines = static_cast<std::size_t>(std::count(text_.begin(), text_.end(), '\n')) + 1;
    table_.features.values.reserve(lines * table_.features.cols);
    table_.ids.reserve(lines);
  }

  void read_rows() {
    while (!tokens_.at_end()) {
      if (tokens_.at_line_end()) {
        if (tokens_.only_line_breaks_left()) break;
        const std::size_t line = tokens_.line();
        tokens_.skip_line_break();
        reject_row(location(source_, line, 1) + "expected " + count_of_fields(header_.size()) +
                   " as in the header, found an empty row");
      } else {
        read_record();
      }
      ++data_rows_;
    }
  }

  void read_record() {
    const std::size_t line = tokens_.line();
    problem_.clear();
    std::size_t fields = 0;
    Field field;
    do {
      field = tokens_.read_field(fields + 1);
      if (fields < header_.size()) take_cell(field, fields, line);
      ++fields;
    } while (field.end == FieldEnd::comma);
    if (fields != header_.size()) {
      // The shape is the likelier root cause: it overrides any cell problem.
      problem_ = location(source_, line, std::min(fields, header_.size()) + 1) + "expected " +
                 count_of_fields(header_.size()) + " as in the header, found " + std::to_string(fields);
    }
    if (problem_.empty()) {
      accept_row();
    } else {
      reject_row(problem_);
    }
  }

  // Parses a selected cell into row_, remembers the id; records only the
  // first problem of the row.
  void take_cell(const Field& field, std::size_t column, std::size_t line) {
    if (!problem_.empty()) return;
    if (!field.junk.empty()) {
      problem_ = location(source_, line, column + 1) + junk_problem(field.junk);
      return;
    }
    if (id_column_ && column == *id_column_) id_text_.assign(field.text);
    const std::size_t slot = slot_of_column_[column];
    if (slot == kNoSlot) return;
    const CellStatus status = parse_number(field.text, row_[slot]);
    if (status != CellStatus::ok) {
      problem_ = location(source_, line, column + 1) + cell_problem(status, field.text, header_[column]);
    }
  }

  void accept_row() {
    table_.features.values.insert(table_.features.values.end(), row_.begin(), row_.end());
    table_.ids.push_back(id_column_ ? id_text_ : std::to_string(data_rows_));
    ++table_.features.rows;
  }

  void reject_row(const std::string& message) {
    if (!options_.drop_invalid) throw InputError(message);
    ++table_.dropped_rows;
    if (table_.drop_reasons.size() < kMaxDropReasons) table_.drop_reasons.push_back(message);
  }

  static std::string junk_problem(std::string_view junk) {
    return "expected a comma or a line end after the closing quote, found '" + printable(junk, kMaxFoundChars) + "'";
  }

  Table finish() {
    if (data_rows_ == 0) tokens_.fail(first_data_line_, 1, "no data rows after the header");
    if (table_.features.rows == 0) {
      throw InputError(source_ + ": no valid data rows (all " + std::to_string(data_rows_) +
                       " were dropped; first reason: " + table_.drop_reasons.front() + ")");
    }
    // The reservation was exact unless quoted fields held line breaks or
    // rows were dropped; only a large excess is worth a copy.
    shrink_if_wasteful(table_.features.values);
    shrink_if_wasteful(table_.ids);
    return std::move(table_);
  }

  template <typename Vector>
  static void shrink_if_wasteful(Vector& v) {
    if (v.capacity() - v.size() > v.size() / 4) v.shrink_to_fit();
  }

  static constexpr std::size_t kNoSlot = static_cast<std::size_t>(-1);

  std::string_view text_;
  const std::string& source_;
  const CsvOptions& options_;
  Tokenizer tokens_;
  std::vector<std::string> header_;
  std::size_t first_data_line_ = 2;
  std::optional<std::size_t> id_column_;
  std::vector<std::size_t> slot_of_column_;  ///< header position -> feature slot or kNoSlot
  std::vector<float> row_;                   ///< the current row's features
  std::string id_text_;                      ///< the current row's id
  std::string problem_;                      ///< first problem of the current row
  std::size_t data_rows_ = 0;                ///< every data row seen, dropped ones included
  Table table_;
};

// Reads a whole file; fopen/fread so that errno is meaningful on failure.
std::string read_file(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) throw InputError(path + ": cannot open file (" + std::strerror(errno) + ")");
  struct stat info {};
  std::size_t capacity = 1 << 16;
  if (::fstat(::fileno(file.get()), &info) == 0 && info.st_size > 0) {
    capacity = static_cast<std::size_t>(info.st_size) + 1;  // +1: the short read that proves EOF
  }
  std::string data(capacity, '\0');
  std::size_t used = 0;
  for (;;) {
    used += std::fread(&data[used], 1, data.size() - used, file.get());
    if (used < data.size()) break;  // end of file or an error
    data.resize(data.size() * 2);   // the file grew, or is not a regular file
  }
  if (std::ferror(file.get())) throw InputError(path + ": cannot read file (" + std::strerror(errno) + ")");
  data.resize(used);
  return data;
}

}  // namespace

Table parse_csv(std::string_view text, const std::string& source_name, const CsvOptions& options) {
  if (text.substr(0, kUtf8Bom.size()) == kUtf8Bom) text.remove_prefix(kUtf8Bom.size());
  return CsvParser(text, source_name, options).parse();
}

Table read_csv(const std::string& path, const CsvOptions& options) {
  const std::string text = read_file(path);
  return parse_csv(text, path, options);
}

}  // namespace archetype
