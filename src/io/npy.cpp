// NumPy .npy reading and writing (see include/archetype/npy.hpp).  The
// format: the magic "\x93NUMPY", a major and a minor version byte, the
// header length (uint16 in 1.0, uint32 in 2.0 and 3.0, little-endian), a
// Python dict literal with 'descr', 'fortran_order' and 'shape', then the
// raw array data.
#include "archetype/npy.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <string_view>

#include "archetype/error.hpp"
#include "io/memory_need.hpp"
#include "io/printable.hpp"

// The data are read and written as raw bytes of the host's floats.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the .npy code assumes a little-endian host");

namespace archetype {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicLen = 6;
constexpr std::size_t kAlign = 64;        // numpy's ARRAY_ALIGN
constexpr std::size_t kGrowthDigits = 21;  // numpy's GROWTH_AXIS_MAX_DIGITS

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw InputError(path + ": " + what);
}

// ---------------------------------------------------------------------------
// Header parsing: the subset of Python literal syntax numpy writes (strings
// in single or double quotes, True/False, tuples of integers, with an
// optional Python 2 'L' suffix).
// ---------------------------------------------------------------------------

struct Header {
  std::string descr;
  bool fortran_order = false;
  std::vector<std::size_t> shape;
};

class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& path) : s_(text), path_(path) {}

  Header parse() {
    Header h;
    bool have_descr = false, have_order = false, have_shape = false;
    expect('{');
    while (peek() != '}') {
      const std::string key = string_literal();
      expect(':');
      if (key == "descr") {
        h.descr = peek() == '\'' || peek() == '"' ? string_literal() : raw_value();
        have_descr = true;
      } else if (key == "fortran_order") {
        h.fortran_order = boolean();
        have_order = true;
      } else if (key == "shape") {
        h.shape = int_tuple();
        have_shape = true;
      } else {
        bad("unexpected key '" + printable(key, 40) + "', expected only 'descr', 'fortran_order' and 'shape'");
      }
      if (peek() != ',') break;
      ++pos_;
    }
    expect('}');
    if (!have_descr || !have_order || !have_shape) bad("expected the keys 'descr', 'fortran_order' and 'shape'");
    return h;
  }

 private:
  // The header is quoted escaped and cut short: it ends with a line break
  // and, in a damaged file, may hold any bytes.
  [[noreturn]] void bad(const std::string& what) const {
    fail(path_, "bad .npy header (" + what + "): " + printable(s_, 160));
  }
  char peek() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n')) ++pos_;
    return pos_ < s_.size() ? s_[pos_] : '\0';
  }
  void expect(char c) {
    if (peek() != c) bad(std::string("expected '") + c + "'");
    ++pos_;
  }
  std::string string_literal() {
    const char q = peek();
    if (q != '\'' && q != '"') bad("expected a quoted string");
    const std::size_t end = s_.find(q, pos_ + 1);
    if (end == std::string_view::npos) bad("unterminated string");
    std::string out(s_.substr(pos_ + 1, end - pos_ - 1));
    pos_ = end + 1;
    return out;
  }
  bool boolean() {
    peek();
    for (const auto& [word, value] : {std::pair{std::string_view("True"), true}, {std::string_view("False"), false}}) {
      if (s_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        return value;
      }
    }
    bad("expected True or False");
  }
  std::vector<std::size_t> int_tuple() {
    std::vector<std::size_t> dims;
    expect('(');
    while (peek() != ')') {
      dims.push_back(integer());
      if (peek() != ',') break;
      ++pos_;
    }
    expect(')');
    return dims;
  }
  std::size_t integer() {
    peek();
    std::size_t v = 0;
    const std::size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      const std::size_t digit = static_cast<std::size_t>(s_[pos_] - '0');
      if (v > (std::numeric_limits<std::size_t>::max() - digit) / 10) bad("dimension too large");
      v = v * 10 + digit;
      ++pos_;
    }
    if (pos_ == start) bad("expected a non-negative integer");
    if (pos_ < s_.size() && s_[pos_] == 'L') ++pos_;
    return v;
  }
  /// A structured dtype's list (or anything else) up to the matching bracket,
  /// kept verbatim for the "unsupported dtype" message.
  std::string raw_value() {
    const std::size_t start = pos_;
    int depth = 0;
    for (; pos_ < s_.size(); ++pos_) {
      const char c = s_[pos_];
      if (c == '[' || c == '(' || c == '{') ++depth;
      if (c == ']' || c == ')' || c == '}') {
        if (depth == 0) break;
        --depth;
      }
      if (c == ',' && depth == 0) break;
    }
    return std::string(s_.substr(start, pos_ - start));
  }

  std::string_view s_;
  const std::string& path_;
  std::size_t pos_ = 0;
};

