// Splitting the data rows of a CSV text into chunks that can be parsed
// independently (see csv_reader.cpp for when that is safe).
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace archetype {

/// `text` without its trailing run of CR and LF bytes.
std::string_view trim_trailing_line_breaks(std::string_view text);

struct TextScan {
  /// Line breaks, counted as the tokenizer counts physical lines: LF, CRLF
  /// and a lone CR each count once.
  std::size_t line_breaks = 0;
  bool has_quote = false;  ///< whether any '"' occurs
};

/// One pass over `text` (two when it holds a CR).
TextScan scan_text(std::string_view text);

/// Splits `text` into at most `pieces` consecutive, non-empty pieces of
/// roughly equal size; every piece but the first starts just after a '\n'.
/// Never splits a CRLF.  An empty `text` gives one empty piece.
std::vector<std::string_view> split_at_line_starts(std::string_view text, std::size_t pieces);

}  // namespace archetype
