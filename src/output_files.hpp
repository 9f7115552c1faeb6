// Writing results without ever leaving a half-written file: every file is
// staged under a temporary name in the output directory and renamed into
// place only after all of them have been written (rename within one
// directory is atomic on POSIX).  If anything fails, or the object is
// destroyed before commit(), the staged files are removed.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace archetype {

class OutputFiles {
 public:
  explicit OutputFiles(std::string dir);
  ~OutputFiles();
  OutputFiles(const OutputFiles&) = delete;
  OutputFiles& operator=(const OutputFiles&) = delete;

  /// Stages `content` as `name` (a plain file name inside the directory).
  void stage(const std::string& name, const std::string& content);
  /// Stages `name` from pieces that `produce` passes to its argument in
  /// order, so a large file never has to exist whole in memory.
  void stage_stream(const std::string& name,
                    const std::function<void(const std::function<void(const std::string&)>&)>& produce);
  /// Renames every staged file into place; returns their final paths.
  std::vector<std::string> commit();

 private:
  std::string dir_;
  std::vector<std::pair<std::string, std::string>> staged_;  // temp path, final path
};

/// RFC 4180 quoting of one CSV field (only when needed).
std::string csv_field(const std::string& s);

}  // namespace archetype