std::size_t read_up_to(std::FILE* f, void* dst, std::size_t n) { return std::fread(dst, 1, n, f); }

/// Reads the magic, version and header dict; leaves `f` at the first data byte.
/// `file_size` bounds the header length before anything is allocated: a
/// version 2.0 header claims up to 4 GB in its length field.
Header read_header(std::FILE* f, const std::string& path, std::size_t file_size, std::size_t& data_offset) {
  unsigned char pre[12];
  const std::size_t got = read_up_to(f, pre, 10);
  if (got < kMagicLen + 2 || std::memcmp(pre, kMagic, kMagicLen) != 0)
    fail(path, "not an .npy file: expected it to start with the magic string \"\\x93NUMPY\"");
  const int major = pre[6], minor = pre[7];
  if (major < 1 || major > 3 || minor != 0)
    fail(path, "unsupported .npy format version " + std::to_string(major) + "." + std::to_string(minor) +
                   " (expected 1.0, 2.0 or 3.0)");
  const std::size_t len_bytes = major == 1 ? 2 : 4;
  if (got < 10 || (len_bytes == 4 && read_up_to(f, pre + 10, 2) != 2))
    fail(path, "truncated header: the file ends inside the header length");
  std::size_t header_len = pre[8] | (static_cast<std::size_t>(pre[9]) << 8);
  if (len_bytes == 4) header_len |= (static_cast<std::size_t>(pre[10]) << 16) | (static_cast<std::size_t>(pre[11]) << 24);
  const std::size_t prefix = kMagicLen + 2 + len_bytes;
  const std::size_t present = file_size > prefix ? file_size - prefix : 0;
  if (header_len > present)
    fail(path, "truncated header: expected " + std::to_string(header_len) + " bytes, found " + std::to_string(present));
  std::string text(header_len, '\0');
  if (read_up_to(f, text.data(), header_len) != header_len) fail(path, "read error");
  data_offset = prefix + header_len;
  return HeaderParser(text, path).parse();
}

