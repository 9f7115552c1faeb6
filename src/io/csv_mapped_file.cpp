// Memory-mapped input for the CSV reader (see csv_mapped_file.hpp).
#include "io/csv_mapped_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "archetype/error.hpp"

namespace archetype {

void (*MappedFile::after_map_for_testing)(const std::string& path) = nullptr;

namespace {

// Closes the descriptor on every exit path unless released.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

std::string system_error(const std::string& path, const char* what) {
  return path + ": " + what + " (" + std::strerror(errno) + ")";
}

// ---- SIGBUS on a mapping whose file shrank ----------------------------------
//
// The handler may only touch lock-free state: a fixed table of the live
// mappings (begin, size, faulted), claimed and released with atomics.

struct LiveMapping {
  std::atomic<char*> begin{nullptr};
  std::atomic<std::size_t> size{0};
  std::atomic<bool> faulted{false};
  std::atomic<bool> claimed{false};
};

constexpr int kSlots = 64;
LiveMapping g_live[kSlots];
std::uintptr_t g_page = 4096;
struct sigaction g_previous {};

void on_sigbus(int sig, siginfo_t* info, void* context) {
  char* const addr = static_cast<char*>(info->si_addr);
  for (LiveMapping& m : g_live) {
    char* const begin = m.begin.load(std::memory_order_acquire);
    const std::size_t size = m.size.load(std::memory_order_acquire);
    if (begin == nullptr || addr < begin || addr >= begin + size) continue;
    // Zero pages from the missing one to the end: the access is retried and
    // reads zeros; the reader then reports the change.
    char* const from = begin + (static_cast<std::uintptr_t>(addr - begin) & ~(g_page - 1));
    if (::mmap(from, static_cast<std::size_t>(begin + size - from), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
               -1, 0) != MAP_FAILED) {
      m.faulted.store(true, std::memory_order_release);
      return;
    }
    break;
  }
  // Not one of ours: what SIGBUS did before.
  if ((g_previous.sa_flags & SA_SIGINFO) != 0 && g_previous.sa_sigaction != nullptr) {
    g_previous.sa_sigaction(sig, info, context);
    return;
  }
  if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN && g_previous.sa_handler != nullptr) {
    g_previous.sa_handler(sig);
    return;
  }
  ::signal(SIGBUS, SIG_DFL);  // a real fault repeats and now kills, as it would have
  if (info->si_code <= 0) ::raise(SIGBUS);
}

void install_sigbus_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    const long page = ::sysconf(_SC_PAGESIZE);
    if (page > 0) g_page = static_cast<std::uintptr_t>(page);
    struct sigaction sa {};
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGBUS, &sa, &g_previous);
  });
}

int claim_slot(char* begin, std::size_t size) {
  install_sigbus_handler();
  for (int i = 0; i < kSlots; ++i) {
    bool expected = false;
    if (!g_live[i].claimed.compare_exchange_strong(expected, true)) continue;
    g_live[i].faulted.store(false);
    g_live[i].size.store(size, std::memory_order_release);
    g_live[i].begin.store(begin, std::memory_order_release);
    return i;
  }
  return -1;
}

void release_slot(int i) {
  g_live[i].begin.store(nullptr, std::memory_order_release);
  g_live[i].size.store(0, std::memory_order_release);
  g_live[i].claimed.store(false);
}

}  // namespace

MappedFile::MappedFile(const std::string& path) : path_(path == "-" ? "stdin" : path) {
  // "-": stdin, through a descriptor of our own (closed like any other).
  FileDescriptor file(path == "-" ? ::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0)
                                  : ::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (file.get() < 0) throw InputError(system_error(path_, "cannot open file"));
  struct stat info {};
  const bool known = ::fstat(file.get(), &info) == 0;
  // Reading a directory would fail with EISDIR; say plainly what is wrong.
  if (known && S_ISDIR(info.st_mode)) throw InputError(path_ + ": expected a file, found a directory");
  const bool regular = known && S_ISREG(info.st_mode);
  const auto size = regular ? static_cast<std::size_t>(info.st_size) : 0;
  // A 0-byte regular file cannot be mapped; reading it also covers /proc
  // files, which report size 0 but have content.
  if (size > 0 && try_map(file.get(), size)) {
    fd_ = file.release();
    modified_ = info.st_mtim;
    if (after_map_for_testing != nullptr) after_map_for_testing(path);
    return;
  }
  try {
    read_all(file.get(), size);
  } catch (...) {
    if (buffer_ != nullptr) ::munmap(buffer_, buffer_size_);
    throw;
  }
}

MappedFile::~MappedFile() {
  if (map_ != nullptr) {
    if (slot_ >= 0) release_slot(slot_);
    ::munmap(map_, map_size_);
  }
  if (buffer_ != nullptr) ::munmap(buffer_, buffer_size_);
  if (fd_ >= 0) ::close(fd_);
}

