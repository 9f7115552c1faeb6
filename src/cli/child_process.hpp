// Runs a helper program (the figure script) as a child process: no shell,
// output captured, registered with interrupt.hpp so that an interrupt kills
// and reaps it, killed when it runs past its time limit, and killed by the
// kernel when this process dies (even by SIGKILL, where no cleanup runs).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace archetype {

struct ChildOutcome {
  int exit_code = -1;      ///< its exit status; -1 when it could not start, died by a signal or timed out
  bool started = true;     ///< false: it could not be started (no such program)
  bool timed_out = false;  ///< it ran past the time limit and was killed
  std::string last_line;   ///< its last non-empty line on stdout or stderr (or why it did not start)
};

/// A child started now and waited for later, so that it can load while
/// this process works (the figure script imports matplotlib meanwhile).
/// stdout and stderr go to one pipe, read by wait(); stdin is a pipe that
/// send() writes to, or /dev/null.  The child gets an empty signal mask
/// (the CLI blocks SIGINT/SIGTERM/SIGHUP in its own threads) and
/// PR_SET_PDEATHSIG(SIGKILL): it dies with the thread that started it, so a
/// `kill -9` of Archetype leaves no helper running on (start it from the
/// thread that outlives it: the main thread in the CLI).  Move-only; a
/// child never waited for is killed and reaped by the destructor (a run
/// that failed before the figures), so none outlives its owner.
class ChildProcess {
 public:
  /// Starts argv[0] (looked up on PATH when it has no slash).  Check
  /// started(), or wait().started and .last_line, for a failed start.
  ChildProcess(const std::vector<std::string>& argv, bool stdin_pipe);
  ~ChildProcess();
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&&) = delete;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool started() const { return pid_ >= 0; }
  /// Writes `text` to the child's stdin and closes it (a child that has
  /// already ended is not an error here: wait() reports it).
  void send(const std::string& text);
  /// Closes its stdin, reads its output to the end and reaps it (once).
  /// `timeout_seconds` > 0: the child is killed (SIGKILL) when it is still
  /// running that long after this call, and timed_out is set.
  ChildOutcome wait(double timeout_seconds = 0.0);

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;            ///< read end of its stdout + stderr
  int in_fd_ = -1;             ///< write end of its stdin, when stdin_pipe
  bool spawn_failed_ = false;  ///< no such program, or exec failed (ChildOutcome::started)
  std::string start_error_;
};

}  // namespace archetype
