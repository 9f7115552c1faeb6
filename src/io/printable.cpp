#include "io/printable.hpp"

#include "io/text_encoding.hpp"

namespace archetype {
namespace {

/// \xNN for a byte that may not reach a terminal as it is.
void append_hex_escape(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += "\\x";
  out += kHex[c >> 4];
  out += kHex[c & 0xF];
}

/// terminal_safe, with or without its line breaks kept.
std::string escape_controls(std::string_view text, bool keep_line_breaks) {
  std::string out;
  out.reserve(text.size());
  const auto escape = [&](unsigned char c) { append_hex_escape(out, c); };
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c >= 0x20 && c < 0x7F) || (c == '\n' && keep_line_breaks)) {
      out += static_cast<char>(c);
      ++i;
    } else if (const std::size_t n = utf8_sequence_length(text, i); n != 0) {
      // U+0080-U+009F (C2 80 - C2 9F): C1 controls, escaped like C0.
      if (n == 2 && c == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0) {
        escape(c);
        escape(static_cast<unsigned char>(text[i + 1]));
      } else {
        out.append(text.substr(i, n));
      }
      i += n;
    } else {
      escape(c);
      ++i;
    }
  }
  return out;
}

}  // namespace

std::string terminal_safe(std::string_view text) { return escape_controls(text, true); }

std::string single_line(std::string_view text) { return escape_controls(text, false); }

std::string printable(std::string_view text, std::size_t max_chars) {
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
      append_hex_escape(out, c);
      ++i;
    }
  }
  if (i < text.size()) out += "...";
  return out;
}

}  // namespace archetype
