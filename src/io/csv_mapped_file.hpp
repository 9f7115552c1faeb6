// The bytes of a whole input file for the CSV reader, read-only.
#pragma once

#include <sys/types.h>
#include <time.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace archetype {

/// The most a streamed input (a pipe, stdin, a FIFO, a device) may hold:
/// unlike a file, which is mapped, it has to be copied into memory whole.
inline constexpr std::size_t kMaxStreamedBytes = std::size_t{4} << 30;  // 4 GiB
/// The longest line of a streamed input: a stream without a line break for
/// this long is no table (`yes | tr -d '\n'`, random bytes without NULs).
inline constexpr std::size_t kMaxStreamedLineBytes = std::size_t{64} << 20;  // 64 MiB

/// Maps a regular, non-empty file into memory (no copy: the parser reads
/// the page cache directly); anything else (a pipe, stdin, a FIFO, a device,
/// a file that cannot be mapped, a 0-byte /proc file that still has
/// content) is read into a buffer instead, and checked while it streams in:
/// reading stops at the first NUL byte (a binary stream: the buffer ends
/// just after it, where the parser reports it with its line and field), and
/// a stream above kMaxStreamedBytes, or with a line longer than
/// kMaxStreamedLineBytes, is refused as soon as it gets there (`fit
/// /dev/zero` stops at its first byte, not after gigabytes).  The buffer
/// grows by mremap (no copies: what is held is what was read).  The path
/// "-" is stdin (named "stdin" in messages).  Throws InputError "PATH:
/// cannot open file (...)", "PATH: expected a file, found a directory",
/// "PATH: cannot read file (...)" or the limits above.
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
  /// The name for messages: the path, or "stdin" for "-".
  const std::string& name() const { return path_; }

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
  void read_all(int fd, std::size_t size_hint);
  void grow_buffer(std::size_t at_least);

  std::string path_;
  int fd_ = -1;     ///< kept open while mapped, to check the size again
  int slot_ = -1;   ///< this mapping's entry in the SIGBUS handler's table
  void* map_ = nullptr;
  std::size_t map_size_ = 0;
  timespec modified_{};  ///< st_mtim when opened
  char* buffer_ = nullptr;      ///< the fallback copy (an anonymous mapping)
  std::size_t buffer_size_ = 0;
  std::string_view text_;
};

}  // namespace archetype
