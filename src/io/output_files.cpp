#include "io/output_files.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <thread>

#include "archetype/error.hpp"
#include "io/interrupt.hpp"

namespace archetype {
namespace fs = std::filesystem;
namespace {

[[noreturn]] void write_failed(const std::string& shown, int err) {
  throw InputError(shown + ": write failed (" + std::strerror(err) + "); no output was committed");
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

bool exists_no_follow(const fs::path& p) {
  std::error_code ec;
  return fs::symlink_status(p, ec).type() != fs::file_type::not_found && !ec;
}

/// Whether the open descriptor `fd` is still the file at `path` (its last
/// holder may have removed it, or replaced it, while this run waited).
bool still_named(int fd, const std::string& path) {
  struct stat a {}, b {};
  return ::fstat(fd, &a) == 0 && ::lstat(path.c_str(), &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/// The pid a lock file's holder wrote into it; 0 when unknown.
long read_holder(int fd) {
  char buf[32] = {};
  const ::ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  return n > 0 ? std::strtol(buf, nullptr, 10) : 0;
}

std::string no_commit(const std::string& dir) {
  return "; no output was committed (" + dir + " is as it was)";
}

}  // namespace

void write_file(const std::string& path, const std::string& shown, const ProduceFn& produce) {
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "wb"));
  if (!f) throw InputError(shown + ": cannot write (" + std::strerror(errno) + ")");
  produce([&](const std::string& piece) {
    if (std::fwrite(piece.data(), 1, piece.size(), f.get()) != piece.size()) write_failed(shown, errno);
  });
  // A full disk or a file size limit may only show when the buffer goes out.
  if (std::fflush(f.get()) != 0) write_failed(shown, errno);
  if (std::fclose(f.release()) != 0) write_failed(shown, errno);
}

OutputFiles::OutputFiles(std::string dir, std::vector<std::string> ours, bool force)
    : dir_(std::move(dir)), ours_(std::move(ours)), force_(force) {
  if (dir_.empty()) throw InputError("--out: the output directory name is empty");
  std::error_code ec;
  const fs::file_status st = fs::status(dir_, ec);
  // A link to nothing: mkdir and open would only say "No such file or
  // directory", naming neither the link nor where it points.
  if (std::error_code lec; !fs::exists(st) && fs::is_symlink(fs::symlink_status(dir_, lec))) {
    const std::string target = fs::read_symlink(dir_, lec).string();
    throw InputError(dir_ + ": is a link to " + target + ", which does not exist (create it, or choose another --out)");
  }
  if (fs::exists(st) && !fs::is_directory(st))
    throw InputError(dir_ + ": exists and is not a directory (--out names the output directory)");
  if (fs::is_directory(st))
    for (const std::string& name : ours_) check_not_ours(name);
  try {
    // The missing folders, outermost first, each registered as it is made.
    fs::path p = fs::path(dir_).lexically_normal();
    if (!p.has_filename()) p = p.parent_path();
    std::vector<fs::path> missing;
    for (; !p.empty() && !exists_no_follow(p); p = p.parent_path()) {
      missing.push_back(p);
      if (p == p.parent_path()) break;
    }
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
      const std::string d = it->string();
      interrupt::track(d, interrupt::Removal::IfEmpty, [&] {
        if (::mkdir(d.c_str(), 0777) != 0 && errno != EEXIST)
          throw InputError(dir_ + ": cannot create the output directory (" + d + ": " + std::strerror(errno) + ")");
      });
      created_dirs_.push_back(d);
    }
    lock_dir();
    // Again, now that no other run can write here until this one is done.
    if (fs::is_directory(st))
      for (const std::string& name : ours_) check_not_ours(name);
    // With the lock held, another run's staging folder is one that its run,
    // killed (SIGKILL, a power cut), could not remove.
    if (fs::is_directory(st))
      for (const fs::directory_entry& e : fs::directory_iterator(dir_, ec))
        if (e.path().filename().string().rfind(kStagingPrefix, 0) == 0) stale_staging_.push_back(e.path().string());
    std::sort(stale_staging_.begin(), stale_staging_.end());
    std::string templ = (fs::path(dir_) / (std::string(kStagingPrefix) + "XXXXXX")).string();
    interrupt::track(templ, interrupt::Removal::Everything, [&] {
      // track() registers the name it was given: mkdtemp fills it in place.
      if (::mkdtemp(templ.data()) == nullptr)
        throw InputError(dir_ + ": cannot write in the output directory (" + std::strerror(errno) + ")");
    });
    staging_ = templ;
  } catch (...) {
    discard();
    throw;
  }
}

OutputFiles::~OutputFiles() {
  if (!committed_) discard();
}

void OutputFiles::lock_dir() {
  lock_path_ = (fs::path(dir_) / kLockFileName).string();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(kLockWaitSeconds);
  int fd = -1;  // kept open while waiting
  for (;;) {
    bool stale = false;
    bool held = false;
    try {
      // Made (perhaps), locked and registered as one step: an interrupt
      // removes the lock file only when this run holds it.
      held = interrupt::track_if(lock_path_, interrupt::Removal::Everything, [&] {
        if (fd < 0) fd = ::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
          throw InputError(dir_ + ": cannot write in the output directory (" + std::strerror(errno) + ")");
        const bool locked = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
        if (!locked && (errno == EWOULDBLOCK || errno == EINTR)) return false;
        // A filesystem without locks (ENOLCK, EOPNOTSUPP): go on unlocked,
        // as before there were locks, rather than refuse every run there.
        if (locked && !still_named(fd, lock_path_)) {
          stale = true;  // its holder removed it as it let go: take the new one
          return false;
        }
        const std::string pid = std::to_string(::getpid()) + "\n";
        if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<::ssize_t>(pid.size()))
          throw InputError(lock_path_ + ": write failed (" + std::strerror(errno) + ")");
        return true;
      });
    } catch (...) {
      if (fd >= 0) ::close(fd);
      throw;
    }
    if (held) {
      lock_fd_ = fd;
      return;
    }
    if (stale) {
      ::close(fd);
      fd = -1;
      continue;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      const long holder = read_holder(fd);
      ::close(fd);
      throw InputError(dir_ + ": another Archetype run" + (holder > 0 ? " (pid " + std::to_string(holder) + ")" : "") +
                       " is writing its outputs there (" + lock_path_ + "); waited " +
                       std::to_string(kLockWaitSeconds) + " s: let it finish, or choose another --out");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void OutputFiles::unlock_dir() noexcept {
  if (lock_fd_ < 0) return;
  // Removed while still held (a run waiting on it then sees that it is
  // stale and makes a new one), forgotten in the same step.
  interrupt::forget(lock_path_, [&] { ::unlink(lock_path_.c_str()); });
  ::close(lock_fd_);
  lock_fd_ = -1;
}

void OutputFiles::discard() noexcept {
  std::error_code ec;
  if (!staging_.empty()) {
    fs::remove_all(staging_, ec);
    interrupt::untrack(staging_);
  }
  unlock_dir();
  for (auto it = created_dirs_.rbegin(); it != created_dirs_.rend(); ++it) {
    fs::remove(*it, ec);  // only when empty: never anything else's
    interrupt::untrack(*it);
  }
}

void OutputFiles::check_not_ours(const std::string& name) const {
  const fs::path p = fs::path(dir_) / name;
  if (!force_ && exists_no_follow(p))
    throw InputError(p.string() + " already exists: pass --force to overwrite Archetype's files in " + dir_ +
                     " (other files there are left alone), or choose another --out");
}

void OutputFiles::stage(const std::string& name, const std::string& content) {
  stage_stream(name, [&](const std::function<void(const std::string&)>& write) { write(content); });
}

void OutputFiles::stage_stream(const std::string& name, const ProduceFn& produce) {
  if (std::find(staged_.begin(), staged_.end(), name) == staged_.end()) staged_.push_back(name);
  write_file((fs::path(staging_) / name).string(), (fs::path(dir_) / name).string(), produce);
}

void OutputFiles::protect_input(const std::string& path) {
  struct stat st {};
  // "-" is stdin: the file behind it, when it is one (`< out/labels.csv`).
  if ((path == "-" ? ::fstat(STDIN_FILENO, &st) : ::stat(path.c_str(), &st)) == 0 &&
      (path != "-" || S_ISREG(st.st_mode)))
    inputs_.push_back({static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
                       path == "-" ? std::string("stdin") : path});
}

const std::string* OutputFiles::input_at(const std::string& path) const {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return nullptr;
  for (const Input& in : inputs_)
    if (in.dev == static_cast<std::uint64_t>(st.st_dev) && in.ino == static_cast<std::uint64_t>(st.st_ino))
      return &in.path;
  return nullptr;
}

void OutputFiles::check_targets(const std::vector<std::string>& names) const {
  std::error_code ec;
  for (const std::string& name : names) {
    const fs::path to = fs::path(dir_) / name;
    if (const std::string* input = input_at(to.string()))
      throw InputError(to.string() + ": is this run's input " + *input +
                       "; an input is never replaced (write to another --out)" + no_commit(dir_));
    check_not_ours(name);  // again: something may have appeared since
    if (fs::symlink_status(to, ec).type() == fs::file_type::directory)
      throw InputError(to.string() + ": is a folder, not a file Archetype wrote (--force replaces only files); move it away" +
                       no_commit(dir_));
  }
  if (names.size() == staged_.size()) return;
  const fs::path figures = fs::path(dir_) / "figures";
  struct stat here {}, there {};
  if (::stat(figures.c_str(), &there) != 0) return;  // made by the commit
  if (!S_ISDIR(there.st_mode))
    throw InputError(figures.string() + ": exists and is not a folder, so the figures cannot go there" + no_commit(dir_));
  if (::stat(staging_.c_str(), &here) == 0 && here.st_dev != there.st_dev)
    throw InputError(figures.string() + ": is on another filesystem than " + dir_ +
                     " (a link?), so the figures cannot be moved into it in one step" + no_commit(dir_));
  if (::access(figures.c_str(), W_OK | X_OK) != 0)
    throw InputError(figures.string() + ": cannot write there (" + std::strerror(errno) + ")" + no_commit(dir_));
}

std::vector<std::string> OutputFiles::commit() {
  std::vector<std::string> names = staged_;
  const fs::path figures = fs::path(staging_) / "figures";
  std::error_code ec;
  if (fs::is_directory(figures, ec)) {
    std::vector<std::string> drawn;
    for (const fs::directory_entry& e : fs::directory_iterator(figures, ec)) {
      const std::string f = e.path().filename().string();
      if (f.empty() || f[0] == '.' || !e.is_regular_file(ec)) continue;  // a helper's own temporaries
      drawn.push_back("figures/" + f);
    }
    std::sort(drawn.begin(), drawn.end());
    names.insert(names.end(), drawn.begin(), drawn.end());
  }
  // An interrupt now waits until every file is in place (or every file is
  // back where it was).
  const std::unique_lock<std::mutex> lock = interrupt::commit_lock();
  check_targets(names);

  // The files this commit replaces wait in the staging folder until the
  // last rename has succeeded; on any failure each step is undone, newest
  // first.
  const fs::path aside_root = fs::path(staging_) / ".replaced";
  struct Step {
    std::string from, to, aside;  // aside empty: nothing was there
    bool placed = false;
  };
  std::vector<Step> steps;
  bool made_figures = false;
  const fs::path figures_target = fs::path(dir_) / "figures";
  try {
    if (names.size() > staged_.size() && !fs::is_directory(figures_target, ec)) {
      if (!fs::create_directory(figures_target, ec))
        throw InputError(figures_target.string() + ": cannot create (" + (ec ? ec.message() : "not a directory") + ")" +
                         no_commit(dir_));
      made_figures = true;
    }
    if (!fs::create_directories(aside_root / "figures", ec) && ec)
      throw InputError(staging_ + ": cannot write (" + ec.message() + ")" + no_commit(dir_));
    for (const std::string& name : names) {
      Step step{(fs::path(staging_) / name).string(), (fs::path(dir_) / name).string(), {}, false};
      if (exists_no_follow(step.to)) {
        const std::string aside = (aside_root / name).string();
        if (std::rename(step.to.c_str(), aside.c_str()) != 0)
          throw InputError(step.to + ": cannot move the earlier file aside (" + std::strerror(errno) + ")" + no_commit(dir_));
        step.aside = aside;
      }
      steps.push_back(step);
      if (std::rename(step.from.c_str(), step.to.c_str()) != 0)
        throw InputError(step.to + ": cannot rename into place (" + std::strerror(errno) + ")" + no_commit(dir_));
      steps.back().placed = true;
    }
    // Archetype's files of an earlier run that this one does not write
    // (a report beside new labels from `predict`) go too: the folder then
    // describes one run.  Only with force (without it there are none).
    for (const std::string& name : ours_) {
      if (std::find(names.begin(), names.end(), name) != names.end()) continue;
      const std::string to = (fs::path(dir_) / name).string();
      if (!exists_no_follow(to) || fs::is_directory(fs::symlink_status(to, ec)) || input_at(to)) continue;
      const std::string aside = (aside_root / name).string();
      if (std::rename(to.c_str(), aside.c_str()) != 0)
        throw InputError(to + ": cannot remove the earlier run's file (" + std::strerror(errno) + ")" + no_commit(dir_));
      steps.push_back(Step{{}, to, aside, false});
    }
  } catch (const InputError& e) {
    bool restored = true;
    for (auto it = steps.rbegin(); it != steps.rend(); ++it) {
      if (it->placed && std::rename(it->to.c_str(), it->from.c_str()) != 0) restored = false;
      if (!it->aside.empty() && std::rename(it->aside.c_str(), it->to.c_str()) != 0) restored = false;
    }
    if (made_figures) fs::remove(figures_target, ec);  // only when empty
    if (restored) throw;
    // Keep the earlier files where they are rather than delete them.
    committed_ = true;
    interrupt::untrack(staging_);
    unlock_dir();
    throw InputError(std::string(e.what()) + "; and not every earlier file could be put back: they are in " +
                     aside_root.string());
  }
  std::vector<std::string> paths;
  for (const Step& step : steps)
    if (step.placed) paths.push_back(step.to);  // not the earlier run's files it removed
  committed_ = true;
  fs::remove_all(staging_, ec);
  interrupt::untrack(staging_);
  unlock_dir();
  for (const std::string& d : created_dirs_) interrupt::untrack(d);
  return paths;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace archetype
