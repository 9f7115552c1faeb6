// Text from users' files is mostly UTF-8, but spreadsheets still export
// cp1252/Latin-1 ("caf\xe9").  Every JSON file Archetype writes must be
// valid UTF-8, so text that is not is read as Latin-1 (each byte its own
// code point; cp1252's extra characters in 0x80-0x9F become the C1
// controls), which keeps every character and never fails.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace archetype {

/// Length (2-4) of the well-formed UTF-8 multi-byte sequence at s[i]; 0
/// when there is none (an ASCII byte, a stray or cut-short byte, an overlong
/// form, a surrogate, beyond U+10FFFF).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i);

bool is_valid_utf8(std::string_view s);

/// `s` itself when it is valid UTF-8, else its bytes read as Latin-1 and
/// encoded as UTF-8; `changed` (optional) says which.
std::string utf8_or_latin1(std::string_view s, bool* changed = nullptr);

}  // namespace archetype
