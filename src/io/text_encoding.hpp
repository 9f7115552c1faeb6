// Text from users' files is mostly UTF-8, but spreadsheets still export
// cp1252/Latin-1 ("caf\xe9").  Every JSON file Archetype writes must be
// valid UTF-8, so text that is not is read as Latin-1 (each byte its own
// code point; cp1252's extra characters in 0x80-0x9F become the C1
// controls), which keeps every character and never fails.
#pragma once

#include <string>
#include <string_view>

namespace archetype {

bool is_valid_utf8(std::string_view s);

/// `s` itself when it is valid UTF-8, else its bytes read as Latin-1 and
/// encoded as UTF-8; `changed` (optional) says which.
std::string utf8_or_latin1(std::string_view s, bool* changed = nullptr);

}  // namespace archetype
