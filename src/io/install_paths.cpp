#include "io/install_paths.hpp"

#include <cstdlib>
#include <filesystem>

namespace archetype {
namespace {

namespace fs = std::filesystem;

/// <binary>/../share/archetype/<what>, when the binary is installed.
std::string installed(const char* what) {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  const fs::path dir = exe.parent_path().parent_path() / "share" / "archetype" / what;
  return fs::is_directory(dir, ec) ? dir.string() : std::string();
}

std::string resolve(const char* env, const char* what, const char* source) {
  if (const char* v = std::getenv(env); v && *v) return v;
  if (std::string dir = installed(what); !dir.empty()) return dir;
  return source;
}

}  // namespace

std::string data_dir() { return resolve("ARCHETYPE_DATA_DIR", "data", ARCHETYPE_SOURCE_DATA_DIR); }

std::string scripts_dir() { return resolve("ARCHETYPE_SCRIPTS_DIR", "scripts", ARCHETYPE_SOURCE_SCRIPTS_DIR); }

}  // namespace archetype