bool MappedFile::try_map(int fd, std::size_t size) {
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (map == MAP_FAILED) return false;
  const int slot = claim_slot(static_cast<char*>(map), size);
  if (slot < 0) {  // no room to watch it: read it instead
    ::munmap(map, size);
    return false;
  }
  // One forward pass (per parsing thread): ask for aggressive read-ahead and
  // early reuse of the pages already read.  Only advice, so failure is fine.
  ::madvise(map, size, MADV_SEQUENTIAL);
  map_ = map;
  map_size_ = size;
  slot_ = slot;
  text_ = std::string_view(static_cast<const char*>(map), size);
  return true;
}

void MappedFile::check_unchanged() const {
  if (map_ == nullptr) return;
  struct stat info {};
  const bool faulted = g_live[slot_].faulted.load(std::memory_order_acquire);
  const bool stat_ok = ::fstat(fd_, &info) == 0;
  const auto now = stat_ok ? static_cast<std::size_t>(info.st_size) : map_size_;
  const bool written = stat_ok && (info.st_mtim.tv_sec != modified_.tv_sec || info.st_mtim.tv_nsec != modified_.tv_nsec);
  if (!faulted && now == map_size_ && !written) return;
  const std::string how = now != map_size_ || faulted ? std::to_string(map_size_) + " bytes when opened, " +
                                                            std::to_string(now) + " now"
                                                      : "written to as it was read";
  throw InputError(path_ + ": the file changed while it was read (" + how +
                   "); read it again once nothing is writing to it");
}

// The buffer is an anonymous mapping grown by mremap: the kernel moves the
// pages instead of copying them, so reading N bytes holds N bytes (a
// doubling vector would hold 3N while it copies).
void MappedFile::grow_buffer(std::size_t at_least) {
  const std::size_t page = static_cast<std::size_t>(g_page);
  const std::size_t size = (std::max(at_least, buffer_size_ * 2) + page - 1) / page * page;
  void* p = buffer_ == nullptr ? ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
                               : ::mremap(buffer_, buffer_size_, size, MREMAP_MAYMOVE);
  if (p == MAP_FAILED) {
    char mb[32];
    std::snprintf(mb, sizeof mb, "%.1f", static_cast<double>(buffer_size_) / 1e6);
    throw InputError(path_ + ": not enough memory to hold the input read so far (" + mb +
                     " MB); save it to a file, which is read in place");
  }
  buffer_ = static_cast<char*>(p);
  buffer_size_ = size;
}

// Reads until end of file (the size, when known, is only a hint: a pipe has
// none and a file may grow while it is read), checking each piece as it
// arrives: see the class comment.
void MappedFile::read_all(int fd, std::size_t size_hint) {
  grow_buffer(size_hint > 0 ? std::min(size_hint + 1, kMaxStreamedBytes + 1) : std::size_t{1} << 16);  // +1: the read that proves EOF
  std::size_t used = 0;
  std::size_t line_start = 0;  // where the current line began
  for (;;) {
    if (used == buffer_size_) grow_buffer(std::min(buffer_size_ * 2, kMaxStreamedBytes + 1));
    const std::size_t room = std::min(buffer_size_, kMaxStreamedBytes + 1) - used;
    const ::ssize_t got = ::read(fd, buffer_ + used, room);
    if (got == 0) break;
    if (got < 0) {
      if (errno == EINTR) continue;
      throw InputError(system_error(path_, "cannot read file"));
    }
    const char* piece = buffer_ + used;
    const auto n = static_cast<std::size_t>(got);
    used += n;
    // A NUL: binary (or UTF-16).  The parser names its line and field;
    // nothing after it is read.
    if (const void* nul = std::memchr(piece, '\0', n)) {
      used = static_cast<std::size_t>(static_cast<const char*>(nul) - buffer_) + 1;
      break;
    }
    if (used > kMaxStreamedBytes)
      throw InputError(path_ + ": more than " + std::to_string(kMaxStreamedBytes >> 30) +
                       " GiB read from a pipe or device, the most a streamed input may have (it is held in memory "
                       "whole); save it to a file, which is read in place at any size");
    for (std::size_t i = n; i > 0; --i)
      if (piece[i - 1] == '\n' || piece[i - 1] == '\r') {
        line_start = used - n + i;
        break;
      }
    if (used - line_start > kMaxStreamedLineBytes) {
      std::size_t line = 1;
      for (std::size_t i = 0; i < line_start; ++i)
        line += buffer_[i] == '\n' || (buffer_[i] == '\r' && (i + 1 == line_start || buffer_[i + 1] != '\n'));
      throw InputError(path_ + ":" + std::to_string(line) + ":1: expected a line break within " +
                       std::to_string(kMaxStreamedLineBytes >> 20) +
                       " MiB, found none (is this a CSV table?); a file (not a pipe) may have longer lines");
    }
  }
  text_ = std::string_view(buffer_, used);
}

}  // namespace archetype
