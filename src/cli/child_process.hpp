// Runs a helper program (the figure script) as a child process: no shell,
// output captured, registered with interrupt.hpp so that an interrupt kills
// and reaps it.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace archetype {

struct ChildOutcome {
  int exit_code = -1;      ///< its exit status; -1 when it could not start or died by a signal
  bool started = true;     ///< false: it could not be started (no such program)
  std::string last_line;   ///< its last non-empty line on stdout or stderr (or why it did not start)
};

/// A child started now and waited for later, so that it can load while
/// this process works (the figure script imports matplotlib meanwhile).
/// stdout and stderr go to one pipe, read by wait(); stdin is a pipe that
/// send() writes to, or /dev/null.  Move-only; a child never waited for is
/// killed and reaped by the destructor (a run that failed before the
/// figures), so none outlives its owner.
class ChildProcess {
 public:
  /// Starts argv[0] (looked up on PATH when it has no slash) with an
  /// empty signal mask (the CLI blocks SIGINT/SIGTERM/SIGHUP in its own
  /// threads).  Check started() / wait().last_line for a failed start.
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
  /// Reads its output to the end and reaps it (once).
  ChildOutcome wait();

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;  ///< read end of its stdout + stderr
  int in_fd_ = -1;   ///< write end of its stdin, when stdin_pipe
  bool spawn_failed_ = false;  ///< no such program (ChildOutcome::started)
  std::string start_error_;
};

/// Runs argv to the end with stdin from /dev/null (ChildProcess, waited).
ChildOutcome run_child(const std::vector<std::string>& argv);

}  // namespace archetype
