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

}  // namespace archetype
