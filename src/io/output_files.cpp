#include "io/output_files.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>

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
    std::string templ = (fs::path(dir_) / ".archetype-staging-XXXXXX").string();
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

void OutputFiles::discard() noexcept {
  std::error_code ec;
  if (!staging_.empty()) {
    fs::remove_all(staging_, ec);
    interrupt::untrack(staging_);
  }
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
  // An interrupt now waits until every file is in place.
  const std::unique_lock<std::mutex> lock = interrupt::commit_lock();
  for (const std::string& name : names) check_not_ours(name);  // again: something may have appeared since
  if (names.size() > staged_.size()) {
    const fs::path target = fs::path(dir_) / "figures";
    if (!fs::is_directory(target, ec) && !fs::create_directory(target, ec))
      throw InputError(target.string() + ": cannot create (" + (ec ? ec.message() : "not a directory") + ")");
  }
  std::vector<std::string> paths;
  for (const std::string& name : names) {
    const std::string from = (fs::path(staging_) / name).string(), to = (fs::path(dir_) / name).string();
    if (std::rename(from.c_str(), to.c_str()) != 0)
      throw InputError(to + ": cannot rename into place (" + std::strerror(errno) + ")");
    paths.push_back(to);
  }
  committed_ = true;
  fs::remove_all(staging_, ec);
  interrupt::untrack(staging_);
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
