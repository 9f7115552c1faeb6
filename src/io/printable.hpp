// Input text quoted in error messages: one line, bounded length, and no
// raw bytes of a binary file on the user's terminal.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace archetype {

/// At most `max_chars` characters of `text` (then "..."); bytes that are
/// neither printable ASCII nor part of a well-formed UTF-8 sequence (line
/// breaks, control bytes, stray high bytes) become \xNN.
std::string printable(std::string_view text, std::size_t max_chars);

/// Everything Archetype writes to a terminal: line breaks kept, every other
/// control character (C0, DEL, and the C1 controls U+0080-U+009F such as
/// CSI, which also start escape sequences) and stray bytes as \xNN, so that
/// a header name or id cannot set the window title or clear the screen.
std::string terminal_safe(std::string_view text);

}  // namespace archetype