std::string shape_repr(const std::vector<std::size_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

/// Messages about one field of the header dict.
[[noreturn]] void bad_field(const std::string& path, const char* field, const std::string& what) {
  fail(path, "header field '" + std::string(field) + "': " + what);
}

/// Checks dtype, order and shape; returns (rows, cols) and the item size.
void check_header(const Header& h, const std::string& path, std::size_t& rows, std::size_t& cols, std::size_t& itemsize) {
  if (h.descr == "<f4") {
    itemsize = 4;
  } else if (h.descr == "<f8") {
    itemsize = 8;
  } else {
    bad_field(path, "descr",
              "unsupported dtype: expected float32 or float64 ('<f4'/'<f8'), found '" + printable(h.descr, 80) + "'");
  }
  if (h.fortran_order)
    bad_field(path, "fortran_order", "unsupported Fortran (column-major) order: expected False (save a C-order array)");
  if (h.shape.empty() || h.shape.size() > 2)
    bad_field(path, "shape", "expected (rows,) or (rows, columns), found " + shape_repr(h.shape));
  rows = h.shape[0];
  cols = h.shape.size() == 2 ? h.shape[1] : 1;
  // No columns would mean no features at all, and rows without data bytes:
  // (10^12, 0) is a few bytes long.
  if (cols == 0) bad_field(path, "shape", "expected at least one column, found " + shape_repr(h.shape));
  if (rows > std::numeric_limits<std::size_t>::max() / cols / itemsize)
    bad_field(path, "shape", "too many elements for this machine, found " + shape_repr(h.shape));
}

std::string format_double(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

/// Rows and columns counted from 1, as in CSV messages (line:column) and
/// the engine's; the NumPy index [i, j] (0-based) follows.
[[noreturn]] void bad_value(const std::string& path, std::size_t index, std::size_t cols, const std::string& what) {
  const std::size_t i = index / cols, j = index % cols;
  fail(path, "row " + std::to_string(i + 1) + ", column " + std::to_string(j + 1) + " (index [" + std::to_string(i) +
                 ", " + std::to_string(j) + "]): " + what);
}

/// base: the file's element index of v[0] (rows read from the middle).
void check_finite(const std::string& path, const float* v, std::size_t n, std::size_t cols, std::size_t base) {
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isfinite(v[i])) bad_value(path, base + i, cols, "expected a finite number, found " + format_double(v[i]));
}

/// float64 data, converted block by block so that memory stays ~1x the matrix.
void read_f8(std::FILE* f, const std::string& path, Matrix& m, std::size_t base) {
  constexpr std::size_t kBlock = 1 << 16;
  std::vector<double> block(kBlock);
  const std::size_t n = m.values.size();
  for (std::size_t done = 0; done < n;) {
    const std::size_t take = std::min(kBlock, n - done);
    if (std::fread(block.data(), sizeof(double), take, f) != take) fail(path, "read error");
    for (std::size_t i = 0; i < take; ++i) {
      const double d = block[i];
      const float x = static_cast<float>(d);
      if (!std::isfinite(d)) bad_value(path, base + done + i, m.cols, "expected a finite number, found " + format_double(d));
      if (!std::isfinite(x)) bad_value(path, base + done + i, m.cols, "value " + format_double(d) + " is outside the float32 range");
      m.values[done + i] = x;
    }
    done += take;
  }
}

// ---------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------

std::string with_data(std::string header, const void* data, std::size_t bytes) {
  header.append(static_cast<const char*>(data), bytes);
  return header;
}

/// Writes `bytes` to a temporary name next to `path`, then renames it.
void write_atomically(const std::string& path, const std::string& bytes) {
  static std::atomic<unsigned> counter{0};
  const std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) fail(path, std::string("cannot create: ") + std::strerror(errno));
  const bool wrote = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  const int err = errno;
  if (std::fclose(f) != 0 || !wrote) {
    std::remove(tmp.c_str());
    fail(path, std::string("write failed: ") + std::strerror(wrote ? errno : err));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int rename_err = errno;
    std::remove(tmp.c_str());
    fail(path, std::string("cannot rename into place: ") + std::strerror(rename_err));
  }
}

}  // namespace

std::string npy_header(const std::string& descr, const std::vector<std::size_t>& shape) {
  // Byte for byte what numpy.save writes: sorted keys, spare spaces after the
  // dict so the first axis can grow in place, padding to 64 bytes.
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape_repr(shape) + ", }";
  if (!shape.empty()) dict.append(kGrowthDigits - std::to_string(shape[0]).size(), ' ');
  const std::size_t hlen = dict.size() + 1;  // + '\n'
  // Version 1.0 stores the header length in 16 bits; 2.0 only when it overflows.
  std::size_t len_bytes = 2;
  std::size_t pad = kAlign - (kMagicLen + 2 + len_bytes + hlen) % kAlign;
  if (hlen + pad > 0xFFFF) {
    len_bytes = 4;
    pad = kAlign - (kMagicLen + 2 + len_bytes + hlen) % kAlign;
  }
  const std::size_t total = hlen + pad;
  std::string out(kMagic, kMagicLen);
  out += static_cast<char>(len_bytes == 2 ? 1 : 2);
  out += '\0';
  for (std::size_t b = 0; b < len_bytes; ++b) out += static_cast<char>((total >> (8 * b)) & 0xFF);
  out += dict;
  out.append(pad, ' ');
  out += '\n';
  return out;
}

