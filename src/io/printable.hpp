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

/// terminal_safe without the line breaks: one line, every control
/// character (line breaks and tabs too) as \xNN.  For a name inside a
/// table row, a Markdown heading or a list item, where a line break would
/// end the row (or start a new block) and a tab would break the alignment.
std::string single_line(std::string_view text);

}  // namespace archetype
