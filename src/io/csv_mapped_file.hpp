// The bytes of a whole input file for the CSV reader, read-only.
#pragma once

#include <sys/types.h>
#include <time.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace archetype {

/// Maps a regular, non-empty file into memory (no copy: the parser reads
/// the page cache directly); anything else (a pipe, /dev/stdin, a file
/// that cannot be mapped, a 0-byte /proc file that still has content) is
/// read into a buffer instead.  Throws InputError "PATH: cannot open file
/// (...)", "PATH: expected a file, found a directory" or "PATH: cannot read
/// file (...)".
///
/// A file that shrinks while it is mapped would make the kernel raise
/// SIGBUS on the pages past its new end.  A SIGBUS handler (installed with
/// the first mapping; SIGBUS is synchronous, so it runs on the faulting
/// thread, which the interrupt watcher's sigwait() could never do) maps
/// zero pages over the rest of such a mapping and marks it changed, so the
/// parse finishes on zeros instead of killing the process; any other
/// SIGBUS keeps its previous action.  check_unchanged() after the parse
/// (also after a parse error: a truncation looks like NUL bytes or a cut
/// row) turns that, or a size that differs from the one mapped, into an
/// InputError.
class MappedFile {
 public:
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::string_view text() const { return text_; }

  /// Throws InputError "PATH: the file changed while it was read ..." when
  /// the mapped file was truncated (a page went missing), or its size or
  /// modification time is no longer the one it had when it was opened.
  /// Nothing to check for a file read into memory.
  void check_unchanged() const;

  /// Tests only: called with the path right after a file is mapped (to
  /// truncate it between the map and the parse).
  static void (*after_map_for_testing)(const std::string& path);

 private:
  bool try_map(int fd, std::size_t size);
  void read_all(int fd, const std::string& path, std::size_t size_hint);

  std::string path_;
  int fd_ = -1;     ///< kept open while mapped, to check the size again
  int slot_ = -1;   ///< this mapping's entry in the SIGBUS handler's table
  void* map_ = nullptr;
  std::size_t map_size_ = 0;
  timespec modified_{};  ///< st_mtim when opened
  std::vector<char> buffer_;  ///< the fallback copy
  std::string_view text_;
};

}  // namespace archetype
