#include "cli/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "io/interrupt.hpp"

extern char** environ;

namespace archetype {
namespace {

/// posix_spawn's attributes and file actions, released on every path.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  explicit SpawnSetup(int out_fd) {  // both pipe ends are O_CLOEXEC: the child keeps only the dup2'd copies
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out_fd, STDERR_FILENO);
    posix_spawnattr_init(&attr);
    // The CLI blocks SIGINT/SIGTERM/SIGHUP in its threads (interrupt.hpp);
    // the child gets an empty mask (dispositions are inherited unchanged).
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
};

}  // namespace

ChildOutcome run_child(const std::vector<std::string>& argv) {
  ChildOutcome out;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    out.last_line = std::string("cannot create a pipe: ") + std::strerror(errno);
    return out;
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int spawn_err = 0;
  const pid_t pid = interrupt::track_child([&]() -> pid_t {
    SpawnSetup setup(fds[1]);
    pid_t p = -1;
    spawn_err = posix_spawnp(&p, args[0], &setup.actions, &setup.attr, args.data(), environ);
    return spawn_err == 0 ? p : -1;
  });
  ::close(fds[1]);
  if (pid < 0) {
    ::close(fds[0]);
    out.last_line = argv[0] + ": cannot run (" + std::strerror(spawn_err) + ")";
    out.started = false;
    return out;
  }
  std::string pending;
  char buf[4096];
  for (;;) {
    const ssize_t got = ::read(fds[0], buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    pending.append(buf, static_cast<std::size_t>(got));
    std::size_t start = 0, nl;
    while ((nl = pending.find('\n', start)) != std::string::npos) {
      std::string line = pending.substr(start, nl - start);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!line.empty()) out.last_line = line;
      start = nl + 1;
    }
    pending.erase(0, start);
  }
  if (!pending.empty()) out.last_line = pending;
  ::close(fds[0]);
  const int status = interrupt::wait_child(pid);
  out.exit_code = status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

}  // namespace archetype
