// Chunking helpers for the parallel CSV reader (see csv_chunks.hpp).
#include "io/csv_chunks.hpp"

#include <algorithm>

namespace archetype {

namespace {

bool is_line_break(char c) { return c == '\n' || c == '\r'; }

// Byte counts are summed per block in 8-bit lanes, which the compiler
// vectorises 16 or 32 bytes at a time; a plain std::count widens every
// comparison to a 64-bit sum and is several times slower.
constexpr std::size_t kBlock = 255;  // the most an 8-bit counter can hold

// CRs not followed by an LF.
std::size_t count_lone_carriage_returns(std::string_view text) {
  std::size_t count = 0;
  const char* p = text.data();
  const std::size_t pairs = text.size() - 1;  // text is not empty
  for (std::size_t begin = 0; begin < pairs; begin += kBlock) {
    const std::size_t end = std::min(begin + kBlock, pairs);
    unsigned char block = 0;
    for (std::size_t i = begin; i < end; ++i) block += static_cast<unsigned char>((p[i] == '\r') & (p[i + 1] != '\n'));
    count += block;
  }
  return count + static_cast<std::size_t>(text.back() == '\r');
}

}  // namespace

std::string_view trim_trailing_line_breaks(std::string_view text) {
  while (!text.empty() && is_line_break(text.back())) text.remove_suffix(1);
  return text;
}

TextScan scan_text(std::string_view text) {
  TextScan scan;
  if (text.empty()) return scan;
  const char* p = text.data();
  bool has_cr = false;
  for (std::size_t begin = 0; begin < text.size(); begin += kBlock) {
    const std::size_t end = std::min(begin + kBlock, text.size());
    unsigned char line_feeds = 0, carriage_returns = 0, quotes = 0;
    for (std::size_t i = begin; i < end; ++i) {
      line_feeds += static_cast<unsigned char>(p[i] == '\n');
      carriage_returns |= static_cast<unsigned char>(p[i] == '\r');
      quotes |= static_cast<unsigned char>(p[i] == '"');
    }
    scan.line_breaks += line_feeds;
    has_cr = has_cr || carriage_returns != 0;
    scan.has_quote = scan.has_quote || quotes != 0;
  }
  // Only files with CRs pay for the second pass.
  if (has_cr) scan.line_breaks += count_lone_carriage_returns(text);
  return scan;
}

std::vector<std::string_view> split_at_line_starts(std::string_view text, std::size_t pieces) {
  std::vector<std::string_view> out;
  const std::size_t target = text.size() / std::max<std::size_t>(pieces, 1);
  std::size_t begin = 0;
  while (out.size() + 1 < pieces && text.size() - begin > target) {
    // The first '\n' at or after the nominal end; the piece ends just after
    // it, so a CR before it stays in this piece.
    const std::size_t nominal = begin + std::max<std::size_t>(target, 1) - 1;
    const std::size_t newline = text.find('\n', nominal);
    if (newline == std::string_view::npos || newline + 1 == text.size()) break;
    out.push_back(text.substr(begin, newline + 1 - begin));
    begin = newline + 1;
  }
  out.push_back(text.substr(begin));
  return out;
}

}  // namespace archetype
