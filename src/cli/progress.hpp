// Progress on stderr for long runs: one line rewritten in place, only when
// stderr is a terminal and --quiet is off (the CLI decides).
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

namespace archetype {

class Progress {
 public:
  explicit Progress(bool enabled) : enabled_(enabled), t0_(std::chrono::steady_clock::now()) {}
  ~Progress() { done(); }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  /// "stage: detail", with the elapsed time and, when rows > 0, the rows
  /// processed per second so far.
  void update(const std::string& stage, const std::string& detail, double rows_done = 0.0) {
    if (!enabled_) return;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
    char rate[64] = "";
    if (rows_done > 0.0 && s > 0.0) std::snprintf(rate, sizeof rate, ", %.1f M rows/s", rows_done / s / 1e6);
    std::fprintf(stderr, "\r\033[K[archetype] %s: %s (%.1f s%s)", stage.c_str(), detail.c_str(), s, rate);
    std::fflush(stderr);
    shown_ = true;
  }
  /// Ends the progress line.
  void done() {
    if (enabled_ && shown_) std::fprintf(stderr, "\r\033[K");
    shown_ = false;
  }

 private:
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace archetype
