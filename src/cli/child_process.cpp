#include "cli/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "io/interrupt.hpp"

extern char** environ;

namespace archetype {
namespace {

/// argv[0] as execve needs it: itself when it has a slash, else the first
/// executable of that name on PATH (found before the fork: a forked child
/// of a threaded process may only make async-signal-safe calls).
std::string resolve_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string dirs = path && *path ? path : "/usr/local/bin:/usr/bin:/bin";
  for (std::size_t start = 0; start <= dirs.size();) {
    std::size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    const std::string dir = end == start ? "." : dirs.substr(start, end - start);
    const std::string candidate = dir + "/" + name;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
    start = end + 1;
  }
  return {};
}

/// Closes a descriptor once.
void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

/// In the forked child, up to exec: only async-signal-safe calls.  Any
/// failure writes errno to `report` (close-on-exec, so a successful exec
/// closes it unwritten) and exits 127.
[[noreturn]] void exec_child(const char* program, char* const* args, int in_fd, int out_fd, int report,
                             pid_t parent) {
  int err = 0;
  // Die with the parent: a kill -9 of Archetype runs none of its cleanup,
  // so the kernel has to end the helper.  The parent may already be gone
  // (between fork and prctl): then there is nobody to signal us.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) err = errno;
  if (err == 0 && ::getppid() != parent) ::_exit(127);
  // The CLI blocks SIGINT/SIGTERM/SIGHUP in its threads (interrupt.hpp);
  // the child gets an empty mask (dispositions are inherited unchanged).
  sigset_t none;
  sigemptyset(&none);
  if (err == 0 && ::sigprocmask(SIG_SETMASK, &none, nullptr) != 0) err = errno;
  if (err == 0) {
    // The stdin pipe, or /dev/null (dup2 clears the close-on-exec flag).
    const int in = in_fd >= 0 ? in_fd : ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (in < 0 || ::dup2(in, STDIN_FILENO) < 0) err = errno;
  }
  // The pipe's ends are close-on-exec: the child keeps only these copies.
  if (err == 0 && (::dup2(out_fd, STDOUT_FILENO) < 0 || ::dup2(out_fd, STDERR_FILENO) < 0)) err = errno;
  if (err == 0) {
    ::execve(program, args, environ);
    err = errno;
  }
  [[maybe_unused]] const ssize_t n = ::write(report, &err, sizeof err);
  ::_exit(127);
}

/// Keeps the last non-empty line of what the child writes.
class LastLine {
 public:
  void add(const char* data, std::size_t size) {
    pending_.append(data, size);
    std::size_t start = 0, nl;
    while ((nl = pending_.find('\n', start)) != std::string::npos) {
      take(pending_.substr(start, nl - start));
      start = nl + 1;
    }
    pending_.erase(0, start);
    // A child that writes without line breaks must not grow this without end.
    if (pending_.size() > kMaxLine) pending_.erase(0, pending_.size() - kMaxLine);
  }
  std::string finish() {
    if (!pending_.empty()) take(pending_);
    return last_;
  }

 private:
  static constexpr std::size_t kMaxLine = 4096;
  void take(std::string line) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) last_ = line.substr(0, kMaxLine);
  }
  std::string pending_, last_;
};

}  // namespace

ChildProcess::ChildProcess(const std::vector<std::string>& argv, bool stdin_pipe) {
  const std::string program = resolve_program(argv.at(0));
  if (program.empty()) {
    spawn_failed_ = true;
    start_error_ = argv[0] + ": cannot run (" + std::strerror(ENOENT) + ")";
    return;
  }
  int output[2] = {-1, -1}, report[2] = {-1, -1}, input[2] = {-1, -1};
  if (::pipe2(output, O_CLOEXEC) != 0 || ::pipe2(report, O_CLOEXEC) != 0 ||
      (stdin_pipe && ::pipe2(input, O_CLOEXEC) != 0)) {
    start_error_ = std::string("cannot create a pipe: ") + std::strerror(errno);
    for (int* fd : {&output[0], &output[1], &report[0], &report[1], &input[0], &input[1]}) close_fd(*fd);
    return;
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args[0] = const_cast<char*>(program.c_str());
  args.push_back(nullptr);
  const pid_t parent = ::getpid();
  int fork_err = 0;
  const pid_t pid = interrupt::track_child([&]() -> pid_t {
    const pid_t p = ::fork();
    if (p == 0) exec_child(program.c_str(), args.data(), input[0], output[1], report[1], parent);
    if (p < 0) fork_err = errno;
    return p;
  });
  close_fd(output[1]);
  close_fd(report[1]);
  close_fd(input[0]);
  out_fd_ = output[0];
  in_fd_ = input[1];
  if (pid < 0) {
    close_fd(out_fd_);
    close_fd(in_fd_);
    close_fd(report[0]);
    spawn_failed_ = true;
    start_error_ = argv[0] + ": cannot run (" + std::strerror(fork_err) + ")";
    return;
  }
  // EOF: the exec succeeded (the report pipe closed with it); an errno: it
  // did not, and the child has exited 127.
  int exec_err = 0;
  ssize_t got = 0;
  while ((got = ::read(report[0], &exec_err, sizeof exec_err)) < 0 && errno == EINTR) {
  }
  close_fd(report[0]);
  if (got == static_cast<ssize_t>(sizeof exec_err)) {
    close_fd(out_fd_);
    close_fd(in_fd_);
    interrupt::wait_child(pid);
    spawn_failed_ = true;
    start_error_ = argv[0] + ": cannot run (" + std::strerror(exec_err) + ")";
    return;
  }
  pid_ = pid;
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
    ::kill(pid_, SIGKILL);  // still registered, not reaped: the pid cannot have been reused
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
  if (done < text.size()) {
    const struct timespec zero {0, 0};
    sigtimedwait(&pipe_only, nullptr, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  close_fd(in_fd_);
}

ChildOutcome ChildProcess::wait(double timeout_seconds) {
  ChildOutcome out;
  if (pid_ < 0) {
    out.started = !spawn_failed_;
    out.last_line = start_error_;
    return out;
  }
  close_fd(in_fd_);
  using Clock = std::chrono::steady_clock;
  const bool limited = timeout_seconds > 0.0;
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(limited ? timeout_seconds : 0.0));
  LastLine last;
  char buf[4096];
  for (;;) {
    int wait_ms = -1;
    if (limited) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) {
        out.timed_out = true;
        break;
      }
      wait_ms = static_cast<int>(std::min<long long>(left, 60'000));
    }
    pollfd p{out_fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, wait_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) continue;  // the deadline is checked above
    if (ready < 0) break;
    const ssize_t n = ::read(out_fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    last.add(buf, static_cast<std::size_t>(n));
  }
  // Still registered (not reaped): the pid cannot have been reused.
  if (out.timed_out) ::kill(pid_, SIGKILL);
  close_fd(out_fd_);
  out.last_line = last.finish();
  const int status = interrupt::wait_child(pid_);
  pid_ = -1;
  out.exit_code = !out.timed_out && status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

}  // namespace archetype