namespace {

/// An open .npy file whose header and size were checked, at its first data byte.
struct OpenNpy {
  File f;
  std::size_t offset = 0, rows = 0, cols = 0, itemsize = 0;
};

OpenNpy open_npy(const std::string& path) {
  OpenNpy o;
  o.f.reset(std::fopen(path.c_str(), "rb"));
  if (!o.f) fail(path, std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(::fileno(o.f.get()), &st) != 0) fail(path, std::string("cannot stat: ") + std::strerror(errno));
  // fopen accepts a directory; reading it would then look like a bad magic.
  if (S_ISDIR(st.st_mode)) fail(path, "expected a file, found a directory");
  const auto file_size = static_cast<std::size_t>(st.st_size);
  const Header h = read_header(o.f.get(), path, file_size, o.offset);
  check_header(h, path, o.rows, o.cols, o.itemsize);

  const std::size_t expected = o.rows * o.cols * o.itemsize;
  const std::size_t found = file_size > o.offset ? file_size - o.offset : 0;
  if (found != expected)
    fail(path, "expected " + std::to_string(expected) + " bytes of data for shape " + shape_repr(h.shape) + ", found " +
                   std::to_string(found));
  return o;
}

/// Rows [begin, end) of an open file (begin <= end <= rows).
Matrix read_rows(OpenNpy& o, const std::string& path, std::size_t begin, std::size_t end) {
  // float64 data are converted through a block of at most 64 MiB.
  const std::size_t rows = end - begin;
  memory::note_workload(rows, o.cols, rows * o.cols * sizeof(float) + (o.itemsize == 8 ? (std::size_t{64} << 20) : 0));
  Matrix m(rows, o.cols);
  const std::size_t base = begin * o.cols;  // element index of the first value read
  if (begin > 0 && ::fseeko(o.f.get(), static_cast<off_t>(o.offset + base * o.itemsize), SEEK_SET) != 0)
    fail(path, std::string("cannot seek: ") + std::strerror(errno));
  if (o.itemsize == 4) {
    if (std::fread(m.values.data(), sizeof(float), m.values.size(), o.f.get()) != m.values.size()) fail(path, "read error");
    check_finite(path, m.values.data(), m.values.size(), o.cols, base);
  } else {
    read_f8(o.f.get(), path, m, base);
  }
  return m;
}

}  // namespace

Matrix read_npy(const std::string& path) {
  OpenNpy o = open_npy(path);
  return read_rows(o, path, 0, o.rows);
}

NpyShape read_npy_shape(const std::string& path) {
  const OpenNpy o = open_npy(path);
  return {o.rows, o.cols};
}

Matrix read_npy_rows(const std::string& path, std::size_t begin, std::size_t end) {
  OpenNpy o = open_npy(path);
  if (begin > end || end > o.rows)
    fail(path, "rows " + std::to_string(begin) + ".." + std::to_string(end) + " are outside the file's " +
                   std::to_string(o.rows) + " rows");
  return read_rows(o, path, begin, end);
}

std::string npy_bytes(const Matrix& m) {
  return with_data(npy_header("<f4", {m.rows, m.cols}), m.values.data(), m.values.size() * sizeof(float));
}

std::string npy_bytes(const std::vector<std::int32_t>& labels) {
  return with_data(npy_header("<i4", {labels.size()}), labels.data(), labels.size() * sizeof(std::int32_t));
}

void write_npy(const std::string& path, const Matrix& m) { write_atomically(path, npy_bytes(m)); }

void write_npy_labels(const std::string& path, const std::vector<std::int32_t>& labels) {
  write_atomically(path, npy_bytes(labels));
}

}  // namespace archetype
