// Runs a helper program (the figure script) as a child process: no shell,
// output captured, registered with interrupt.hpp so that an interrupt kills
// and reaps it.
#pragma once

#include <string>
#include <vector>

namespace archetype {

struct ChildOutcome {
  int exit_code = -1;      ///< its exit status; -1 when it could not start or died by a signal
  bool started = true;     ///< false: it could not be started (no such program)
  std::string last_line;   ///< its last non-empty line on stdout or stderr (or why it did not start)
};

/// Runs argv[0] (looked up on PATH when it has no slash) with stdin from
/// /dev/null, stdout and stderr captured, and an empty signal mask (the CLI
/// blocks SIGINT/SIGTERM/SIGHUP in its own threads).
ChildOutcome run_child(const std::vector<std::string>& argv);

}  // namespace archetype
