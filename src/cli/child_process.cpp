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
/// Every pipe end is O_CLOEXEC: the child keeps only the dup2'd copies.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnSetup(int in_fd, int out_fd) {
    posix_spawn_file_actions_init(&actions);
    if (in_fd >= 0)
      posix_spawn_file_actions_adddup2(&actions, in_fd, STDIN_FILENO);
    else
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

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace

ChildProcess::ChildProcess(const std::vector<std::string>& argv, bool stdin_pipe) {
  int out[2], in[2] = {-1, -1};
  if (::pipe2(out, O_CLOEXEC) != 0 || (stdin_pipe && ::pipe2(in, O_CLOEXEC) != 0)) {
    start_error_ = std::string("cannot create a pipe: ") + std::strerror(errno);
    return;
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int spawn_err = 0;
  pid_ = interrupt::track_child([&]() -> pid_t {
    SpawnSetup setup(in[0], out[1]);
    pid_t p = -1;
    spawn_err = posix_spawnp(&p, args[0], &setup.actions, &setup.attr, args.data(), environ);
    return spawn_err == 0 ? p : -1;
  });
  ::close(out[1]);
  if (in[0] >= 0) ::close(in[0]);
  out_fd_ = out[0];
  in_fd_ = in[1];
  if (pid_ < 0) {
    close_fd(out_fd_);
    close_fd(in_fd_);
    start_error_ = argv[0] + ": cannot run (" + std::strerror(spawn_err) + ")";
    spawn_failed_ = true;
  }
}

ChildProcess::ChildProcess(ChildProcess&& o) noexcept
    : pid_(o.pid_),
      out_fd_(o.out_fd_),
      in_fd_(o.in_fd_),
      spawn_failed_(o.spawn_failed_),
      start_error_(std::move(o.start_error_)) {
  o.pid_ = o.out_fd_ = o.in_fd_ = -1;
}

ChildProcess::~ChildProcess() {
  close_fd(in_fd_);
  close_fd(out_fd_);
  if (pid_ >= 0) {
    ::kill(pid_, SIGKILL);
    interrupt::wait_child(pid_);
  }
}

void ChildProcess::send(const std::string& text) {
  if (in_fd_ < 0) return;
  // Writing to a child that has ended raises SIGPIPE, which would kill
  // this process: block it for this thread while writing, and take back
  // one it raised before unblocking (EPIPE is then just a short write).
  sigset_t pipe_only, old;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(in_fd_, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  // Take back a SIGPIPE this write raised before unblocking.
  if (done < text.size()) {
    const struct timespec zero{0, 0};
    sigtimedwait(&pipe_only, nullptr, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  close_fd(in_fd_);
}

ChildOutcome ChildProcess::wait() {
  ChildOutcome out;
  if (pid_ < 0) {
    out.started = !spawn_failed_;
    out.last_line = start_error_;
    return out;
  }
  close_fd(in_fd_);
  std::string pending;
  char buf[4096];
  for (;;) {
    const ssize_t got = ::read(out_fd_, buf, sizeof buf);
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
  close_fd(out_fd_);
  const int status = interrupt::wait_child(pid_);
  pid_ = -1;
  out.exit_code = status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

ChildOutcome run_child(const std::vector<std::string>& argv) { return ChildProcess(argv, false).wait(); }

}  // namespace archetype
