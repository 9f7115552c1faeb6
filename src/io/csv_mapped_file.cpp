// Memory-mapped input for the CSV reader (see csv_mapped_file.hpp).
#include "io/csv_mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "archetype/error.hpp"

namespace archetype {
namespace {

// Closes the descriptor on every exit path; a mapping outlives it.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string system_error(const std::string& path, const char* what) {
  return path + ": " + what + " (" + std::strerror(errno) + ")";
}

}  // namespace

MappedFile::MappedFile(const std::string& path) {
  const FileDescriptor file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (file.get() < 0) throw InputError(system_error(path, "cannot open file"));
  struct stat info {};
  const bool known = ::fstat(file.get(), &info) == 0;
  // Reading a directory would fail with EISDIR; say plainly what is wrong.
  if (known && S_ISDIR(info.st_mode)) throw InputError(path + ": expected a file, found a directory");
  const bool regular = known && S_ISREG(info.st_mode);
  const auto size = regular ? static_cast<std::size_t>(info.st_size) : 0;
  // A 0-byte regular file cannot be mapped; reading it also covers /proc
  // files, which report size 0 but have content.
  if (size > 0 && try_map(file.get(), size)) return;
  read_all(file.get(), path, size);
}

MappedFile::~MappedFile() {
  if (map_ != nullptr) ::munmap(map_, map_size_);
}

bool MappedFile::try_map(int fd, std::size_t size) {
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (map == MAP_FAILED) return false;
  // One forward pass (per parsing thread): ask for aggressive read-ahead and
  // early reuse of the pages already read.  Only advice, so failure is fine.
  ::madvise(map, size, MADV_SEQUENTIAL);
  map_ = map;
  map_size_ = size;
  text_ = std::string_view(static_cast<const char*>(map), size);
  return true;
}

// Reads until end of file: the size, when known, is only a hint, since a
// pipe has none and a file may grow while it is read.
void MappedFile::read_all(int fd, const std::string& path, std::size_t size_hint) {
  buffer_.resize(size_hint > 0 ? size_hint + 1 : std::size_t{1} << 16);  // +1: the read that proves EOF
  std::size_t used = 0;
  for (;;) {
    if (used == buffer_.size()) buffer_.resize(buffer_.size() * 2);
    const ::ssize_t got = ::read(fd, buffer_.data() + used, buffer_.size() - used);
    if (got == 0) break;
    if (got < 0) {
      if (errno == EINTR) continue;
      throw InputError(system_error(path, "cannot read file"));
    }
    used += static_cast<std::size_t>(got);
  }
  buffer_.resize(used);
  text_ = std::string_view(buffer_.data(), used);
}

}  // namespace archetype
