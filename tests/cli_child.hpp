// The `archetype` binary as a child process, for the fault tests: argv
// without a shell, extra environment, an optional file size limit (a full
// disk), its pid (to signal it), and a wait with a deadline.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace archetype::test {

namespace fs = std::filesystem;

struct ChildSpec {
  std::vector<std::string> args;  ///< after the program name
  std::vector<std::string> env;   ///< NAME=value added to this process's environment
  fs::path out, err;              ///< where its stdout and stderr go
  long long max_file_bytes = -1;  ///< RLIMIT_FSIZE (SIGXFSZ ignored, so writes fail with EFBIG); -1: none
  long long max_memory_bytes = -1;  ///< RLIMIT_AS (thread stacks then fail to map); -1: none
};

/// Starts the CLI; returns its pid.
inline pid_t spawn_cli(const ChildSpec& spec) {
  std::vector<std::string> argv_s = {ARCHETYPE_CLI_PATH};
  argv_s.insert(argv_s.end(), spec.args.begin(), spec.args.end());
  std::vector<std::string> env_s = spec.env;
  for (char** e = environ; *e; ++e) env_s.emplace_back(*e);  // ours first: getenv takes the first
  std::vector<char*> argv, envp;
  for (std::string& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (std::string& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  const std::string out = spec.out.string(), err = spec.err.string();
  const pid_t pid = ::fork();
  if (pid == 0) {  // only async-signal-safe calls from here to exec
    const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (o < 0 || e < 0 || ::dup2(o, 1) < 0 || ::dup2(e, 2) < 0) ::_exit(126);
    if (spec.max_file_bytes >= 0) {
      const rlimit lim{static_cast<rlim_t>(spec.max_file_bytes), static_cast<rlim_t>(spec.max_file_bytes)};
      ::signal(SIGXFSZ, SIG_IGN);
      if (::setrlimit(RLIMIT_FSIZE, &lim) != 0) ::_exit(126);
    }
    if (spec.max_memory_bytes >= 0) {
      const rlimit lim{static_cast<rlim_t>(spec.max_memory_bytes), static_cast<rlim_t>(spec.max_memory_bytes)};
      if (::setrlimit(RLIMIT_AS, &lim) != 0) ::_exit(126);
    }
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  return pid;
}

/// Waits up to `seconds`: the exit code, 128 + N when killed by signal N,
/// or -1 on timeout (the child is then killed).
inline int wait_cli(pid_t pid, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  for (;;) {
    int status = 0;
    const pid_t got = ::waitpid(pid, &status, WNOHANG);
    if (got == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (got < 0) return -2;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

inline std::string slurp_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct CliRun {
  int code = -1;
  std::string out, err;
};

/// Runs the CLI to completion (at most `seconds`) with stdout and stderr
/// captured in files under `scratch`.
inline CliRun run_cli(const fs::path& scratch, std::vector<std::string> args, std::vector<std::string> env = {},
                      long long max_file_bytes = -1, double seconds = 120) {
  ChildSpec spec{std::move(args), std::move(env), scratch / "cli_stdout.txt", scratch / "cli_stderr.txt", max_file_bytes};
  CliRun r;
  r.code = wait_cli(spawn_cli(spec), seconds);
  r.out = slurp_file(spec.out);
  r.err = slurp_file(spec.err);
  return r;
}


/// Every entry below `dir` (files and folders, hidden ones included), as
/// paths relative to it.
/// What a `fit` (no figures) commits to its output folder.
inline const std::set<std::string> kFitOutputs = {"summary.json", "report.md",  "report.html",
                                                  "labels.csv",   "labels.npy", "model.json"};

inline std::set<std::string> tree(const fs::path& dir) {
  std::set<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
    out.insert(fs::relative(it->path(), dir).string());
  return out;
}

/// A fresh folder for one test, removed afterwards.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& tag)
      : path_(fs::temp_directory_path() / ("archetype_" + tag + "_" + std::to_string(::getpid()))) {
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

}  // namespace archetype::test
