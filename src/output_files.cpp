#include "output_files.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "archetype/error.hpp"

namespace archetype {
namespace fs = std::filesystem;

OutputFiles::OutputFiles(std::string dir) : dir_(std::move(dir)) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec || !fs::is_directory(dir_))
    throw InputError(dir_ + ": cannot create the output directory (" + ec.message() + ")");
}

OutputFiles::~OutputFiles() {
  for (const auto& [tmp, final_path] : staged_) std::remove(tmp.c_str());
}

void OutputFiles::stage(const std::string& name, const std::string& content) {
  const std::string final_path = (fs::path(dir_) / name).string();
  const std::string tmp = final_path + ".tmp-" + std::to_string(::getpid());
  staged_.emplace_back(tmp, final_path);
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw InputError(tmp + ": cannot write (" + std::strerror(errno) + ")");
  const bool ok = std::fwrite(content.data(), 1, content.size(), f) == content.size();
  const int err = errno;
  const bool closed = std::fclose(f) == 0;
  if (!ok || !closed) throw InputError(tmp + ": write failed (" + std::strerror(ok ? errno : err) + ")");
}

void OutputFiles::stage_stream(const std::string& name,
                               const std::function<void(const std::function<void(const std::string&)>&)>& produce) {
  const std::string final_path = (fs::path(dir_) / name).string();
  const std::string tmp = final_path + ".tmp-" + std::to_string(::getpid());
  staged_.emplace_back(tmp, final_path);
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw InputError(tmp + ": cannot write (" + std::strerror(errno) + ")");
  bool ok = true;
  int err = 0;
  produce([&](const std::string& piece) {
    if (ok && std::fwrite(piece.data(), 1, piece.size(), f) != piece.size()) {
      ok = false;
      err = errno;
    }
  });
  const bool closed = std::fclose(f) == 0;
  if (!ok || !closed) throw InputError(tmp + ": write failed (" + std::strerror(ok ? errno : err) + ")");
}

std::vector<std::string> OutputFiles::commit() {
  std::vector<std::string> paths;
  for (const auto& [tmp, final_path] : staged_) {
    if (std::rename(tmp.c_str(), final_path.c_str()) != 0)
      throw InputError(final_path + ": cannot rename into place (" + std::strerror(errno) + ")");
    paths.push_back(final_path);
  }
  staged_.clear();
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
