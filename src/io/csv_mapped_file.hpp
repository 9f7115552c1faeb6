// The bytes of a whole input file for the CSV reader, read-only.
#pragma once

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
/// The mapping assumes nobody truncates the file while it is being read:
/// the kernel would then raise SIGBUS on the missing pages.
class MappedFile {
 public:
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::string_view text() const { return text_; }

 private:
  bool try_map(int fd, std::size_t size);
  void read_all(int fd, const std::string& path, std::size_t size_hint);

  void* map_ = nullptr;
  std::size_t map_size_ = 0;
  std::vector<char> buffer_;  ///< the fallback copy
  std::string_view text_;
};

}  // namespace archetype
