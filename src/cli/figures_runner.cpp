#include "cli/figures_runner.hpp"

#include <cstdlib>
#include <filesystem>

#include "cli/child_process.hpp"
#include "io/install_paths.hpp"

namespace archetype {
namespace {

namespace fs = std::filesystem;

/// $ARCHETYPE_PYTHON, else Debian's /usr/bin/python3 (where apt installs
/// matplotlib), else python3 on PATH.
std::string python() {
  if (const char* env = std::getenv("ARCHETYPE_PYTHON"); env && *env) return env;
  if (fs::exists("/usr/bin/python3")) return "/usr/bin/python3";
  return "python3";
}

std::string script_path() { return (fs::path(scripts_dir()) / "figures.py").string(); }

}  // namespace

const std::set<std::string>& figure_names() {
  static const std::set<std::string> names = {"distributions", "model_selection", "segmentation", "silhouette",
                                              "persona_profile"};
  return names;
}

FiguresOutcome run_figures_script(const std::string& dir, const NoticeFn& notice) {
  FiguresOutcome out;
  const std::string py = python(), script = script_path();
  if (!fs::exists(script)) {
    notice("figures skipped: " + script + " not found (set ARCHETYPE_SCRIPTS_DIR)");
    return out;
  }
  // One Python start: the script itself says (exit 3) when it cannot import
  // matplotlib or numpy, instead of a separate probe (0.2-0.4 s).
  constexpr int kNoLibraries = 3;  // EXIT_NO_LIBRARIES in scripts/figures.py
  if (const ChildOutcome r = run_child({py, script, dir}); !r.started || r.exit_code == kNoLibraries) {
    notice("figures skipped: " + py + " lacks matplotlib/numpy; install them with "
           "`sudo apt-get install python3-matplotlib python3-numpy` (or pass --no-figures)");
    return out;
  } else if (r.exit_code != 0) {
    notice("figures failed: " + r.last_line);
  } else {
    out.ran = true;
  }
  for (const std::string& name : figure_names())
    if (fs::exists(fs::path(dir) / "figures" / (name + ".png"))) out.produced.insert(name);
  return out;
}

}  // namespace archetype
