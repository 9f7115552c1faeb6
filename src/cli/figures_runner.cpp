#include "cli/figures_runner.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "archetype/error.hpp"
#include "io/install_paths.hpp"
#include "study/text_table.hpp"

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

double figures_timeout_seconds() {
  const char* env = std::getenv("ARCHETYPE_FIGURES_TIMEOUT");
  if (env == nullptr || *env == '\0') return kFiguresTimeoutSeconds;
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(env, &end);
  if (end == env || *end != '\0' || errno != 0 || !std::isfinite(v) || v < 0.0 || v > 86400.0)
    throw InputError(std::string("ARCHETYPE_FIGURES_TIMEOUT=") + env +
                     ": expected seconds, from 0 (no limit) to 86400");
  return v;
}

FiguresHelper::FiguresHelper(const std::string& dir)
    : timeout_(figures_timeout_seconds()), dir_(dir), python_(python()), script_(script_path()) {
  if (fs::exists(script_)) child_.emplace(std::vector<std::string>{python_, script_, dir_, "--wait"}, true);
}

FiguresOutcome FiguresHelper::draw(const NoticeFn& notice) {
  FiguresOutcome out;
  if (!child_) {
    notice("figures skipped: " + script_ + " not found (set ARCHETYPE_SCRIPTS_DIR)");
    return out;
  }
  // One Python start: the script itself says (exit 3) when it cannot import
  // matplotlib or numpy, instead of a separate probe (0.2-0.4 s).
  constexpr int kNoLibraries = 3;  // EXIT_NO_LIBRARIES in scripts/figures.py
  child_->send("go\n");
  if (const ChildOutcome r = child_->wait(timeout_); r.timed_out) {
    // A hung import (seen under memory limits) or a huge drawing: the run
    // goes on without figures rather than never ending.
    notice("figures skipped: the figure script was still running after " + format_fixed(timeout_, 0) +
           " s and was stopped (ARCHETYPE_FIGURES_TIMEOUT=SECONDS changes the limit, 0 removes it)");
    return out;
  } else if (!r.started || r.exit_code == kNoLibraries) {
    notice("figures skipped: " + python_ + " lacks matplotlib/numpy; install them with "
           "`sudo apt-get install python3-matplotlib python3-numpy` (or pass --no-figures)");
    return out;
  } else if (r.exit_code != 0) {
    notice("figures failed: " + r.last_line);
  } else {
    out.ran = true;
  }
  for (const std::string& name : figure_names())
    if (fs::exists(fs::path(dir_) / "figures" / (name + ".png"))) out.produced.insert(name);
  return out;
}

}  // namespace archetype
