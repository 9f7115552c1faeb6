// Runs a helper program (the figure script) as a child process: no shell,
// output captured, registered with interrupt.hpp so that an interrupt kills
// and reaps it, killed when it runs past its time limit, and killed by the
// kernel when this process dies (even by SIGKILL, where no cleanup runs).
#pragma once

#include <string>
#include <vector>

namespace archetype {

struct ChildOutcome {
  int exit_code = -1;      ///< its exit status; -1 when it could not start, died by a signal or timed out
  bool started = true;     ///< false: it could not be started (no such program)
  bool timed_out = false;  ///< it ran past the time limit and was killed
  std::string last_line;   ///< its last non-empty line on stdout or stderr (or why it did not start)
};

/// Runs argv[0] (looked up on PATH when it has no slash) with stdin from
/// /dev/null, stdout and stderr captured, and an empty signal mask (the CLI
/// blocks SIGINT/SIGTERM/SIGHUP in its own threads).  The child gets
/// PR_SET_PDEATHSIG(SIGKILL): it dies with the thread that started it, so a
/// `kill -9` of Archetype leaves no helper running on.  `timeout_seconds` >
/// 0: the child is killed (SIGKILL) once it has run that long, and
/// timed_out is set.  Call it from the main thread (the death signal follows
/// the thread that forked).
ChildOutcome run_child(const std::vector<std::string>& argv, double timeout_seconds = 0.0);

}  // namespace archetype
