#include "io/interrupt.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace archetype::interrupt {
namespace {

namespace fs = std::filesystem;

struct Registry {
  std::mutex mutex;         // guards paths and children
  std::mutex commit_mutex;  // held by a commit, then by the watcher for good
  std::vector<std::pair<std::string, Removal>> paths;  // in creation order
  std::vector<pid_t> children;
};

/// Never destroyed: the watcher may still run while static destructors do.
Registry& registry() {
  static Registry* r = new Registry;
  return *r;
}

/// The signals the watcher takes: SIGINT, SIGTERM, SIGHUP, except those
/// this process was started with ignored (nohup, a background job of a
/// script): they stay ignored, as the caller asked.
const sigset_t& handled_signals() {
  static const sigset_t set = [] {
    sigset_t s;
    sigemptyset(&s);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
      struct sigaction old {};
      if (::sigaction(sig, nullptr, &old) == 0 && old.sa_handler != SIG_IGN) sigaddset(&s, sig);
    }
    return s;
  }();
  return set;
}

void remove_path(const std::string& path, Removal how) {
  std::error_code ec;
  if (how == Removal::IfEmpty) {
    fs::remove(path, ec);  // fails, harmlessly, on a folder that is not empty
    return;
  }
  // The main thread may still be creating files in a staging folder while
  // it goes: retry until it is gone (a create after that fails with ENOENT).
  for (int attempt = 0; attempt < 5 && fs::symlink_status(path, ec).type() != fs::file_type::not_found; ++attempt)
    fs::remove_all(path, ec);
}

/// Kills the registered children and removes the registered paths; the
/// caller holds the registry's lock.  Returns whether there was anything.
bool clean_up(Registry& r) {
  const bool any = !r.children.empty() || !r.paths.empty();
  for (pid_t pid : r.children) {
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  r.children.clear();
  // Newest first: a staging folder before the output folder it lives in.
  for (auto it = r.paths.rbegin(); it != r.paths.rend(); ++it) remove_path(it->first, it->second);
  r.paths.clear();
  return any;
}

/// exit() while a run still has temporaries: not main() returning (every
/// OutputFiles is gone by then, committed or discarded) but a library
/// giving up mid-run, e.g. libgomp's "Thread creation failed".  A commit in
/// progress on another thread is not waited for (it may be the thread that
/// called exit()); the exit status stays the caller's.
pid_t g_installed_by = 0;  // a forked child that calls exit() must not clean up its parent's run

void clean_up_at_exit() {
  if (::getpid() != g_installed_by) return;
  if (!clean_up_now()) return;
  static const char line[] = "archetype: error: the run stopped before its end (see above); unfinished outputs removed\n";
  [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, line, sizeof line - 1);
}

std::atomic<bool> g_quiet{false};  // quiet(): no line on a signal
std::atomic<int> g_linger_ms{0};   // quiet(): a wait before leaving

[[noreturn]] void clean_up_and_exit(int sig) {
  Registry& r = registry();
  std::lock_guard<std::mutex> commit(r.commit_mutex);  // let a commit in progress finish
  std::lock_guard<std::mutex> lock(r.mutex);
  clean_up(r);
  const char* name = sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGHUP";
  const std::string line = std::string("archetype: interrupted by ") + name + "; unfinished outputs removed\n";
  if (!g_quiet) {
    [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
  }
  if (const int ms = g_linger_ms; ms > 0) {
    const timespec wait{ms / 1000, (ms % 1000) * 1000000L};
    ::nanosleep(&wait, nullptr);
  }
  ::_exit(128 + sig);
}

void watch() {
  const sigset_t& set = handled_signals();
  int sig = 0;
  while (sigwait(&set, &sig) != 0) {
  }
  clean_up_and_exit(sig);
}

}  // namespace

void install() {
  const sigset_t& set = handled_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  g_installed_by = ::getpid();
  std::atexit(clean_up_at_exit);
  try {
    std::thread(watch).detach();
  } catch (const std::system_error&) {
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);  // no watcher: the signals keep their default action
  }
}

void quiet(int linger_ms) {
  g_quiet = true;
  if (linger_ms > g_linger_ms) g_linger_ms = linger_ms;
}

bool clean_up_now() {
  Registry& r = registry();
  std::unique_lock<std::mutex> lock(r.mutex, std::try_to_lock);  // never deadlock in exit() or terminate
  return lock.owns_lock() && clean_up(r);
}

void track(const std::string& path, Removal how, const std::function<void()>& create) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  create();
  r.paths.emplace_back(path, how);
}

bool track_if(const std::string& path, Removal how, const std::function<bool()>& create) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  if (!create()) return false;
  r.paths.emplace_back(path, how);
  return true;
}

void untrack(const std::string& path) { forget(path, [] {}); }

void forget(const std::string& path, const std::function<void()>& remove) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.paths.erase(std::remove_if(r.paths.begin(), r.paths.end(), [&](const auto& p) { return p.first == path; }),
                r.paths.end());
  remove();
}

pid_t track_child(const std::function<pid_t()>& spawn) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  const pid_t pid = spawn();
  if (pid > 0) r.children.push_back(pid);
  return pid;
}

int wait_child(pid_t pid) {
  siginfo_t info{};
  while (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR) {
  }
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.children.erase(std::remove(r.children.begin(), r.children.end(), pid), r.children.end());
  int status = 0;
  pid_t got = -1;
  while ((got = ::waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
  }
  return got == pid ? status : -1;
}

std::unique_lock<std::mutex> commit_lock() { return std::unique_lock<std::mutex>(registry().commit_mutex); }

}  // namespace archetype::interrupt
