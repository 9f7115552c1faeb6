#include "figures_runner.hpp"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace archetype {
namespace {

namespace fs = std::filesystem;

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

/// $ARCHETYPE_PYTHON, else Debian's /usr/bin/python3 (where apt installs
/// matplotlib), else python3 on PATH.
std::string python() {
  if (const char* env = std::getenv("ARCHETYPE_PYTHON"); env && *env) return env;
  if (fs::exists("/usr/bin/python3")) return "/usr/bin/python3";
  return "python3";
}

std::string script_path() {
  if (const char* env = std::getenv("ARCHETYPE_SCRIPTS_DIR"); env && *env) return (fs::path(env) / "figures.py").string();
  return (fs::path(ARCHETYPE_SOURCE_SCRIPTS_DIR) / "figures.py").string();
}

/// Runs a shell command, returns its exit status and its last output line.
int run(const std::string& cmd, std::string& last_line) {
  std::FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return -1;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p)) {
    std::string line(buf);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    if (!line.empty()) last_line = line;
  }
  const int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

const std::set<std::string>& figure_names() {
  static const std::set<std::string> names = {"distributions", "model_selection", "segmentation", "silhouette",
                                              "persona_profile"};
  return names;
}

FiguresOutcome run_figures_script(const std::string& out_dir, const NoticeFn& notice) {
  FiguresOutcome out;
  const std::string py = python(), script = script_path();
  std::string line;
  if (!fs::exists(script)) {
    notice("figures skipped: " + script + " not found (set ARCHETYPE_SCRIPTS_DIR)");
    return out;
  }
  if (run(quote(py) + " -c 'import matplotlib, numpy'", line) != 0) {
    notice("figures skipped: " + py + " lacks matplotlib/numpy; install them with "
           "`sudo apt-get install python3-matplotlib python3-numpy` (or pass --no-figures)");
    return out;
  }
  if (run(quote(py) + " " + quote(script) + " " + quote(out_dir), line) != 0) {
    notice("figures failed: " + line);
  } else {
    out.ran = true;
  }
  for (const std::string& name : figure_names())
    if (fs::exists(fs::path(out_dir) / "figures" / (name + ".png"))) out.produced.insert(name);
  return out;
}

}  // namespace archetype
