// Writing results all or nothing.  The rules (README, "Faults and outputs"):
//
// - a missing output directory is created (and removed again, when empty,
//   if the run commits nothing);
// - an existing one that already holds any of Archetype's files (`ours`)
//   is refused (InputError naming the file) unless `force`; with `force`
//   the files this run writes replace theirs and the rest of Archetype's
//   files there (an earlier run's report beside new labels) are removed in
//   the same commit, so the folder describes one run; every other file in
//   the directory is never touched;
// - a staging folder of an earlier run (killed before it could remove it)
//   is reported by stale_staging() and left alone;
// - one run at a time per output directory: the run holds an exclusive
//   flock() on OUT/.archetype.lock (its pid inside; never an output, removed
//   when the run ends) from before the first check to after the commit; a
//   second run waits up to kLockWaitSeconds, then is refused (InputError
//   naming the holder's pid); on a filesystem without flock() runs go on
//   unlocked;
// - every file is written into a private staging folder inside the output
//   directory (same filesystem, so a rename moves it) and renamed into
//   place only by commit(), after all of them, figures included, are
//   complete; a failure, an exception or an interrupt (interrupt.hpp)
//   before that removes the staging folder, so nothing half-written or
//   partial is ever left;
// - commit() is all or nothing too: it checks every target first (not a
//   folder; figures/ a writable folder on the same filesystem), moves each
//   file it replaces aside into the staging folder, and when any rename
//   fails puts everything back as it was before throwing;
// - any failed write, flush or close (a full disk, a file size limit) is an
//   InputError naming the file.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace archetype {

using ProduceFn = std::function<void(const std::function<void(const std::string&)>&)>;

/// How long a run waits for another run's lock on the same --out.
inline constexpr int kLockWaitSeconds = 3;
/// The lock file in the output directory (not an output).
inline constexpr const char* kLockFileName = ".archetype.lock";
/// How the private staging folders in the output directory begin.
inline constexpr const char* kStagingPrefix = ".archetype-staging-";

class OutputFiles {
 public:
  /// `ours`: names relative to `dir` that Archetype writes (what an existing
  /// directory may not hold without `force`).
  OutputFiles(std::string dir, std::vector<std::string> ours, bool force);
  ~OutputFiles();
  OutputFiles(const OutputFiles&) = delete;
  OutputFiles& operator=(const OutputFiles&) = delete;

  /// The private folder files are staged in (helpers such as the figure
  /// script write into it, under figures/).
  const std::string& staging_dir() const { return staging_; }
  /// Staging folders of earlier runs found in the output directory (runs
  /// killed before they could remove them; never this run's): the caller
  /// says that they can be deleted.  They are left alone.
  const std::vector<std::string>& stale_staging() const { return stale_staging_; }

  /// Stages `content` as `name` (a plain file name); staging a name again
  /// replaces it.
  void stage(const std::string& name, const std::string& content);
  /// Stages `name` from pieces that `produce` passes to its argument in
  /// order, so a large file never has to exist whole in memory.
  void stage_stream(const std::string& name, const ProduceFn& produce);
  /// Marks a file this run reads (the input table, a model): commit() never
  /// replaces it (InputError) nor removes it, whatever its name in --out.
  void protect_input(const std::string& path);

  /// Renames every staged file, then everything in the staging folder's
  /// figures/, into place; returns their final paths.  On failure nothing
  /// in the output directory has changed (InputError naming the file).
  std::vector<std::string> commit();

 private:
  struct Input {
    std::uint64_t dev = 0, ino = 0;
    std::string path;
  };
  /// The protected input `path` is (same device and inode), if any.
  const std::string* input_at(const std::string& path) const;
  void check_not_ours(const std::string& name) const;
  void check_targets(const std::vector<std::string>& names) const;
  void lock_dir();
  void unlock_dir() noexcept;
  void discard() noexcept;

  std::string dir_, staging_;
  std::vector<std::string> ours_;
  bool force_;
  std::vector<std::string> created_dirs_;  // made by this run, outermost first
  std::vector<std::string> staged_;        // names, in staging order
  std::vector<std::string> stale_staging_;  // earlier runs' staging folders
  std::vector<Input> inputs_;              // files this run reads
  std::string lock_path_;
  int lock_fd_ = -1;
  bool committed_ = false;
};

/// Writes what `produce` hands over to `path`; a failed open, write, flush
/// or close (a full disk may only show at the flush) is an InputError
/// naming `shown`.  Nothing is removed on failure: that is the caller's job.
void write_file(const std::string& path, const std::string& shown, const ProduceFn& produce);

/// RFC 4180 quoting of one CSV field (only when needed).
std::string csv_field(const std::string& s);

}  // namespace archetype
