// Where the files Archetype ships beside its binary live: the reference
// dataset, the persona catalog and the generator's parameters (data/), and
// the figure script (scripts/).  An installed binary finds them under
// PREFIX/share/archetype/ (cmake --install), a binary in the build tree in
// the source tree; an environment variable overrides either.
#pragma once

#include <string>

namespace archetype {

/// $ARCHETYPE_DATA_DIR; else <binary>/../share/archetype/data when it
/// exists; else the source tree's data/.
std::string data_dir();

/// $ARCHETYPE_SCRIPTS_DIR; else <binary>/../share/archetype/scripts when it
/// exists; else the source tree's scripts/.
std::string scripts_dir();

}  // namespace archetype
